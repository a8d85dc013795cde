// Mines RepoBench-style tasks from the dev-set sources: the cursor sits at the
// start of a line that uses a symbol imported from another file of the same
// repository; that line is blanked for the ranker; gold = the symbol's
// definition (file + line). Deterministic: files and usages are sampled with a
// fixed seed. Usage: node --import tsx scripts/devset/mine.ts [--out DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { RUST_CRATES, SOURCES, type RepoSource } from './sources';
import { fnv1a, rng } from '../../src/core/rank/text';

export interface Task {
  id: string;
  repo: string;
  language: string;
  split: 'tune' | 'report';
  /** File with the cursor (relative to the repo root). */
  path: string;
  /** 1-based line that uses the symbol; blanked in the task. */
  line: number;
  symbol: string;
  gold: { path: string; line: number };
}

export interface DevRepo extends RepoSource {
  /** Absolute folder. */
  abs: string;
  files: number;
}

export interface DevSet {
  seed: number;
  repos: DevRepo[];
  tasks: Task[];
}

export const SEED = 1729;
const MAX_TASKS_PER_REPO = 40;
const MAX_TASKS_PER_FILE = 2;
const MAX_FILES = 600;
const EXT: Record<string, string[]> = {
  typescript: ['.ts'],
  javascript: ['.js', '.mjs', '.cjs'],
  python: ['.py'],
  go: ['.go'],
  rust: ['.rs'],
  java: ['.java'],
};

function walk(root: string, exts: string[], out: string[] = [], dir = root): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    if (n === 'node_modules' || n.startsWith('.') || n === 'testdata' || n === 'tests' || n === 'test' || n === 'benches' || n === 'examples') continue;
    const p = join(dir, n);
    const st = statSync(p);
    if (st.isDirectory()) walk(root, exts, out, p);
    else if (exts.some((e) => n.endsWith(e)) && !n.endsWith('.d.ts') && !n.endsWith('_test.go') && st.size < 200_000) out.push(relative(root, p).split('\\').join('/'));
  }
  return out;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;
const esc = (s: string) => s.replace(/[$]/g, '\\$');

interface Import {
  local: string;
  name: string;
  target: string[]; // candidate files (relative) that may define `name`
  endLine: number;
  /** Go: usages are `local.Name`; the mined symbol is any exported Name defined in `target`. */
  qualified?: boolean;
}

function firstExisting(files: Set<string>, cands: string[]): string[] {
  for (const c of cands) if (files.has(c)) return [c];
  return [];
}

function splitNames(list: string, sep: RegExp): Array<{ name: string; local: string }> {
  return list
    .replace(/\/\/.*$/gm, '')
    .replace(/[(){}]/g, '')
    .split(',')
    .map((s) => s.trim().replace(/^type\s+/, ''))
    .filter((s) => s && s !== '*' && !s.startsWith('...'))
    .map((s) => {
      const [name, local] = s.split(sep).map((x) => x.trim());
      return { name, local: local || name };
    })
    .filter((x) => /^[A-Za-z_$][\w$]*$/.test(x.name) && /^[A-Za-z_$][\w$]*$/.test(x.local));
}

