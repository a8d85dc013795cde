// Edits patch the BM25 index and the import graph in place; what they rank must
// match a fresh index of the same files.
import assert from 'node:assert/strict';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it, mock } from 'node:test';
import { SyntaxChunker } from '../../src/core/chunk/syntax';
import { cursorWindow } from '../../src/core/cursor';
import { WorkspaceIndex } from '../../src/core/index/workspaceIndex';
import { ContextEngine } from '../../src/core/engine';
import { bm25Building, bm25Of } from '../../src/core/rank/bm25';
import { rankStage1 } from '../../src/core/rank/ranker';
import { emptySignals } from '../../src/core/types';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const files: Record<string, string> = { ...SAMPLE_PROJECT };
for (let i = 0; i < 12; i++) {
  files[`src/lib/mod${i}.ts`] = [`import { addVectors } from '../math';`, '', `export function helper${i}(a: number) {`, `  return addVectors({ x: a, y: ${i} }, { x: 0, y: 0 });`, '}', ''].join('\n');
}
const w = makeWorkspace(files);
after(() => w.cleanup());

async function rankAt(index: WorkspaceIndex, path: string, line: number) {
  const cursor = cursorWindow(index, { path, line }, { prefixTokens: 400, suffixTokens: 200, tokenizer: index.tokens.tokenizer });
  return rankStage1({ index, cursor, signals: emptySignals() });
}

/** An engine over a fresh copy of SAMPLE_PROJECT, refreshed; disposed and removed after `fn`. */
async function withSampleEngine(fn: (engine: ContextEngine, ws: ReturnType<typeof makeWorkspace>) => Promise<void>): Promise<void> {
  const ws = makeWorkspace(SAMPLE_PROJECT);
  const engine = await ContextEngine.open({ root: ws.root, settings: { budget: 4000 }, index: { syntax: null, workers: 0 }, ranker: { device: 'cpu' } });
  try {
    await engine.refresh();
    await fn(engine, ws);
  } finally {
    await engine.dispose();
    ws.cleanup();
  }
}

