// The ranker: stage-1 sources and exclusions, the ONNX graph against the
// TypeScript reference, device fallback, degradation to stage 1, and the
// model worker (same scores as on this thread; crashes and restarts).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { IndexView } from '../../src/core/index/indexView';
import type { Chunk, CursorWindow } from '../../src/core/types';
import { emptySignals } from '../../src/core/types';
import { buildGraph, readWeights } from '../../src/core/rank/graph';
import { assetPath } from '../../src/core/assets';
import { buildInputs, forward, initialWeights, keyIds, MODEL_FORMAT, type ModelMeta } from '../../src/core/rank/model';
import { MAX_RESTARTS, startModelRunner } from '../../src/core/rank/modelRunner';
import { modelFeeds, Ranker, rankStage1 } from '../../src/core/rank/ranker';
import { FEATURE_NAMES, gatherCandidates, gatherCandidatesInSlices, gatherSteps, type Stage1Output } from '../../src/core/rank/stage1';
import { queryTermsFromText, rng, splitIdentifier } from '../../src/core/rank/text';

// ---- a small in-memory IndexView: paragraphs are chunks ----
const DEF = /(?:function|class|const|interface|type|def)\s+([A-Za-z_$][\w$]*)/g;
const IMPORT = /import\s*\{([^}]*)\}\s*from\s*'\.\/([\w/]+)'/g;

function fakeIndex(files: Record<string, string>): IndexView {
  const chunks = new Map<string, Chunk[]>();
  const imports = new Map<string, Map<string, string[]>>();
  for (const [path, text] of Object.entries(files)) {
    const lines = text.split('\n');
    const out: Chunk[] = [];
    let start = 0;
    const flush = (end: number) => {
      const body = lines.slice(start, end).join('\n');
      if (body.trim()) {
        const defines = [...body.matchAll(DEF)].map((m) => m[1]);
        const uses = [...new Set((body.match(/[A-Za-z_$][\w$]*/g) ?? []).flatMap(splitIdentifier))];
        out.push({
          id: `${path}#${start + 1}-${end}`,
          path,
          startLine: start + 1,
          endLine: end,
          language: 'typescript',
          kind: body.startsWith('import') ? 'imports' : defines.length ? 'function' : 'window',
          defines,
          uses,
          hash: (body.length * 2654435761).toString(16).padStart(16, '0').slice(0, 16),
          tokens: Math.ceil(body.length / 4),
        });
      }
      start = end + 1;
    };
    lines.forEach((l, i) => l.trim() === '' && flush(i));
    flush(lines.length);
    chunks.set(path, out);
    const m = new Map<string, string[]>();
    for (const im of text.matchAll(IMPORT)) m.set(`${path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : ''}${im[2]}.ts`, im[1].split(',').map((s) => s.trim()).filter(Boolean));
    imports.set(path, m);
  }
  const all = [...chunks.values()].flat();
  return {
    fileCount: () => chunks.size,
    files: () => chunks.keys(),
    allChunks: () => all,
    chunksOf: (p) => chunks.get(p) ?? [],
    definitionsOf: (name) => all.filter((c) => c.defines.includes(name)),
    importsOf: (p) => [...(imports.get(p)?.keys() ?? [])],
    importersOf: (p) => [...imports.entries()].filter(([, m]) => m.has(p)).map(([k]) => k),
    importedNamesOf: (p) => imports.get(p) ?? new Map(),
    chunkText: (c) => (files[c.path] ?? '').split('\n').slice(c.startLine - 1, c.endLine).join('\n'),
    fileText: (p) => files[p],
  };
}

function cursorAt(index: IndexView, path: string, line: number, radius = 6): CursorWindow {
  const lines = (index.fileText(path) ?? '').split('\n');
  const startLine = Math.max(1, line - radius);
  const endLine = Math.min(lines.length, line + radius);
  const text = lines.slice(startLine - 1, endLine).join('\n');
  return {
    path,
    startLine,
    endLine,
    tokens: Math.ceil(text.length / 4),
    text,
    queryTerms: queryTermsFromText(text, line - startLine),
    nearIdentifiers: [],
    cursorLine: line - 1,
  } as CursorWindow;
}

