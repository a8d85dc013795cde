// Where runtime assets (tiktoken WASM, encoder files, grammars, model) live.
// In the bundle they sit next to the JS in dist/; when the sources run directly
// (tests through tsx) they come from node_modules and media/.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

let assetsDir: string | undefined;

/** Overrides the asset folder (the extension passes its own dist folder). */
export function setAssetsDir(dir: string): void {
  assetsDir = dir;
}

function repoRoot(): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'node_modules'))) return dir;
    dir = resolve(dir, '..');
  }
  return undefined;
}

/** Absolute path of a runtime asset, e.g. `encoders/o200k_base.json`. */
export function assetPath(rel: string): string {
  const bundled = join(assetsDir ?? __dirname, rel);
  if (existsSync(bundled)) return bundled;
  const root = repoRoot();
  if (root) {
    const fromSource: Record<string, string> = {
      'tiktoken_bg.wasm': 'node_modules/tiktoken/tiktoken_bg.wasm',
      'web-tree-sitter.wasm': 'node_modules/web-tree-sitter/web-tree-sitter.wasm',
    };
    const candidates = [
      fromSource[rel],
      rel.startsWith('encoders/') ? `node_modules/tiktoken/${rel}` : undefined,
      rel.startsWith('grammars/') ? `node_modules/@vscode/tree-sitter-wasm/wasm/${rel.slice('grammars/'.length)}` : undefined,
      rel.startsWith('model/') ? `media/${rel}` : undefined,
      join('dist', rel),
    ];
    for (const c of candidates) if (c && existsSync(join(root, c))) return join(root, c);
  }
  throw new Error(`Context Budget: runtime asset '${rel}' is missing (looked in ${assetsDir ?? __dirname}). Reinstall the extension or run npm run build.`);
}

/** A bundled worker script (e.g. `indexWorker.js`), or undefined when it is not built (sources run without a build). */
export function workerScriptPath(name: string): string | undefined {
  try {
    return assetPath(name);
  } catch {
    return undefined;
  }
}
