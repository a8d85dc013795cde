// Language ids (VS Code's ids where they exist) from file names.
import { basename, extname } from 'node:path';

const byExtension: Record<string, string> = {
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript',
  '.tsx': 'typescriptreact',
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript',
  '.jsx': 'javascriptreact',
  '.py': 'python', '.pyi': 'python',
  '.go': 'go',
  '.java': 'java',
  '.rs': 'rust',
  '.c': 'c', '.h': 'c',
  '.cc': 'cpp', '.cpp': 'cpp', '.cxx': 'cpp', '.hpp': 'cpp', '.hh': 'cpp', '.hxx': 'cpp',
  '.cs': 'csharp',
  '.rb': 'ruby', '.php': 'php', '.sh': 'shellscript', '.bash': 'shellscript',
  '.css': 'css', '.scss': 'scss', '.less': 'less', '.html': 'html', '.htm': 'html', '.vue': 'vue', '.svelte': 'svelte',
  '.json': 'json', '.jsonc': 'jsonc', '.yaml': 'yaml', '.yml': 'yaml', '.toml': 'toml', '.ini': 'ini', '.xml': 'xml',
  '.md': 'markdown', '.markdown': 'markdown', '.rst': 'restructuredtext', '.txt': 'plaintext',
  '.sql': 'sql', '.kt': 'kotlin', '.kts': 'kotlin', '.swift': 'swift', '.scala': 'scala', '.lua': 'lua',
  '.r': 'r', '.dart': 'dart', '.ex': 'elixir', '.exs': 'elixir', '.erl': 'erlang', '.hs': 'haskell', '.ml': 'ocaml',
  '.ps1': 'powershell', '.m': 'objective-c', '.mm': 'objective-cpp', '.zig': 'zig', '.nim': 'nim', '.proto': 'proto3',
};

const byName: Record<string, string> = {
  Dockerfile: 'dockerfile', Makefile: 'makefile', 'CMakeLists.txt': 'cmake', '.gitignore': 'ignore',
};

/** VS Code language id for a path; `plaintext` when unknown. */
export function languageOf(path: string): string {
  const name = basename(path);
  return byName[name] ?? byExtension[extname(name).toLowerCase()] ?? 'plaintext';
}