const FILES: Record<string, string> = {
  'src/app.ts': [
    "import { parseConfig, loadPlugins } from './config'",
    '',
    'export function start(argv: string[]) {',
    '  const cfg = parseConfig(argv)',
    '  // the cursor sits below',
    '  const plugins = loadPlugins(cfg.pluginDir)',
    '  return plugins',
    '}',
  ].join('\n'),
  'src/config.ts': [
    'export function parseConfig(argv: string[]) {',
    '  return { pluginDir: argv[0] }',
    '}',
    '',
    'export function loadPlugins(pluginDir: string) {',
    '  return readPluginDir(pluginDir)',
    '}',
  ].join('\n'),
  'src/fs.ts': ['export function readPluginDir(dir: string) {', '  return [dir]', '}'].join('\n'),
  'lib/unrelated.ts': ['export function drawCircle(radius: number) {', '  return radius * 2', '}'].join('\n'),
};

test('splitIdentifier follows the index convention', () => {
  assert.deepEqual(splitIdentifier('parseHTTPRequest_v2'), ['parse', 'http', 'request', 'v2']);
  assert.deepEqual(splitIdentifier('$foo_barBaz'), ['foo', 'bar', 'baz']);
});

test('stage 1 gathers candidates with sources and evidence, excluding the cursor chunks', () => {
  const index = fakeIndex(FILES);
  const cursor = cursorAt(index, 'src/app.ts', 6, 3);
  const ranked = rankStage1({ index, cursor, signals: { ...emptySignals(), openTabs: ['lib/unrelated.ts'] } });
  assert.ok(ranked.length > 0);
  for (const r of ranked) {
    assert.ok(r.score >= 0 && r.score <= 1);
    assert.ok(!(r.chunk.path === cursor.path && r.chunk.startLine <= cursor.endLine && r.chunk.endLine >= cursor.startLine), 'cursor chunk leaked');
  }
  for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].score >= ranked[i].score);
  const load = ranked.find((r) => r.chunk.defines.includes('loadPlugins'))!;
  assert.ok(load, 'definition of loadPlugins is a candidate');
  assert.ok(load.sources.includes('import'));
  assert.ok(load.sources.includes('bm25'));
  assert.ok(load.evidence?.some((e) => e === 'loadPlugins' || e === 'plugins' || e === 'plugin'));
  const unrelated = ranked.find((r) => r.chunk.path === 'lib/unrelated.ts')!;
  assert.deepEqual(unrelated.sources, ['open-tab']);
  assert.ok(ranked.indexOf(load) < ranked.indexOf(unrelated));
  assert.ok(ranked.some((r) => r.chunk.path === 'src/fs.ts' && r.sources.includes('same-folder')));
});

test('stage 1 honours excluded paths, pinned ids and maxCandidates', () => {
  const index = fakeIndex(FILES);
  const cursor = cursorAt(index, 'src/app.ts', 6, 3);
  const pinnedId = index.chunksOf('lib/unrelated.ts')[0].id;
  const ranked = rankStage1({ index, cursor, signals: { ...emptySignals(), excluded: ['src/config.ts'], pinned: [pinnedId] } });
  assert.ok(!ranked.some((r) => r.chunk.path === 'src/config.ts'));
  assert.equal(ranked[0].chunk.id, pinnedId);
  assert.ok(ranked[0].sources.includes('pinned'));
  assert.equal(rankStage1({ index, cursor, signals: emptySignals(), maxCandidates: 1 }).length, 1);
});

test('stage 1 on an empty index returns nothing', () => {
  const index = fakeIndex({ 'a.ts': 'const x = 1' });
  assert.deepEqual(rankStage1({ index, cursor: cursorAt(index, 'a.ts', 1), signals: emptySignals() }), []);
});

