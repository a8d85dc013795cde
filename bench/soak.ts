// `npm run soak`: 10,000 random edits, creates, deletes and renames through the
// incremental path (updateFile / removeFile / renameFile, with editor overlays
// now and then) on a generated workspace; then the index must equal a fresh full
// index of the same disk. Prints PASS or FAIL with the size of the difference.
// Options: --ops N (10000) --files N (1500) --seed S
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SyntaxChunker } from '../src/core/chunk/syntax';
import { WorkspaceIndex } from '../src/core/index/workspaceIndex';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : def);
const OPS = opt('ops', 10_000);
const FILES = opt('files', 1500);
let seed = opt('seed', 7) >>> 0;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'render', 'budget', 'token', 'chunk', 'index', 'score', 'value', 'items', 'price', 'count'];
function genLine(): string {
  const r = rand();
  const a = pick(WORDS);
  const b = pick(WORDS);
  if (r < 0.2) return `export function ${a}${Math.floor(rand() * 1000)}(${b}: number) { return ${b} * 2; }`;
  if (r < 0.3) return `import { ${a} } from './${b}';`;
  if (r < 0.4) return `class ${a[0].toUpperCase()}${a.slice(1)}${Math.floor(rand() * 99)} {`;
  if (r < 0.5) return '}';
  if (r < 0.6) return '';
  if (r < 0.65) return `def ${a}_${b}(x):`;
  return `  const ${a} = ${b}.${pick(WORDS)}(${Math.floor(rand() * 100)});`;
}
const genText = (n: number) => Array.from({ length: n }, genLine).join(rand() < 0.1 ? '\r\n' : '\n');
const EXTS = ['ts', 'ts', 'js', 'py', 'go', 'rs', 'md', 'txt'];

function snapshot(index: WorkspaceIndex): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of index.files()) {
    const r = index.record(f)!;
    out.set(f, JSON.stringify([r.hash, r.language, r.size, r.chunks.map((c) => [c.id, c.hash, c.tokens, c.kind, c.defines, c.uses]), r.imports, [...index.importsOf(f)].sort()]));
  }
  return out;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cb-soak-'));
  const log = (s: string) => console.log(s);
  log(`soak: ${OPS} ops on ${FILES} files; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const paths: string[] = [];
  let nextId = 0;
  const newPath = () => `d${Math.floor(rand() * 30)}/${rand() < 0.3 ? `s${Math.floor(rand() * 5)}/` : ''}f${nextId++}.${pick(EXTS)}`;
  const write = (p: string, text: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  for (let i = 0; i < FILES; i++) {
    const p = newPath();
    write(p, genText(5 + Math.floor(rand() * 150)));
    paths.push(p);
  }
  write('.gitignore', 'ignored/\n*.tmp\n');
  const syntax = await SyntaxChunker.create();
  const t0 = performance.now();
  const index = await WorkspaceIndex.build(root, { encoding: 'o200k_base', syntax, workers: 0 });
  log(`initial index: ${index.fileCount()} files in ${(performance.now() - t0).toFixed(0)} ms`);
  const counts: Record<string, number> = {};
  const t1 = performance.now();
  for (let op = 0; op < OPS; op++) {
    const r = rand();
    let kind: string;
    if (r < 0.45 && paths.length) {
      kind = 'edit';
      const p = pick(paths);
      const lines = readFileSync(join(root, p), 'utf8').split('\n');
      const at = Math.floor(rand() * (lines.length + 1));
      const what = rand();
      if (what < 0.4) lines.splice(at, 0, ...genText(1 + Math.floor(rand() * 5)).split('\n'));
      else if (what < 0.7) lines.splice(at, 1 + Math.floor(rand() * 4));
      else lines[Math.min(at, lines.length - 1)] = genLine();
      const text = lines.join('\n');
      if (rand() < 0.3) {
        // The editor sends the buffer first (unsaved), then the save lands on disk.
        await index.updateFile(p, text);
        write(p, text);
        await index.updateFile(p);
      } else {
        write(p, text);
        await index.updateFile(p);
      }
    } else if (r < 0.65) {
      kind = 'create';
      const p = rand() < 0.05 ? `ignored/x${nextId++}.ts` : rand() < 0.05 ? `d1/y${nextId++}.tmp` : newPath();
      write(p, genText(1 + Math.floor(rand() * 100)));
      await index.updateFile(p);
      paths.push(p);
    } else if (r < 0.8 && paths.length) {
      kind = 'delete';
      const i = Math.floor(rand() * paths.length);
      const p = paths[i];
      paths.splice(i, 1);
      unlinkSync(join(root, p));
      index.removeFile(p);
    } else if (paths.length) {
      kind = 'rename';
      const i = Math.floor(rand() * paths.length);
      const from = paths[i];
      const to = newPath();
      mkdirSync(dirname(join(root, to)), { recursive: true });
      if (existsSync(join(root, to))) continue;
      renameSync(join(root, from), join(root, to));
      await index.renameFile(from, to);
      paths[i] = to;
    } else continue;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  const incMs = performance.now() - t1;
  log(`ops: ${JSON.stringify(counts)} in ${(incMs / 1000).toFixed(1)} s (${((incMs / OPS) * 1000).toFixed(0)} µs/op)`);
  const fresh = await WorkspaceIndex.build(root, { encoding: 'o200k_base', syntax, workers: 'auto' });
  const a = snapshot(index);
  const b = snapshot(fresh);
  const onlyInc = [...a.keys()].filter((k) => !b.has(k));
  const onlyFresh = [...b.keys()].filter((k) => !a.has(k));
  const differ = [...a.keys()].filter((k) => b.has(k) && a.get(k) !== b.get(k));
  const diff = onlyInc.length + onlyFresh.length + differ.length;
  log(`incremental ${a.size} files vs fresh ${b.size} files: ${onlyInc.length} only incremental, ${onlyFresh.length} only fresh, ${differ.length} differ`);
  for (const k of [...onlyInc, ...onlyFresh, ...differ].slice(0, 5)) log(`  e.g. ${k}`);
  log(diff === 0 ? 'PASS (diff size 0)' : `FAIL (diff size ${diff})`);
  rmSync(root, { recursive: true, force: true });
  process.exitCode = diff === 0 ? 0 : 1;
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
