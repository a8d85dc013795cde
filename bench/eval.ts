// npm run eval — retrieval quality of the ranker against the methods assistants
// use today, on the dev set (scripts/devset). A benchmark, not a test.
//   node dist/eval.js [--split report|tune|all] [--limit N] [--rebuild-devset] [--json FILE] [--latency-only]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileWindowOfText } from '../src/core/cursor';
import { DEFAULT_SETTINGS, fileCandidates, stableLayerTokens } from '../src/core/engine';
import { packChunks } from '../src/core/pack/packer';
import { bm25Of, bm25Scores } from '../src/core/rank/bm25';
import { Ranker, rankStage1 } from '../src/core/rank/ranker';
import { rng, subtokensOf } from '../src/core/rank/text';
import type { IndexView } from '../src/core/index/indexView';
import { splitLines } from '../src/core/chunk/chunker';
import { emptySignals, type Chunk, type RankedChunk } from '../src/core/types';
import { getTokenizer, indexRepo, isGold, prepareTask, type PreparedTask, type RepoIndex } from '../scripts/devset/harness';
import { loadDevSet, type Task } from '../scripts/devset/mine';

const BUDGETS = [1000, 2000, 4000];
type Method = 'random' | 'jaccard60' | 'bm25' | 'import-aware' | 'stage1' | 'ranker' | 'ranker+stable';
const METHODS: Method[] = ['random', 'jaccard60', 'bm25', 'import-aware', 'stage1', 'ranker', 'ranker+stable'];
/** 'ranker+stable' packs like the product: this share of each budget (all of it is snippet budget here) comes from the file-level ranking. */
const STABLE_SHARE = Number(arg('--stable-share') ?? DEFAULT_SETTINGS.stableShare);