test('stage 1 in slices: interleaved queries on one BM25 index and an abandoned one give what one query alone gives', async () => {
  const r = rng(42);
  const words = ['parse', 'config', 'plugin', 'load', 'read', 'dir', 'draw', 'circle', 'radius', 'state', 'cache', 'token', 'budget', 'chunk'];
  const files: Record<string, string> = {};
  for (let f = 0; f < 300; f++) {
    const paras = Array.from({ length: 4 }, (_, p) => `export function fn${f}_${p}(x: number) {\n  return ${Array.from({ length: 6 }, () => words[Math.floor(r() * words.length)]).join(' + ')}\n}`);
    files[`src/m${f % 7}/f${f}.ts`] = paras.join('\n\n');
  }
  const index = fakeIndex(files);
  const a = cursorAt(index, 'src/m0/f0.ts', 2, 3);
  const b = cursorAt(index, 'src/m3/f10.ts', 6, 3);
  const shape = (s: Stage1Output) => s.candidates.map((c) => `${c.chunk.id} ${c.stage1.toFixed(6)} ${c.evidence.join(',')}`);
  const alone = (cursor: CursorWindow) => shape(gatherCandidates({ index, cursor, signals: emptySignals() }));
  const wantA = alone(a);
  const wantB = alone(b);
  assert.ok(wantA.length > 10 && wantB.length > 10);
  // Two queries advanced step by step in turn: the second cannot share the first's scratch arrays.
  const sa = gatherSteps({ index, cursor: a, signals: emptySignals() });
  const sb = gatherSteps({ index, cursor: b, signals: emptySignals() });
  let ra: Stage1Output | undefined;
  let rb: Stage1Output | undefined;
  let steps = 0;
  while (!ra || !rb) {
    if (!ra) {
      const s = sa.next();
      if (s.done) ra = s.value;
    }
    if (!rb) {
      const s = sb.next();
      if (s.done) rb = s.value;
    }
    steps++;
  }
  assert.ok(steps > 3, 'it pauses between query terms');
  assert.deepEqual(shape(ra), wantA);
  assert.deepEqual(shape(rb), wantB);
  // A query abandoned halfway leaves the arrays clean for the next one.
  const half = gatherSteps({ index, cursor: b, signals: emptySignals() });
  half.next();
  half.next();
  half.return(undefined as never);
  assert.deepEqual(alone(a), wantA);
  // The sliced driver gives the same, and nothing once aborted.
  assert.deepEqual(shape((await gatherCandidatesInSlices({ index, cursor: a, signals: emptySignals() }))!), wantA);
  const aborted = new AbortController();
  aborted.abort();
  const none = await gatherCandidatesInSlices({ index, cursor: a, signals: emptySignals() }, aborted.signal);
  assert.ok(none === undefined || shape(none).join() === wantA.join(), 'aborted: nothing (or, finished within one slice, the answer)');
  assert.deepEqual(alone(b), wantB);
});

const TINY: ModelMeta = { format: MODEL_FORMAT, vocab: 64, dim: 8, maxQuery: 6, maxKey: 5, features: [...FEATURE_NAMES] };

