// Resolves import specifiers (extracted by the syntax layer) to workspace files.
// Relative imports resolve exactly; module paths resolve by path suffix, which
// works for Python packages, Go packages, Java classes and Rust modules without
// reading build files.
import { posix } from 'node:path';
import { ChainedMap } from '../chainedMap';

/** A group of paths: one path alone (most file names are unique), or a set. */
type PathGroup = string | Set<string>;

function addTo(map: ChainedMap<string, PathGroup>, key: string, path: string): void {
  const g = map.get(key);
  if (g === undefined) map.set(key, path);
  else if (typeof g === 'string') {
    if (g !== path) map.set(key, new Set([g, path]));
  } else g.add(path);
}

function deleteFrom(map: ChainedMap<string, PathGroup>, key: string, path: string): void {
  const g = map.get(key);
  if (g === path) map.delete(key);
  else if (typeof g === 'object') {
    g.delete(path);
    if (g.size === 1) map.set(key, g.values().next().value as string);
  }
}

const members = (g: PathGroup | undefined): Iterable<string> => (g === undefined ? [] : typeof g === 'string' ? [g] : g);

/**
 * Fast lookups over the set of indexed paths. A workspace of 100,000 files has
 * about as many distinct file names: a name or folder with one path keeps the
 * path itself, not a set of one (≈200 bytes each).
 */
export class FileLookup {
  // Chained: these grow with the workspace, and a plain Map's growth rehashes all of it in one turn (chainedMap.ts).
  private readonly paths = new ChainedMap<string, true>();
  /** file name without extension → paths */
  private readonly byStem = new ChainedMap<string, PathGroup>();
  /** folder → paths directly inside */
  private readonly byDir = new ChainedMap<string, PathGroup>();

  add(path: string): void {
    if (this.paths.has(path)) return;
    this.paths.set(path, true);
    addTo(this.byStem, stemOf(path), path);
    addTo(this.byDir, posix.dirname(path), path);
  }

  delete(path: string): void {
    if (!this.paths.delete(path)) return;
    deleteFrom(this.byStem, stemOf(path), path);
    deleteFrom(this.byDir, posix.dirname(path), path);
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }

  hasStem(stem: string): boolean {
    return this.byStem.has(stem);
  }

  hasDir(dir: string): boolean {
    return this.byDir.has(dir);
  }

  withStem(stem: string): Iterable<string> {
    return members(this.byStem.get(stem));
  }

  inDir(dir: string): Iterable<string> {
    return members(this.byDir.get(dir));
  }

  dirs(): Iterable<string> {
    return this.byDir.keys();
  }
}