function importsOf(repo: DevRepo, path: string, text: string, files: Set<string>): Import[] {
  const out: Import[] = [];
  const dir = posix.dirname(path);
  switch (repo.language) {
    case 'typescript':
    case 'javascript': {
      const resolveJs = (spec: string) => {
        if (!spec.startsWith('.')) return [];
        const base = posix.normalize(posix.join(dir, spec));
        const noJs = base.replace(/\.(m|c)?js$/, '');
        return firstExisting(files, [base, ...['.ts', '.js', '.mjs', '.cjs'].map((e) => noJs + e), `${base}/index.ts`, `${base}/index.js`]);
      };
      for (const m of text.matchAll(/^\s*import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/gm)) {
        for (const n of splitNames(m[1], /\s+as\s+/)) out.push({ ...n, target: resolveJs(m[2]), endLine: lineOf(text, m.index + m[0].length) });
      }
      for (const m of text.matchAll(/^\s*(?:const|let|var)\s*\{([^}]*)\}\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
        for (const n of splitNames(m[1], /\s*:\s*/)) out.push({ ...n, target: resolveJs(m[2]), endLine: lineOf(text, m.index + m[0].length) });
      }
      break;
    }
    case 'python': {
      for (const m of text.matchAll(/^from\s+(\.+[\w.]*|[\w.]+)\s+import\s+(\([^)]*\)|[^\n]+)/gm)) {
        const spec = m[1];
        let modPath: string | undefined;
        if (spec.startsWith('.')) {
          const dots = /^\.+/.exec(spec)![0].length;
          let up = dir;
          for (let i = 1; i < dots; i++) up = posix.dirname(up);
          modPath = posix.normalize(posix.join(up, spec.slice(dots).replace(/\./g, '/')));
        } else if (spec.split('.')[0] === repo.pyPackage) {
          modPath = spec.split('.').slice(1).join('/') || '.';
        }
        if (modPath === undefined) continue;
        const target = firstExisting(files, [`${modPath}.py`, posix.normalize(`${modPath}/__init__.py`)]);
        for (const n of splitNames(m[2].replace(/\\\n/g, ' '), /\s+as\s+/)) out.push({ ...n, target, endLine: lineOf(text, m.index + m[0].length) });
      }
      break;
    }
    case 'go': {
      const entries: Array<{ alias?: string; path: string; end: number }> = [];
      for (const m of text.matchAll(/^import\s*\(([\s\S]*?)\)/gm)) {
        const end = lineOf(text, m.index + m[0].length);
        for (const e of m[1].matchAll(/^\s*(?:([\w.]+)\s+)?"([^"]+)"/gm)) entries.push({ alias: e[1], path: e[2], end });
      }
      for (const m of text.matchAll(/^import\s+(?:([\w.]+)\s+)?"([^"]+)"/gm)) entries.push({ alias: m[1], path: m[2], end: lineOf(text, m.index + m[0].length) });
      const prefix = repo.goImportPath!;
      for (const e of entries) {
        if (e.path !== prefix && !e.path.startsWith(prefix + '/')) continue;
        if (e.alias === '_' || e.alias === '.') continue;
        const sub = e.path.slice(prefix.length + 1);
        const target = [...files].filter((f) => posix.dirname(f) === (sub || '.') && f.endsWith('.go'));
        if (!target.length || target.includes(path)) continue;
        let local = e.alias;
        if (!local) {
          const pk = /^package\s+(\w+)/m.exec(readFileSync(join(repo.abs, target[0]), 'utf8'));
          local = pk ? pk[1] : e.path.split('/').pop()!;
        }
        out.push({ local, name: '', target, endLine: e.end, qualified: true });
      }
      break;
    }
    case 'rust': {
      const srcAt = path.lastIndexOf('src/') >= 0 ? path.slice(0, path.lastIndexOf('src/') + 4) : path.startsWith('src/') ? 'src/' : '';
      // Module path of this file.
      const rel = path.slice(srcAt.length).replace(/\.rs$/, '');
      let mod = rel.split('/');
      if (['lib', 'main', 'mod'].includes(mod[mod.length - 1])) mod = mod.slice(0, -1);
      for (const m of text.matchAll(/^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+((?:crate|super|self)(?:::\w+)*)::(\{[^{}]*\}|\w+)\s*;/gm)) {
        const segs = m[1].split('::');
        let base: string[];
        if (segs[0] === 'crate') base = [];
        else if (segs[0] === 'super') base = mod.slice(0, -1);
        else base = mod;
        let i = 1;
        while (segs[i] === 'super') {
          base = base.slice(0, -1);
          i++;
        }
        const modSegs = [...base, ...segs.slice(i)];
        const p = srcAt + modSegs.join('/');
        const target = modSegs.length ? firstExisting(files, [`${p}.rs`, `${p}/mod.rs`]) : firstExisting(files, [`${srcAt}lib.rs`, `${srcAt}main.rs`]);
        for (const n of splitNames(m[2], /\s+as\s+/)) if (n.name !== 'self') out.push({ ...n, target, endLine: lineOf(text, m.index + m[0].length) });
      }
      break;
    }
    case 'java': {
      for (const m of text.matchAll(/^import\s+([\w.]+)\.([A-Z]\w*)\s*;/gm)) {
        const target = firstExisting(files, [`${m[1].replace(/\./g, '/')}/${m[2]}.java`]);
        out.push({ local: m[2], name: m[2], target, endLine: lineOf(text, m.index + m[0].length) });
      }
      break;
    }
  }
  return out.filter((i) => i.target.length && !i.target.includes(path));
}