test('the ONNX graph computes the reference scores (1e-4)', async () => {
  const rand = rng(7);
  const m = initialWeights(TINY, 7, rand, { w: Array.from({ length: FEATURE_NAMES.length + 2 }, () => rand() * 2 - 1), b: -0.3 });
  m.tau = 3.5;
  for (let i = TINY.dim; i < m.embedding.length; i++) m.embedding[i] *= 0.5 + rand(); // non-unit rows too
  const session = await ort.InferenceSession.create(buildGraph(m), { executionProviders: ['cpu'] });
  for (let trial = 0; trial < 5; trial++) {
    const nq = 1 + Math.floor(rand() * 6);
    const terms = Array.from({ length: nq }, () => ({ term: `t${Math.floor(rand() * 40)}`, weight: 0.1 + rand() }));
    const n = 1 + Math.floor(rand() * 7);
    const keys = Array.from({ length: n }, () => Array.from({ length: Math.floor(rand() * 7) }, () => `t${Math.floor(rand() * 40)}`));
    const feats = Array.from({ length: n }, () => Float32Array.from(FEATURE_NAMES, () => rand()));
    const x = buildInputs(TINY, terms, keys, feats);
    const ref = forward(m, x);
    const out = await session.run(modelFeeds(ort, x, FEATURE_NAMES.length));
    const score = out.score.data as Float32Array;
    const contrib = out.contrib.data as Float32Array;
    assert.equal(score.length, n);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(score[i] - ref.scores[i]) < 1e-4, `score ${i}: ${score[i]} vs ${ref.scores[i]}`);
    for (let i = 0; i < contrib.length; i++) assert.ok(Math.abs(contrib[i] - ref.contrib[i]) < 1e-4);
  }
  await session.release();
  const back = readWeights(buildGraph(m));
  assert.deepEqual(back.meta, TINY);
  assert.ok(Math.abs(back.tau - 3.5) < 1e-6);
  assert.deepEqual([...back.embedding.slice(0, 20)], [...m.embedding.slice(0, 20)]);
});

test('device gpu falls back to cpu here and says so once; the shipped model ranks', async () => {
  const logs: string[] = [];
  const ranker = await Ranker.create({ device: 'gpu', log: (m) => logs.push(m) });
  assert.equal(ranker.device, 'cpu');
  assert.equal(logs.length, 1);
  assert.match(logs[0], /using cpu/);
  const index = fakeIndex(FILES);
  const res = await ranker.rank({ index, cursor: cursorAt(index, 'src/app.ts', 6, 3), signals: emptySignals() });
  assert.equal(res.device, 'cpu');
  assert.equal(res.note, undefined);
  assert.ok(res.ranked.length > 0);
  for (const r of res.ranked) assert.ok(r.score >= 0 && r.score <= 1 && r.evidence);
  for (let i = 1; i < res.ranked.length; i++) assert.ok(res.ranked[i - 1].score >= res.ranked[i].score);
  await ranker.dispose();
});

test('a missing or broken model degrades to stage 1 with a clear note, never a crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-rank-'));
  const index = fakeIndex(FILES);
  const cursor = cursorAt(index, 'src/app.ts', 6, 3);
  const missing = await Ranker.create({ device: 'cpu', modelPath: join(dir, 'nope.onnx'), log: () => undefined });
  assert.equal(missing.device, 'stage1');
  const r1 = await missing.rank({ index, cursor, signals: emptySignals() });
  assert.equal(r1.device, 'stage1');
  assert.match(r1.note ?? '', /model unusable.*(ENOENT|no such file)/);
  assert.ok(r1.ranked.length > 0);

  const broken = join(dir, 'broken.onnx');
  writeFileSync(broken, 'not a model');
  writeFileSync(join(dir, 'broken.json'), JSON.stringify({ format: MODEL_FORMAT, vocab: 64, dim: 8, maxQuery: 6, maxKey: 5, features: [...FEATURE_NAMES] }));
  const logs: string[] = [];
  const bad = await Ranker.create({ device: 'cpu', modelPath: broken, log: (m) => logs.push(m) });
  assert.equal(bad.device, 'stage1');
  assert.match(logs.join('\n'), /stage 1 only/);
  const r2 = await bad.rank({ index, cursor, signals: emptySignals() });
  assert.match(r2.note ?? '', /no execution provider could run the model/);
  assert.deepEqual(r2.ranked.map((r) => r.chunk.id), r1.ranked.map((r) => r.chunk.id));

  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(bad.rank({ index, cursor, signals: emptySignals(), signal: aborted.signal }), { name: 'AbortError' });
});