interface Outcome {
  rank: number; // 1-based rank of the first gold unit, 0 = not found
  inBudget: boolean[];
  ms: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const isCursorChunk = (p: PreparedTask, c: Chunk) => c.path === p.cursorPath && c.startLine <= p.cursor.endLine && c.endLine >= p.cursor.startLine;

// ---- baselines ----
function randomRank(view: IndexView, p: PreparedTask, seed: number): RankedChunk[] {
  const r = rng(seed);
  const all = [...view.allChunks()].filter((c) => !isCursorChunk(p, c));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.map((chunk, i) => ({ chunk, score: 1 - i / all.length, sources: [] }));
}

function uniformTerms(p: PreparedTask) {
  const seen = new Set<string>();
  for (const t of p.cursor.queryTerms) seen.add(t.term);
  return [...seen].map((term) => ({ term, weight: 1 }));
}

function bm25Rank(view: IndexView, p: PreparedTask): RankedChunk[] {
  const bm = bm25Of(view);
  const s = bm25Scores(bm, uniformTerms(p));
  const out: RankedChunk[] = [];
  [...bm.chunks].forEach((chunk, i) => s[i] > 0 && !isCursorChunk(p, chunk) && out.push({ chunk, score: s[i], sources: ['bm25'] }));
  return out.sort((a, b) => b.score - a.score);
}

/** Continue-style: BM25 plus a bonus for chunks of imported files and a larger one for chunks defining an imported name not used elsewhere. */
function importAwareRank(view: IndexView, p: PreparedTask): RankedChunk[] {
  const bm = bm25Of(view);
  const s = bm25Scores(bm, uniformTerms(p));
  let max = 0;
  for (const v of s) max = Math.max(max, v);
  const imported = new Set(view.importsOf(p.cursorPath));
  const names = view.importedNamesOf(p.cursorPath);
  const counts = new Map<string, number>();
  for (const id of p.blanked.match(/[A-Za-z_$][\w$]*/g) ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
  const out: RankedChunk[] = [];
  [...bm.chunks].forEach((chunk, i) => {
    if (isCursorChunk(p, chunk)) return;
    let score = max > 0 ? s[i] / max : 0;
    if (imported.has(chunk.path)) {
      score += 1;
      const ns = names.get(chunk.path) ?? [];
      if (chunk.defines.some((d) => ns.includes(d) && (counts.get(d) ?? 0) <= 1)) score += 2;
    }
    if (score > 0) out.push({ chunk, score, sources: [] });
  });
  return out.sort((a, b) => b.score - a.score);
}

/** Copilot-style: 60-line windows of the other files, Jaccard of word sets with the 60 lines before the cursor, best window per file. */
function jaccardRank(ri: RepoIndex, p: PreparedTask, windows: Map<string, Array<{ chunk: Chunk; words: Set<string> }>>): RankedChunk[] {
  const lines = splitLines(p.blanked);
  const q = new Set(subtokensOf(lines.slice(Math.max(0, p.task.line - 61), p.task.line - 1).join('\n')));
  const out: RankedChunk[] = [];
  for (const [path, ws] of windows) {
    if (path === p.cursorPath) continue;
    let best: RankedChunk | undefined;
    for (const w of ws) {
      let inter = 0;
      for (const t of q) if (w.words.has(t)) inter++;
      const j = inter / (q.size + w.words.size - inter || 1);
      if (!best || j > best.score) best = { chunk: w.chunk, score: j, sources: [] };
    }
    if (best) out.push(best);
  }
  return out.sort((a, b) => b.score - a.score);
}

async function buildWindows(ri: RepoIndex) {
  const tok = await getTokenizer();
  const out = new Map<string, Array<{ chunk: Chunk; words: Set<string> }>>();
  for (const path of ri.index.files()) {
    const lines = splitLines(ri.index.fileText(path) ?? '');
    const ws: Array<{ chunk: Chunk; words: Set<string> }> = [];
    for (let s = 0; s < Math.max(1, lines.length - 59); s += 10) {
      const e = Math.min(lines.length, s + 60);
      const text = lines.slice(s, e).join('\n');
      ws.push({
        chunk: { id: `${path}#${s + 1}-${e}`, path, startLine: s + 1, endLine: e, language: '', kind: 'window', defines: [], uses: [], hash: `${path}:${s}`, tokens: tok.count(text) },
        words: new Set(subtokensOf(text)),
      });
    }
    out.set(path, ws);
  }
  return out;
}

function outcome(p: PreparedTask, ranked: RankedChunk[], ms: number, fileRanked?: RankedChunk[]): Outcome {
  const idx = ranked.findIndex((r) => isGold(p, r.chunk));
  const top = ranked.slice(0, 400);
  const inBudget = BUDGETS.map((budget) => {
    const stableLayer = fileRanked ? { ranked: fileRanked.slice(0, 400), budget: stableLayerTokens({ prefixShare: 0, suffixShare: 0, stableShare: STABLE_SHARE }, budget) } : undefined;
    const res = packChunks({ ranked: top, budget, cursorTokens: 0, stableLayer });
    return res.items.some((it) => it.selected && isGold(p, it.ranked.chunk));
  });
  return { rank: idx + 1, inBudget, ms };
}

function pct(xs: number[], q: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

interface Row {
  method: Method;
  language: string;
  n: number;
  r1: number;
  r5: number;
  r10: number;
  mrr10: number;
  b1k: number;
  b2k: number;
  b4k: number;
  p50: number;
  p95: number;
}

function summarize(method: Method, language: string, os: Outcome[]): Row {
  const n = os.length || 1;
  const at = (k: number) => (100 * os.filter((o) => o.rank > 0 && o.rank <= k).length) / n;
  return {
    method,
    language,
    n: os.length,
    r1: at(1),
    r5: at(5),
    r10: at(10),
    mrr10: (100 * os.reduce((a, o) => a + (o.rank > 0 && o.rank <= 10 ? 1 / o.rank : 0), 0)) / n,
    b1k: (100 * os.filter((o) => o.inBudget[0]).length) / n,
    b2k: (100 * os.filter((o) => o.inBudget[1]).length) / n,
    b4k: (100 * os.filter((o) => o.inBudget[2]).length) / n,
    p50: pct(os.map((o) => o.ms), 0.5),
    p95: pct(os.map((o) => o.ms), 0.95),
  };
}

export async function main(): Promise<void> {
  const repoRoot = resolve(__dirname, '..');
  const split = arg('--split') ?? 'report';
  const limit = Number(arg('--limit') ?? Infinity);
  const ds = loadDevSet(repoRoot, process.argv.includes('--rebuild-devset'));
  const tasks = ds.tasks.filter((t) => split === 'all' || t.split === split);
  const ranker = await Ranker.create({ device: 'cpu', log: (m) => console.log(`[eval] ${m}`) });
  const results = new Map<string, Outcome[]>();
  const push = (m: Method, lang: string, o: Outcome) => {
    for (const key of [`${m}|${lang}`, `${m}|all`]) {
      if (!results.has(key)) results.set(key, []);
      results.get(key)!.push(o);
    }
  };
  const started = Date.now();
  const byRepo = new Map<string, Task[]>();
  for (const t of tasks) byRepo.set(t.repo, [...(byRepo.get(t.repo) ?? []), t]);
  let done = 0;
  const latencyOnly = process.argv.includes('--latency-only');
  for (const repo of latencyOnly ? [] : ds.repos) {
    const ts = (byRepo.get(repo.name) ?? []).slice(0, limit);
    if (!ts.length) continue;
    const t0 = Date.now();
    const ri = await indexRepo(repo, repoRoot);
    const windows = await buildWindows(ri);
    for (const task of ts) {
      const p = await prepareTask(ri, task);
      const view = ri.index;
      const req = { index: view, cursor: p.cursor, signals: emptySignals() };
      const timed = (f: () => RankedChunk[]) => {
        const a = performance.now();
        const r = f();
        return { r, ms: performance.now() - a };
      };
      const runs: Array<[Method, { r: RankedChunk[]; ms: number }]> = [
        ['random', timed(() => randomRank(view, p, 7))],
        ['jaccard60', timed(() => jaccardRank(ri, p, windows))],
        ['bm25', timed(() => bm25Rank(view, p))],
        ['import-aware', timed(() => importAwareRank(view, p))],
        ['stage1', timed(() => rankStage1(req))],
      ];
      const a = performance.now();
      const res = await ranker.rank(req);
      runs.push(['ranker', { r: res.ranked, ms: performance.now() - a }]);
      for (const [m, r] of runs) push(m, task.language, outcome(p, r.r, r.ms));
      // The product's packing: the same ranking plus the stable layer from the file-level ranking.
      const b = performance.now();
      const fileRes = await ranker.rank({ ...req, cursor: fileWindowOfText(p.cursorPath, p.blanked), maxCandidates: fileCandidates(DEFAULT_SETTINGS.maxCandidates) });
      push('ranker+stable', task.language, outcome(p, res.ranked, performance.now() - b + runs[runs.length - 1][1].ms, fileRes.ranked));
      await p.restore();
      done++;
    }
    console.log(`[eval] ${repo.name}: ${ts.length} tasks, ${((Date.now() - t0) / 1000).toFixed(1)} s (${done}/${tasks.length})`);
  }

  // Latency of the full ranker at 2,000 candidates (largest repo of the split).
  const big = [...byRepo.keys()].map((n) => ds.repos.find((r) => r.name === n)!).sort((a, b) => b.files - a.files)[0];
  let lat2k: { p50: number; p95: number; cpuP50: number; cpuP95: number; device: string; n: number } | undefined;
  if (big) {
    const ri = await indexRepo(big, repoRoot);
    const ms: number[] = [];
    const cpuMs: number[] = [];
    let cands = 0;
    for (const task of (byRepo.get(big.name) ?? []).slice(0, 30)) {
      const p = await prepareTask(ri, task);
      const req = { index: ri.index, cursor: p.cursor, signals: emptySignals(), maxCandidates: 2000 };
      await ranker.rank(req); // warm caches for this index state
      const c0 = process.cpuUsage();
      const a = performance.now();
      const r = await ranker.rank(req);
      ms.push(performance.now() - a);
      const c1 = process.cpuUsage(c0);
      cpuMs.push((c1.user + c1.system) / 1000);
      cands = Math.max(cands, r.ranked.length);
      await p.restore();
    }
    lat2k = { p50: pct(ms, 0.5), p95: pct(ms, 0.95), cpuP50: pct(cpuMs, 0.5), cpuP95: pct(cpuMs, 0.95), device: ranker.device, n: cands };
  }

  const langs = ['typescript', 'javascript', 'python', 'go', 'rust', 'java', 'all'];
  const rows: Row[] = [];
  for (const lang of langs) for (const m of METHODS) if (results.has(`${m}|${lang}`)) rows.push(summarize(m, lang, results.get(`${m}|${lang}`)!));
  const f = (x: number) => x.toFixed(1).padStart(5);
  console.log(`\nsplit=${split} tasks=${tasks.length} device=${ranker.device} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  console.log('| language | method | n | R@1 | R@5 | R@10 | MRR@10 | gold@1k | gold@2k | gold@4k | p50 ms | p95 ms |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.language} | ${r.method} | ${r.n} | ${f(r.r1)} | ${f(r.r5)} | ${f(r.r10)} | ${f(r.mrr10)} | ${f(r.b1k)} | ${f(r.b2k)} | ${f(r.b4k)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} |`);
  if (lat2k) console.log(`\nranker at ${lat2k.n} candidates (${big.name}, ${lat2k.device}): p50 ${lat2k.p50.toFixed(1)} ms, p95 ${lat2k.p95.toFixed(1)} ms wall; process CPU time (all threads) p50 ${lat2k.cpuP50.toFixed(1)} ms, p95 ${lat2k.cpuP95.toFixed(1)} ms (load average ${loadavg()[0].toFixed(2)} on ${cpus().length} CPUs)`);
  const json = arg('--json');
  if (json) writeFileSync(json, JSON.stringify({ split, rows, lat2k }, null, 2));
  await ranker.dispose();
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