/** 1-based line where `name` is defined in `text`, or 0. */
export function definitionLine(language: string, text: string, name: string): number {
  const n = esc(name);
  const res: Record<string, RegExp[]> = {
    typescript: [
      new RegExp(`^\\s*export\\s+(?:default\\s+)?(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:function\\*?|class|interface|type|enum|const|let|var|namespace)\\s+${n}\\b`, 'm'),
      new RegExp(`^(?:async\\s+)?(?:function\\*?|class|const|let|var)\\s+${n}\\b`, 'm'),
    ],
    python: [new RegExp(`^(?:async\\s+)?(?:def|class)\\s+${n}\\b`, 'm'), new RegExp(`^${n}\\s*(?::[^=\\n]+)?=`, 'm')],
    rust: [
      new RegExp(`^\\s*(?:pub(?:\\([^)]*\\))?\\s+)?(?:async\\s+)?(?:unsafe\\s+)?(?:const\\s+)?(?:fn|struct|enum|trait|type|const|static|union|mod)\\s+${n}\\b`, 'm'),
      new RegExp(`^\\s*macro_rules!\\s*${n}\\b`, 'm'),
    ],
    java: [new RegExp(`^\\s*(?:(?:public|protected|private|abstract|final|static|sealed|non-sealed|strictfp)\\s+)*(?:class|interface|enum|record|@interface)\\s+${n}\\b`, 'm')],
  };
  res.javascript = res.typescript;
  if (language === 'go') {
    const lines = text.split('\n');
    let block = false;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      if (/^(const|var|type)\s*\($/.test(l)) block = true;
      else if (block && /^\)/.test(l)) block = false;
      else if (new RegExp(`^(?:func|type|var|const)\\s+${n}\\b`).test(l) || (block && new RegExp(`^\\t${n}\\b`).test(l))) return i + 1;
    }
    return 0;
  }
  for (const re of res[language] ?? []) {
    const m = re.exec(text);
    if (m) return lineOf(text, m.index + (m[0].length - m[0].trimStart().length));
  }
  return 0;
}

