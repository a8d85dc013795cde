// Turns dev-set tasks into ranker requests over the real workspace index (with
// the tree-sitter layer): one index per repository, the cursor file's text with
// the task line blanked given to the index as an editor overlay.
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SyntaxChunker } from '../../src/core/chunk/syntax';
import { splitLines } from '../../src/core/chunk/chunker';
import { cursorWindowOfText } from '../../src/core/cursor';
import { WorkspaceIndex } from '../../src/core/index/workspaceIndex';
import { loadTokenizer, type Tokenizer } from '../../src/core/tokens/tokenizer';
import type { Chunk, CursorWindow } from '../../src/core/types';
import type { DevRepo, Task } from './mine';

export const PREFIX_TOKENS = 768;
export const SUFFIX_TOKENS = 256;

export interface RepoIndex {
  repo: DevRepo;
  index: WorkspaceIndex;
  /** Path of a repo-relative file inside the index. */
  prefix: string;
}

let syntax: Promise<SyntaxChunker> | undefined;
let tokenizer: Promise<Tokenizer> | undefined;
export const getTokenizer = () => (tokenizer ??= loadTokenizer('o200k_base'));

const EXTS = /\.(ts|js|mjs|cjs|py|go|rs|java)$/;

function copySources(from: string, to: string): void {
  for (const n of readdirSync(from)) {
    const p = join(from, n);
    const st = statSync(p);
    if (st.isDirectory()) copySources(p, join(to, n));
    else if (EXTS.test(n)) {
      mkdirSync(to, { recursive: true });
      cpSync(p, join(to, n));
    }
  }
}

/**
 * Python and Go import by package path, so the index root must hold the package
 * folder under its own name (as a checkout would): those repos are copied to
 * bench/devset/repos/<name>/<package folder>.
 */
export function indexRootOf(repo: DevRepo, repoRoot: string): { root: string; prefix: string } {
  if (repo.language !== 'python' && repo.language !== 'go') return { root: repo.abs, prefix: '' };
  const root = resolve(repoRoot, 'bench/devset/repos', repo.name);
  const pkg = basename(repo.abs);
  if (!existsSync(join(root, pkg))) copySources(repo.abs, join(root, pkg));
  return { root, prefix: `${pkg}/` };
}

export async function indexRepo(repo: DevRepo, repoRoot: string): Promise<RepoIndex> {
  const { root, prefix } = indexRootOf(repo, repoRoot);
  const s = await (syntax ??= SyntaxChunker.create());
  const index = await WorkspaceIndex.build(root, { encoding: 'o200k_base', syntax: s, maxFileSizeKB: 256 });
  return { repo, index, prefix };
}

export interface PreparedTask {
  task: Task;
  cursor: CursorWindow;
  cursorPath: string;
  goldPath: string;
  blanked: string;
}

/** Blanks the task line in an overlay and computes the cursor window. Call `restore` after ranking. */
export async function prepareTask(ri: RepoIndex, task: Task): Promise<PreparedTask & { restore: () => Promise<void> }> {
  const cursorPath = ri.prefix + task.path;
  const text = ri.index.fileText(cursorPath);
  if (text === undefined) throw new Error(`${cursorPath} not indexed`);
  const lines = splitLines(text);
  lines[task.line - 1] = '';
  const blanked = lines.join('\n');
  ri.index.setOverlay(cursorPath, blanked);
  await ri.index.updateFile(cursorPath, blanked);
  const tok = await getTokenizer();
  const cursor = cursorWindowOfText(cursorPath, blanked, task.line, { prefixTokens: PREFIX_TOKENS, suffixTokens: SUFFIX_TOKENS, tokenizer: tok });
  return {
    task,
    cursor,
    cursorPath,
    goldPath: ri.prefix + task.gold.path,
    blanked,
    restore: async () => {
      ri.index.setOverlay(cursorPath, undefined);
      await ri.index.updateFile(cursorPath, text);
    },
  };
}

export function isGold(p: Pick<PreparedTask, 'goldPath' | 'task'>, c: Pick<Chunk, 'path' | 'startLine' | 'endLine'>): boolean {
  return c.path === p.goldPath && c.startLine <= p.task.gold.line && c.endLine >= p.task.gold.line;
}

export const here = (file: string) => resolve(dirname(file), '..');