describe('incremental ranking state', () => {
  it('a patched BM25 index and import graph rank like a fresh index after edits', async () => {
    const syntax = await SyntaxChunker.create();
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', syntax, workers: 0 });
    await rankAt(index, 'src/main.ts', 4); // builds BM25 and the import graph
    const before = bm25Of(index);
    // Edit two files: a new distinctive function in math.ts, and main.ts now imports lib/mod3 too.
    const math = `${files['src/math.ts']}\n\nexport function rotateVectorQuarterTurn(v: Vec): Vec {\n  return { x: -v.y, y: v.x };\n}\n`;
    const main = `import { helper3 } from './lib/mod3';\n${files['src/main.ts']}\nexport const turned = rotateVectorQuarterTurn({ x: 1, y: 2 });\n`;
    writeFileSync(join(w.root, 'src/math.ts'), math);
    writeFileSync(join(w.root, 'src/main.ts'), main);
    await index.updateFile('src/math.ts');
    await index.updateFile('src/main.ts');
    const patched = await rankAt(index, 'src/main.ts', 8);
    assert.equal(bm25Of(index), before, 'the BM25 index was patched in place, not rebuilt');

    const fresh = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', syntax, workers: 0 });
    const expected = await rankAt(fresh, 'src/main.ts', 8);
    const ids = (r: typeof patched) => r.map((x) => x.chunk.id);
    assert.deepEqual(new Set(ids(patched)), new Set(ids(expected)));
    assert.deepEqual(ids(patched), ids(expected), "same ranking, in the same order");
    for (const r of patched) {
      const e = expected.find((x) => x.chunk.id === r.chunk.id)!;
      assert.ok(Math.abs(r.score - e.score) < 1e-6, `${r.chunk.id}: ${r.score} vs ${e.score}`);
    }
    assert.ok(patched.some((r) => r.chunk.defines.includes('rotateVectorQuarterTurn')), 'the new definition is found');
    assert.deepEqual([...index.importsOf('src/main.ts')].sort(), [...fresh.importsOf('src/main.ts')].sort());
    assert.deepEqual([...index.importersOf('src/lib/mod3.ts')].sort(), [...fresh.importersOf('src/lib/mod3.ts')].sort());
    assert.ok(index.importsOf('src/main.ts').includes('src/lib/mod3.ts'));
  });

  it('while a refresh adds files, the last import graph serves until it is 15 s old and the workspace has grown by half', async (t) => {
    const syntax = await SyntaxChunker.create();
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', syntax, workers: 0 });
    await index.prepareGraph();
    const start = index.fileCount();
    const extra = (i: number) => `src/lib/extra${i}.ts`;
    const add = async (i: number) => index.updateFile(extra(i), `import { addVectors } from '../math';\nexport const e${i} = addVectors;\n`);
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    t.after(() => mock.timers.reset());
    // As refresh() does while it adds files (set directly: a real refresh of this size is over at once).
    (index as unknown as { refreshing: boolean }).refreshing = true;
    t.after(() => ((index as unknown as { refreshing: boolean }).refreshing = false));
    await add(0);
    mock.timers.tick(20_000);
    await index.prepareGraph();
    assert.equal((index as unknown as { graphBuild?: Promise<void> }).graphBuild, undefined, 'grown by less than half: no build started');
    assert.ok(!index.importersOf('src/math.ts').includes(extra(0)), 'and the last graph answers');
    for (let i = 1; index.fileCount() < 1.5 * (start + 1); i++) await add(i); // half more than when the graph went stale
    await index.prepareGraph(); // starts a build behind the last graph
    await (index as unknown as { graphBuild?: Promise<void> }).graphBuild;
    assert.ok(index.importersOf('src/math.ts').includes(extra(0)), 'grown by half and 15 s old: built again');
  });

  it('while a graph is being built in slices, a synchronous reader gets the last graph, refresh or not; a refresh that ends with a stale graph starts that build', async () => {
    const syntax = await SyntaxChunker.create();
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', syntax, workers: 0 });
    await index.prepareGraph();
    const internals = index as unknown as { importGraph?: unknown; graphBuild?: Promise<void> };
    const added = 'src/lib/late.ts';
    await index.updateFile(added, `import { addVectors } from '../math';\nexport const late = addVectors;\n`);
    assert.equal(internals.importGraph, undefined, 'a new path makes the graph stale');
    const building = index.prepareGraph(); // not refreshing: a build in slices, awaited by queries
    assert.ok(internals.graphBuild, 'the build has started');
    // What stage 1 of a query already under way does: read the graph synchronously.
    assert.ok(!index.importersOf('src/math.ts').includes(added), 'the last graph answers');
    assert.equal(internals.importGraph, undefined, 'no build of every import on the caller turn');
    await building;
    assert.ok(index.importersOf('src/math.ts').includes(added), 'the sliced build lands');

    // A refresh that picks up a new file ends with a stale graph: it starts the sliced build itself.
    const onDisk = join(w.root, 'src/lib/late2.ts');
    writeFileSync(onDisk, `import { addVectors } from '../math';\nexport const late2 = addVectors;\n`);
    try {
      await index.refresh();
      assert.equal(internals.importGraph, undefined);
      assert.ok(internals.graphBuild, 'a build is under way as the refresh returns');
      assert.ok(!index.importersOf('src/math.ts').includes('src/lib/late2.ts'), 'the last graph answers meanwhile');
      await index.prepareGraph();
      assert.ok(index.importersOf('src/math.ts').includes('src/lib/late2.ts'));
    } finally {
      unlinkSync(onDisk);
    }
  });

  it('with answerWhileBuilding, prepareGraph lets the last graph answer while the fresh one is built, and says when it is in place', async () => {
    const syntax = await SyntaxChunker.create();
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', syntax, workers: 0 });
    assert.deepEqual(await index.prepareGraph({ answerWhileBuilding: true }), {}, 'no last graph yet: the first one is awaited');
    assert.deepEqual(await index.prepareGraph({ answerWhileBuilding: true }), {}, 'current: nothing behind');
    const added = 'src/lib/later.ts';
    await index.updateFile(added, `import { addVectors } from '../math';\nexport const later = addVectors;\n`);
    const { behind } = await index.prepareGraph({ answerWhileBuilding: true });
    assert.ok(behind, 'returned at once, behind a build');
    assert.ok(!index.importersOf('src/math.ts').includes(added), 'the last graph answers meanwhile');
    await behind;
    assert.ok(index.importersOf('src/math.ts').includes(added), 'in place once it settles');
    assert.deepEqual(await index.prepareGraph({ answerWhileBuilding: true }), {});
    index.removeFile(added);
  });

  it('an import graph built in slices (prepareGraph) equals the one built at once, with a file re-indexed around the build', async () => {
    const syntax = await SyntaxChunker.create();
    const sliced = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', syntax, workers: 0 });
    const building = sliced.prepareGraph();
    // Re-index a file while the build is pending (in this small workspace it lands before the build's first slice).
    writeFileSync(join(w.root, 'src/main.ts'), `import { helper2 } from './lib/mod2';\n${files['src/main.ts']}\n`);
    await sliced.updateFile('src/main.ts');
    await building;
    await sliced.prepareGraph();
    const fresh = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', syntax, workers: 0 });
    for (const f of [...fresh.files()].sort()) {
      assert.deepEqual([...sliced.importsOf(f)].sort(), [...fresh.importsOf(f)].sort(), f);
      assert.deepEqual([...sliced.importersOf(f)].sort(), [...fresh.importersOf(f)].sort(), f);
      assert.deepEqual(sliced.importedNamesOf(f), fresh.importedNamesOf(f), f);
    }
    assert.ok(sliced.importsOf('src/main.ts').includes('src/lib/mod2.ts'));
    writeFileSync(join(w.root, 'src/main.ts'), files['src/main.ts']);
  });

  it('a warm start of an unchanged workspace takes its import graph from the saved links, equal to a resolved one', async () => {
    const syntax = await SyntaxChunker.create();
    const cacheDir = join(w.root, '.links-cache');
    const opts = { encoding: 'o200k_base' as const, syntax, workers: 0, cacheDir, exclude: ['.links-cache/'] };
    await WorkspaceIndex.build(w.root, opts);
    const warm = await WorkspaceIndex.build(w.root, opts);
    assert.equal(warm.stats().filesRead, 0);
    assert.ok((warm as unknown as { importGraph?: unknown }).importGraph, 'the graph is there before any query');
    const fresh = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', syntax, workers: 0, exclude: ['.links-cache/'] });
    let edges = 0;
    for (const f of [...fresh.files()].sort()) {
      assert.deepEqual(warm.importsOf(f), fresh.importsOf(f), f);
      assert.deepEqual(warm.importersOf(f), fresh.importersOf(f), f);
      assert.deepEqual(warm.importedNamesOf(f), fresh.importedNamesOf(f), f);
      edges += fresh.importsOf(f).length;
    }
    assert.ok(edges > 5);
    // A new file changes the set of paths: the saved links are no longer trusted.
    writeFileSync(join(w.root, 'src/extra.ts'), "import { helper1 } from './lib/mod1';\n");
    const moved = await WorkspaceIndex.build(w.root, opts);
    assert.deepEqual(moved.importsOf('src/extra.ts'), ['src/lib/mod1.ts']);
    assert.ok(moved.importersOf('src/lib/mod1.ts').includes('src/extra.ts'));
    unlinkSync(join(w.root, 'src/extra.ts'));
  });

  it('reports which files changed since a version, or that it cannot know', async () => {
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 0 });
    const v = index.version();
    assert.deepEqual(index.changedSince(v), []);
    await index.updateFile('src/main.ts', 'export const a = 1;\n');
    assert.deepEqual(index.changedSince(v), ['src/main.ts']);
    assert.equal(index.changedSince(-5000), undefined);
  });

  it('once indexing is over, a readout may rank from the previous BM25 index while it is rebuilt, and says when to ask again', async () => {
    await withSampleEngine(async (engine, ws) => {
      const at = { path: 'src/main.ts', line: 3, column: 0 };
      const first = await engine.compute(at, emptySignals(), { answerWhileBuilding: true });
      assert.equal(first.behind, undefined, 'the first BM25 index is built for the query');
      // 300 files arrive (a branch switch): too many to patch, so the BM25 index is rebuilt.
      mkdirSync(join(ws.root, 'late'));
      for (let i = 0; i < 300; i++) writeFileSync(join(ws.root, `late/step${i}.ts`), `export function stepAgain${i}(pos: { x: number }, vel: { x: number }) {\n  return step(pos, vel);\n}\n`);
      await engine.refresh();
      const fromLate = (c: { ranked: { chunk: { path: string } }[] }) => c.ranked.filter((r) => r.chunk.path.startsWith('late/')).length;
      const stale = await engine.compute(at, emptySignals(), { answerWhileBuilding: true });
      assert.ok(stale.behind, 'answered from the previous index, with a promise of the rebuilt one');
      assert.equal(fromLate(stale), 0, 'the previous index has none of the new files');
      assert.match(stale.report.rankerNote ?? '', /from the last index while a fresh one is built/, 'and the report says so');
      await stale.behind;
      const current = await engine.compute(at, emptySignals(), { answerWhileBuilding: true });
      assert.equal(current.behind, undefined);
      assert.doesNotMatch(current.report.rankerNote ?? '', /last index/);
      assert.ok(fromLate(current) > 0, 'asked again, the rebuilt index finds the new files');
      // A one-shot caller (the CLI) waits for the current index instead.
      for (let i = 0; i < 300; i++) {
        unlinkSync(join(ws.root, `late/step${i}.ts`));
        writeFileSync(join(ws.root, `late/more${i}.ts`), `export function stepMore${i}(pos: { x: number }, vel: { x: number }) {\n  return step(pos, vel);\n}\n`);
      }
      await engine.refresh();
      const waited = await engine.compute(at, emptySignals());
      assert.equal(waited.behind, undefined);
      assert.ok(waited.ranked.some((r) => r.chunk.path.startsWith('late/more')), 'ranked from the rebuilt index');
    });
  });

  it('a rebuild that fails leaves the readout as it is: behind never settles, so nothing asks again in a loop', async () => {
    await withSampleEngine(async (engine, ws) => {
      const at = { path: 'src/main.ts', line: 3, column: 0 };
      await engine.compute(at, emptySignals(), { answerWhileBuilding: true });
      mkdirSync(join(ws.root, 'late'));
      for (let i = 0; i < 300; i++) writeFileSync(join(ws.root, `late/s${i}.ts`), `export const s${i} = ${i};\n`);
      await engine.refresh();
      const chunksOf = engine.index.chunksOf.bind(engine.index);
      engine.index.chunksOf = (path: string) => {
        if (path.startsWith('late/')) throw new Error('disk gone');
        return chunksOf(path);
      };
      const stale = await engine.compute(at, emptySignals(), { answerWhileBuilding: true });
      assert.ok(stale.behind);
      let settled = false;
      void stale.behind.then(() => (settled = true));
      while (bm25Building(engine.index)) await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      assert.equal(settled, false, 'the failed rebuild does not settle it');
      // Once chunks can be read again, the next readout starts a rebuild that lands.
      engine.index.chunksOf = chunksOf;
      const again = await engine.compute(at, emptySignals(), { answerWhileBuilding: true });
      if (again.behind) await again.behind;
      const current = await engine.compute(at, emptySignals(), { answerWhileBuilding: true });
      assert.equal(current.behind, undefined);
    });
  });
});