function stemOf(path: string): string {
  const base = posix.basename(path);
  const dot = base.indexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

const JS_EXTS = ['.ts', '.tsx', '.d.ts', '.js', '.jsx', '.mjs', '.cjs', '.mts', '.cts'];

function firstExisting(files: FileLookup, candidates: string[]): string[] {
  for (const c of candidates) if (files.has(c)) return [c];
  return [];
}

/** Paths (with extension) that end with `suffix` (no extension), preferring the closest to `from`. */
function bySuffix(files: FileLookup, suffix: string, exts: string[], from: string): string[] {
  const stem = posix.basename(suffix);
  const hits: string[] = [];
  for (const p of files.withStem(stem)) {
    for (const ext of exts) {
      const want = suffix + ext;
      if (p === want || p.endsWith('/' + want)) hits.push(p);
    }
  }
  // Nearest first: the longest shared folder prefix with the importing file.
  const shared = (p: string) => {
    let i = 0;
    while (i < p.length && i < from.length && p[i] === from[i]) i++;
    return i;
  };
  return hits.sort((a, b) => shared(b) - shared(a)).slice(0, 3);
}

function filesInDirBySuffix(files: FileLookup, dirSuffix: string, ext: string): string[] {
  for (const dir of files.dirs()) {
    if (dir === dirSuffix || dir.endsWith('/' + dirSuffix)) {
      return [...files.inDir(dir)].filter((p) => p.endsWith(ext) && !p.endsWith('_test.go'));
    }
  }
  return [];
}

export function resolveImport(from: string, specifier: string, language: string, files: FileLookup): string[] {
  const dir = posix.dirname(from);
  switch (language) {
    case 'typescript':
    case 'typescriptreact':
    case 'javascript':
    case 'javascriptreact': {
      if (!specifier.startsWith('.')) return [];
      // ('./' and '../' name a folder: no trailing slash, so that its index file is found.)
      const base = posix.normalize(posix.join(dir, specifier)).replace(/(.)\/+$/, '$1');
      const noJs = base.replace(/\.(m|c)?jsx?$/, '');
      // Two map look-ups first: an import that resolves to nothing (a package's
      // deep path, a file not in the index) would otherwise hash 19 fresh strings,
      // for every import of every file, at each rebuild of the import graph.
      const file = files.hasStem(stemOf(base)) || files.hasStem(stemOf(noJs + JS_EXTS[0]));
      const folder = files.hasDir(base);
      if (!file && !folder) return [];
      return firstExisting(files, [
        ...(file ? [base, ...JS_EXTS.map((e) => noJs + e)] : []),
        ...(folder ? JS_EXTS.map((e) => (base === '.' ? `index${e}` : `${base}/index${e}`)) : []),
      ]);
    }
    case 'python': {
      const m = /^(\.*)(.*)$/.exec(specifier)!;
      const dots = m[1].length;
      const mod = m[2].replace(/\./g, '/');
      if (dots > 0) {
        let up = dir;
        for (let i = 1; i < dots; i++) up = posix.dirname(up);
        const base = posix.normalize(posix.join(up, mod));
        return firstExisting(files, [`${base}.py`, `${base}/__init__.py`, `${base}.pyi`]);
      }
      if (!mod) return [];
      const hits = bySuffix(files, mod, ['.py', '.pyi'], from);
      return hits.length ? hits : bySuffix(files, `${mod}/__init__`, ['.py'], from);
    }
    case 'go': {
      // Package path: the last segments name a folder; longest unique match wins.
      const segs = specifier.split('/');
      for (let k = Math.min(segs.length, 4); k >= 1; k--) {
        const hits = filesInDirBySuffix(files, segs.slice(-k).join('/'), '.go');
        if (hits.length) return hits;
      }
      return [];
    }
    case 'java': {
      if (specifier.endsWith('.*')) return filesInDirBySuffix(files, specifier.slice(0, -2).replace(/\./g, '/'), '.java');
      const parts = specifier.replace(/^static\s+/, '').split('.');
      // `a.b.C` or `a.b.C.member` (static import)
      for (let k = parts.length; k >= 2; k--) {
        const hits = bySuffix(files, parts.slice(0, k).join('/'), ['.java'], from);
        if (hits.length) return hits;
      }
      return [];
    }
    case 'rust': {
      let segs = specifier.replace(/[{}*\s]/g, '').split('::').filter(Boolean);
      let base = dir;
      if (segs[0] === 'crate') {
        const srcAt = from.lastIndexOf('src/');
        base = srcAt >= 0 ? from.slice(0, srcAt + 3) : '.';
        segs = segs.slice(1);
      } else if (segs[0] === 'super') {
        base = posix.dirname(dir);
        segs = segs.slice(1);
      } else if (segs[0] === 'self') {
        segs = segs.slice(1);
      }
      for (let k = segs.length; k >= 1; k--) {
        const p = posix.normalize(posix.join(base, ...segs.slice(0, k)));
        const hit = firstExisting(files, [`${p}.rs`, `${p}/mod.rs`]);
        if (hit.length) return hit;
      }
      return [];
    }
    case 'c':
    case 'cpp': {
      const rel = posix.normalize(posix.join(dir, specifier));
      const hit = firstExisting(files, [rel]);
      if (hit.length) return hit;
      const noExt = specifier.replace(/\.(h|hpp|hh|hxx)$/, '');
      const ext = specifier.slice(noExt.length);
      return ext ? bySuffix(files, noExt, [ext], from) : [];
    }
    case 'csharp':
      return filesInDirBySuffix(files, specifier.replace(/\./g, '/'), '.cs');
    default:
      return [];
  }
}