test('stage 2 runs in the model worker: the same scores as on this thread', async () => {
  const meta = JSON.parse(readFileSync(assetPath('model/ranker.json'), 'utf8')) as ModelMeta;
  const modelPath = assetPath('model/ranker.onnx');
  const inWorker = await startModelRunner({ modelPath, meta, device: 'cpu' });
  const here = await startModelRunner({ modelPath, meta, device: 'cpu', thread: 'this' });
  assert.equal(inWorker.inWorker, true);
  assert.equal(here.inWorker, false);
  assert.equal(inWorker.device, 'cpu');
  const r = rng(7);
  const n = 40;
  const terms = ['parse', 'config', 'budget', 'token'].map((term) => ({ term, weight: r() }));
  const keys = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? ['budget', 'parse'] : ['other', `k${i}`]));
  const x = buildInputs(meta, terms, keys.map((k) => keyIds(meta, k)), keys.map(() => Float32Array.from(FEATURE_NAMES, () => r())));
  const a = await inWorker.score(x);
  const b = await here.score(x);
  assert.equal(a.score.length, n);
  assert.deepEqual([...a.score], [...b.score]);
  assert.deepEqual([...a.contrib], [...b.contrib]);
  await inWorker.release();
  await here.release();
  await assert.rejects(inWorker.score(x), /disposed/);
});

test('a model worker that crashes: the query in flight is answered by stage 1, the next one by the restarted worker', async () => {
  const logs: string[] = [];
  const ranker = await Ranker.create({ device: 'cpu', log: (m) => logs.push(m) });
  assert.equal(ranker.scoresInWorker, true);
  const index = fakeIndex(FILES);
  const req = { index, cursor: cursorAt(index, 'src/app.ts', 6, 3), signals: emptySignals() };
  const before = await ranker.rank(req);
  assert.equal(before.device, 'cpu');
  for (let i = 0; i < MAX_RESTARTS; i++) {
    assert.ok(ranker.crashModelWorker());
    const during = await ranker.rank(req);
    assert.equal(during.device, 'stage1');
    assert.match(during.note ?? '', /stage 2 failed \(the model worker exited \(code 3\)\)/);
    assert.deepEqual(during.ranked.map((x) => x.chunk.id).sort(), before.ranked.map((x) => x.chunk.id).sort());
    const after = await ranker.rank(req);
    assert.equal(after.device, 'cpu', `restart ${i + 1}`);
    assert.deepEqual(after.ranked, before.ranked);
  }
  assert.equal(logs.filter((l) => /starting it again/.test(l)).length, MAX_RESTARTS);
  // One crash too many: stage 1 from then on, said once, never a throw.
  ranker.crashModelWorker();
  assert.equal((await ranker.rank(req)).device, 'stage1');
  const last = await ranker.rank(req);
  assert.equal(last.device, 'stage1');
  assert.match(last.note ?? '', /exited 4 times/);
  assert.match(logs.at(-1) ?? '', /stage 1 from now on/);
  await ranker.dispose();
});

test('a model worker that dies before opening its model (out of memory, a native crash): the model opens on this thread instead', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-rank-worker-'));
  const dies = join(dir, 'dies.js');
  writeFileSync(dies, 'process.exit(7);\n');
  const meta = JSON.parse(readFileSync(assetPath('model/ranker.json'), 'utf8')) as ModelMeta;
  const logs: string[] = [];
  const runner = await startModelRunner({ modelPath: assetPath('model/ranker.onnx'), meta, device: 'cpu', script: dies, log: (m) => logs.push(m) });
  assert.equal(runner.inWorker, false);
  assert.equal(runner.device, 'cpu');
  assert.deepEqual(logs, ['ranker: the model worker exited (code 7) before opening its model; running it on this thread']);
  await runner.release();
  // A model the worker opens and rejects is not retried here: its reason is the answer.
  await assert.rejects(startModelRunner({ modelPath: join(dir, 'none.onnx'), meta, device: 'cpu' }), /ranker model unusable \(ENOENT/);
});
