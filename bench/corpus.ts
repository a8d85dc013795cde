// Assembles the benchmark corpus: real JavaScript/TypeScript sources copied from
// the installed npm packages (node_modules) into bench/corpus/ (git-ignored),
// in sorted, deterministic order until both the file and byte targets are met.
// Files over 1 MB, minified bundles (*.min.js) and source maps are left out, as
// the indexer would skip them anyway.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const EXTS = ['.js', '.ts', '.mjs', '.cjs', '.tsx', '.jsx'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', 'out', 'target', 'vendor', 'coverage']);

export interface CorpusInfo {
  dir: string;
  files: number;
  bytes: number;
}

export function assembleCorpus(repoRoot: string, minFiles = 5000, minBytes = 50e6): CorpusInfo {
  const dir = join(repoRoot, 'bench', 'corpus');
  const stamp = join(dir, '.corpus.json');
  if (existsSync(stamp)) {
    const info = JSON.parse(readFileSync(stamp, 'utf8')) as CorpusInfo;
    if (info.files >= minFiles && info.bytes >= minBytes) return { ...info, dir };
  }
  rmSync(dir, { recursive: true, force: true });
  const src = join(repoRoot, 'node_modules');
  let files = 0;
  let bytes = 0;
  walkSources(src, (p, name, size) => {
    if (EXTS.some((e) => name.endsWith(e)) && !name.endsWith('.min.js') && size <= 1024 * 1024 && size > 0) {
      // Folder names the indexer skips by default (dist, build, lib's node_modules...) get a suffix,
      // so the corpus is indexed as the source it is.
      const rel = relative(src, p)
        .split(/[\\/]/)
        .map((seg, i, all) => (i < all.length - 1 && SKIPPED_DIRS.has(seg) ? `${seg}-src` : seg))
        .join('/');
      const out = join(dir, rel);
      mkdirSync(dirname(out), { recursive: true });
      copyFileSync(p, out);
      files++;
      bytes += size;
    }
    return files < minFiles || bytes < minBytes;
  }, { skipDirs: ['.bin', 'corpus'] });
  writeFileSync(stamp, JSON.stringify({ dir, files, bytes }));
  return { dir, files, bytes };
}

/**
 * Walks `root` in sorted (deterministic) order, calling `visit` for each file
 * until it returns false. Skips the `skipDirs` folders and whatever cannot be read.
 */
export function walkSources(
  root: string,
  visit: (path: string, name: string, size: number) => boolean,
  opts: { maxDepth?: number; skipDirs?: readonly string[] } = {},
): void {
  const maxDepth = opts.maxDepth ?? Infinity;
  const skipDirs = new Set(opts.skipDirs ?? []);
  let going = true;
  const walk = (d: string, depth: number): void => {
    if (depth > maxDepth) return;
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (!going) return;
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (!skipDirs.has(name)) walk(p, depth + 1);
      } else if (st.isFile()) {
        going = visit(p, name, st.size);
      }
    }
  };
  walk(root, 0);
}