const COMMENT = /^\s*(\/\/|#|\*|\/\*)/;

export interface MineCaps {
  perRepo: number;
  perFile: number;
}

export function mineRepo(repo: DevRepo, rand: () => number, caps: MineCaps = { perRepo: MAX_TASKS_PER_REPO, perFile: MAX_TASKS_PER_FILE }): Task[] {
  const files = walk(repo.abs, EXT[repo.language]).slice(0, MAX_FILES);
  repo.files = files.length;
  const fileSet = new Set(files);
  const texts = new Map<string, string>();
  const textOf = (p: string) => {
    let t = texts.get(p);
    if (t === undefined) texts.set(p, (t = readFileSync(join(repo.abs, p), 'utf8')));
    return t;
  };
  const cands: Task[][] = [];
  for (const path of files) {
    const text = textOf(path);
    const lines = text.split('\n');
    const perFile: Task[] = [];
    for (const imp of importsOf(repo, path, text, fileSet)) {
      // Usage lines after the imports.
      const usages: Array<{ line: number; symbol: string; gold: { path: string; line: number } }> = [];
      const re = imp.qualified ? new RegExp(`\\b${esc(imp.local)}\\.([A-Z]\\w*)`, 'g') : new RegExp(`(?<![\\w$.])${esc(imp.local)}(?![\\w$])`);
      for (let i = imp.endLine; i < lines.length; i++) {
        const l = lines[i];
        if (COMMENT.test(l) || /^\s*(import|from|use|package)\b/.test(l) || l.length > 300) continue;
        if (imp.qualified) {
          const m = [...l.matchAll(re as RegExp)][0];
          if (!m) continue;
          for (const t of imp.target) {
            const dl = definitionLine('go', textOf(t), m[1]);
            if (dl) {
              usages.push({ line: i + 1, symbol: m[1], gold: { path: t, line: dl } });
              break;
            }
          }
        } else if (re.test(l)) {
          const dl = definitionLine(repo.language, textOf(imp.target[0]), imp.name);
          if (dl) usages.push({ line: i + 1, symbol: imp.local, gold: { path: imp.target[0], line: dl } });
        }
      }
      if (!usages.length) continue;
      const u = usages[Math.floor(rand() * usages.length)];
      perFile.push({ id: '', repo: repo.name, language: repo.language, split: repo.split, path, line: u.line, symbol: u.symbol, gold: u.gold });
    }
    // At most N per file, distinct lines.
    perFile.sort((a, b) => fnv1a(`${a.symbol}@${a.line}`) - fnv1a(`${b.symbol}@${b.line}`));
    const kept: Task[] = [];
    for (const t of perFile) if (kept.length < caps.perFile && !kept.some((k) => k.line === t.line)) kept.push(t);
    if (kept.length) cands.push(kept);
  }
  // Deterministic shuffle of files, then take tasks round-robin up to the cap.
  for (let i = cands.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [cands[i], cands[j]] = [cands[j], cands[i]];
  }
  const out: Task[] = [];
  for (const group of cands) for (const t of group) if (out.length < caps.perRepo) out.push(t);
  out.forEach((t) => (t.id = `${repo.name}:${t.path}:${t.line}`));
  return out;
}

function extractJdk(repo: RepoSource, repoRoot: string): string {
  const dest = resolve(repoRoot, repo.root);
  if (existsSync(dest) && readdirSync(dest).length) return dest;
  const zip = '/usr/lib/jvm/openjdk-17/lib/src.zip';
  if (!existsSync(zip)) throw new Error(`${zip} missing: apt-get install openjdk-17-source`);
  const tmp = `${dest}.tmp`;
  mkdirSync(tmp, { recursive: true });
  const py = `import zipfile,sys,os
z=zipfile.ZipFile(sys.argv[1]); out=sys.argv[2]; pre=sys.argv[3:]
for n in z.namelist():
  for p in pre:
    if n.startswith(p) and n.endswith('.java'):
      mod=n.split('/',1)[1]; t=os.path.join(out,mod); os.makedirs(os.path.dirname(t),exist_ok=True)
      open(t,'wb').write(z.read(n))`;
  execFileSync('python3', ['-c', py, zip, tmp, ...(repo.zipPrefixes ?? [])]);
  execFileSync('mv', [tmp, dest]);
  return dest;
}

export function resolveSources(repoRoot: string): DevRepo[] {
  const repos: DevRepo[] = [];
  for (const s of SOURCES) {
    const abs = s.language === 'java' ? extractJdk(s, repoRoot) : resolve(repoRoot, s.root);
    if (!existsSync(abs)) {
      console.warn(`[devset] skipping ${s.name}: ${abs} not installed`);
      continue;
    }
    repos.push({ ...s, abs, files: 0 });
  }
  const reg = '/usr/share/cargo/registry';
  const crates = existsSync(reg) ? readdirSync(reg).sort() : [];
  for (const c of RUST_CRATES) {
    const dir = crates.find((d) => d.startsWith(c.prefix));
    if (!dir || !existsSync(join(reg, dir, 'src'))) {
      console.warn(`[devset] skipping rust crate ${c.prefix}*: not installed`);
      continue;
    }
    repos.push({ name: `rs-${dir}`, language: 'rust', root: join(reg, dir), split: c.split, abs: join(reg, dir), files: 0 });
  }
  return repos;
}

export function mineDevSet(repoRoot: string): DevSet {
  const repos = resolveSources(repoRoot);
  const tasks: Task[] = [];
  for (const r of repos) {
    const t = mineRepo(r, rng(SEED ^ fnv1a(r.name)));
    console.log(`[devset] ${r.name.padEnd(28)} ${r.language.padEnd(10)} ${r.split.padEnd(6)} files=${String(r.files).padStart(4)} tasks=${t.length}`);
    tasks.push(...t);
  }
  return { seed: SEED, repos, tasks };
}

/**
 * More usage→definition pairs for training, from the tune repositories only
 * (same rules, larger caps, its own seed); never from report repositories.
 */
export function mineTrainingTasks(ds: DevSet, caps: MineCaps, seed = SEED + 1): Task[] {
  const out: Task[] = [];
  for (const r of ds.repos) if (r.split === 'tune') out.push(...mineRepo({ ...r }, rng(seed ^ fnv1a(r.name)), caps));
  return out;
}

export function devSetPath(repoRoot: string): string {
  return join(repoRoot, 'bench/devset/devset.json');
}

/** Loads the dev set, mining it first when missing (or when `rebuild`). */
export function loadDevSet(repoRoot: string, rebuild = false): DevSet {
  const p = devSetPath(repoRoot);
  if (!rebuild && existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as DevSet;
  const ds = mineDevSet(repoRoot);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, JSON.stringify(ds));
  return ds;
}

if (require.main === module) {
  const root = resolve(__dirname, '../..');
  const ds = loadDevSet(root, true);
  const by = new Map<string, number>();
  for (const t of ds.tasks) by.set(`${t.language}/${t.split}`, (by.get(`${t.language}/${t.split}`) ?? 0) + 1);
  console.log(`[devset] ${ds.tasks.length} tasks`, Object.fromEntries([...by].sort()));
}
