// prepareBm25: a full BM25 build spread over event-loop turns must give what the
// one-shot build gives, leave the event loop free, and (while indexing) answer
// with the previous index instead of waiting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexedChunk, packFileChunks, TermTable } from '../../src/core/index/chunkStore';
import type { IndexView } from '../../src/core/index/indexView';
import { addTermScores, addTermScoresInSteps, bm25Building, bm25Of, bm25Scores, FileOrdinals, fileOrdinals, ordinalOf, prepareBm25, topScores, topScoresInSteps, type Bm25Index } from '../../src/core/rank/bm25';
import type { Chunk } from '../../src/core/types';
import { makeChunk, rng } from '../helpers/fakeIndex';

/** An in-memory index with versions and a change log, like WorkspaceIndex's. */
class FakeIndex implements Partial<IndexView> {
  private readonly byPath = new Map<string, Chunk[]>();
  private readonly log: Array<{ v: number; path: string }> = [];
  private v = 0;

  constructor(files: number, seed: number) {
    for (let f = 0; f < files; f++) this.put(`d${f % 37}/f${f}.ts`, seed + f);
  }

  put(path: string, seed: number): void {
    const r = rng(seed);
    const chunks = Array.from({ length: 4 }, (_, k) =>
      makeChunk(path, k * 10 + 1, k * 10 + 10, 50, { uses: Array.from({ length: 12 }, () => `t${Math.floor(r() * 400)}`).filter((t, i, a) => a.indexOf(t) === i) }),
    );
    this.byPath.set(path, chunks);
    this.log.push({ v: ++this.v, path });
  }

  /** Sets a file's chunks as given (packed ones, say). */
  putChunks(path: string, chunks: Chunk[]): void {
    this.byPath.set(path, chunks);
    this.log.push({ v: ++this.v, path });
  }

  /** The same files, as a new index (a fresh BM25 build). */
  copy(): FakeIndex {
    const c = new FakeIndex(0, 0);
    for (const [p, chunks] of this.byPath) c.byPath.set(p, chunks);
    return c;
  }

  version = () => this.v;
  changedSince = (v: number) => [...new Set(this.log.filter((e) => e.v > v).map((e) => e.path))];
  files = () => this.byPath.keys();
  fileCount = () => this.byPath.size;
  chunksOf = (path: string) => this.byPath.get(path) ?? [];
  *allChunks() {
    for (const c of this.byPath.values()) yield* c;
  }
}

const view = (f: FakeIndex) => f as unknown as IndexView;

/** Every term's listed ordinals. */
function listed(bm: Bm25Index): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const t of bm.postings.terms()) {
    const ords: number[] = [];
    bm.postings.forEach(t, (o) => ords.push(o));
    out.set(t, ords);
  }
  return out;
}

/** Ids of the live chunks listed for a term (replaced chunks have an infinite norm). */
function liveIds(bm: Bm25Index, term: string): string[] {
  const ids: string[] = [];
  bm.postings.forEach(term, (o) => Number.isFinite(bm.norm[o]) && ids.push(bm.chunks.at(o).id));
  return ids.sort();
}

function sameIndex(a: Bm25Index, b: Bm25Index): void {
  assert.deepEqual([...a.chunks].map((c) => c.id), [...b.chunks].map((c) => c.id));
  assert.deepEqual([...a.norm], [...b.norm]);
  assert.deepEqual(listed(a), listed(b));
  for (const t of ['t1', 't77', 't399', 'nope']) assert.equal(a.idf(t), b.idf(t));
}

describe('BM25 built in slices', () => {
  it('equals the one-shot build, and lets the event loop run while it builds', async () => {
    const sliced = new FakeIndex(6000, 1);
    let ticks = 0;
    let stop = false;
    const tick = (): void => {
      ticks++;
      if (!stop) setImmediate(tick);
    };
    setImmediate(tick);
    const a = await prepareBm25(view(sliced));
    stop = true;
    assert.ok(ticks > 1, `the event loop ran ${ticks} times during the build`);
    sameIndex(a, bm25Of(view(new FakeIndex(6000, 1))));
    assert.equal(bm25Of(view(sliced)), a, 'bm25Of then finds it current');
  });

  it('patches a few changed files in place; after many, rebuilds — or, allowed, answers with the previous index meanwhile', async () => {
    const idx = new FakeIndex(3000, 2);
    const first = await prepareBm25(view(idx));
    idx.put('d1/f1.ts', 999);
    const patched = await prepareBm25(view(idx));
    assert.equal(patched, first, 'a small change is patched in place');
    for (let f = 0; f < 500; f++) idx.put(`new/g${f}.ts`, 5000 + f);
    const stale = await prepareBm25(view(idx), { allowStale: true });
    assert.equal(stale, first, 'while indexing, the previous index answers at once');
    const fresh = await prepareBm25(view(idx));
    assert.notEqual(fresh, first);
    assert.equal(fresh.chunks.length, idx.fileCount() * 4);
    assert.ok(fresh.postings.df('t5') > 0);
    // Every live chunk that uses a term is in its postings, and counts for its df; replaced ones do not.
    const using = (t: string) => [...idx.allChunks()].filter((c) => c.uses.includes(t)).map((c) => c.id).sort();
    for (const t of ['t5', 't123']) {
      assert.deepEqual(liveIds(fresh, t), using(t));
      assert.equal(fresh.postings.df(t), using(t).length);
    }
    // The same of an index patched many times over (its lists keep replaced chunks, scoring 0).
    for (let k = 0; k < 40; k++) {
      idx.put(`d${k % 37}/f${k * 7}.ts`, 9000 + k);
      idx.put(`new/h${k}.ts`, 9500 + k);
      const p = await prepareBm25(view(idx));
      assert.equal(p, fresh, 'patched in place');
    }
    const rebuilt = bm25Of(view(idx.copy()));
    assert.notEqual(rebuilt, fresh);
    for (const t of ['t5', 't123', 't399']) {
      assert.deepEqual(liveIds(fresh, t), using(t));
      assert.equal(fresh.postings.df(t), using(t).length);
      assert.equal(fresh.idf(t), rebuilt.idf(t), 'idf as a fresh build gives it');
    }
    // And every live chunk scores what a fresh build scores.
    const query = ['t5', 't123', 't399', 't7'].map((term, i) => ({ term, weight: 1 + i }));
    const scored = (bm: Bm25Index) => {
      const s = bm25Scores(bm, query);
      return new Map([...bm.chunks].flatMap((c, o) => (Number.isFinite(bm.norm[o]) ? [[c.id, s[o]] as const] : [])));
    };
    assert.deepEqual(scored(fresh), scored(rebuilt));
  });
});

describe('BM25 over packed chunks', () => {
  it('numbers terms by the index table and lists exactly what plain chunks give (long gaps, unused and late term numbers)', async () => {
    // A term in the first chunk and the last: its ordinal gap (over a thousand) takes two bytes.
    const plain = new FakeIndex(0, 0);
    plain.putChunks('first.ts', [makeChunk('first.ts', 1, 5, 10, { uses: ['rare', 't1'] })]);
    for (let f = 0; f < 300; f++) plain.put(`d${f % 37}/f${f}.ts`, 11 + f);
    plain.putChunks('last.ts', [makeChunk('last.ts', 1, 5, 10, { uses: ['t2', 'rare'] })]);
    const table = new TermTable();
    table.number('never-used'); // a number no chunk holds: no slot, no bytes
    const intern = (s: string) => s;
    const packed = new FakeIndex(0, 0);
    for (const path of plain.files()) packed.putChunks(path, packFileChunks(path, 'typescript', plain.chunksOf(path), table, intern).views());
    assert.ok(packed.chunksOf('last.ts').every((c) => c instanceof IndexedChunk && c.numberedIn(table)));
    for (const bm of [bm25Of(view(packed.copy())), await prepareBm25(view(packed))]) {
      const want = bm25Of(view(plain.copy()));
      sameIndex(bm, want);
      for (const t of ['t5', 't399', 'rare', 'never-used']) assert.equal(bm.postings.df(t), want.postings.df(t));
      assert.deepEqual(liveIds(bm, 'rare'), ['first.ts#1-5', 'last.ts#1-5']);
      const q = [{ term: 't7', weight: 1 }, { term: 't123', weight: 0.5 }];
      assert.deepEqual([...bm25Scores(bm, q)], [...bm25Scores(want, q)]);
    }
  });
});

describe('term scores in steps', () => {
  it('add what the one-shot scoring adds, pausing within a term listed for more than a block of chunks (patched chunks included)', () => {
    const index = new FakeIndex(0, 0);
    for (let f = 0; f < 23_000; f++) {
      const path = `d${f % 50}/f${f}.ts`;
      index.putChunks(path, [1, 11, 21, 31].map((line, k) => makeChunk(path, line, line + 9, 10, { uses: k % 4 === 3 ? ['rare'] : ['common', `t${f % 7}`] })));
    }
    bm25Of(view(index));
    index.putChunks('d1/f1.ts', [makeChunk('d1/f1.ts', 1, 40, 10, { uses: ['common', 'new'] })]);
    const bm = bm25Of(view(index)); // patched: the new chunk's postings are appended
    assert.ok(bm.postings.df('common') > 65_536);
    for (const term of ['common', 't3', 'rare', 'new', 'absent']) {
      const once = new Float32Array(bm.chunks.length);
      addTermScores(bm, term, 0.7, once);
      const stepped = new Float32Array(bm.chunks.length);
      const steps = addTermScoresInSteps(bm, term, 0.7, stepped);
      let pauses = 0;
      while (!steps.next().done) pauses++;
      assert.deepEqual(stepped, once, term);
      assert.equal(pauses, term === 'common' ? 1 : 0, term);
    }
  });
});

describe('BM25 while indexing', () => {
  it('keeps answering with the last index, and builds a fresh one only once the workspace has changed by half', async () => {
    const idx = new FakeIndex(2000, 3);
    const first = await prepareBm25(view(idx));
    const settle = async () => {
      for (let i = 0; i < 400; i++) await new Promise((r) => setImmediate(r));
    };
    // 600 new files: too many to patch at once, too few to build again.
    for (let f = 0; f < 600; f++) idx.put(`more/a${f}.ts`, 100 + f);
    assert.equal(await prepareBm25(view(idx), { allowStale: true }), first);
    await settle();
    assert.equal(await prepareBm25(view(idx), { allowStale: true }), first, 'no build was started');
    // 1,000 files in all since the build: half of what it holds. A build starts behind the stale answer.
    for (let f = 0; f < 400; f++) idx.put(`more/b${f}.ts`, 900 + f);
    assert.equal(await prepareBm25(view(idx), { allowStale: true }), first);
    await settle();
    const next = await prepareBm25(view(idx), { allowStale: true });
    assert.notEqual(next, first, 'the fresh build answers once done');
    assert.equal(next.chunks.length, idx.fileCount() * 4);
  });

  it('once indexing is over, answers with the last index while a rebuild runs, and says when the rebuilt one is in place', async () => {
    const idx = new FakeIndex(2000, 4);
    const first = await prepareBm25(view(idx));
    assert.equal(bm25Building(view(idx)), undefined);
    // A small change is patched at once: nothing is built, nothing is behind.
    idx.put('d1/f1.ts', 77);
    assert.equal(await prepareBm25(view(idx), { answerWhileBuilding: true }), first);
    assert.equal(bm25Building(view(idx)), undefined, 'a patch needs no build');
    // 300 new files: too many to patch in one turn, far fewer than half (allowStale alone would build nothing).
    for (let f = 0; f < 300; f++) idx.put(`late/c${f}.ts`, 3000 + f);
    assert.equal(await prepareBm25(view(idx), { answerWhileBuilding: true }), first, 'the last index answers at once');
    const building = bm25Building(view(idx));
    assert.ok(building, 'and a rebuild has started behind it');
    assert.equal(await prepareBm25(view(idx), { answerWhileBuilding: true }), first, 'again while it runs');
    assert.equal(bm25Building(view(idx)), building, 'the same rebuild, not a second one');
    await building;
    assert.equal(bm25Building(view(idx)), undefined);
    const rebuilt = await prepareBm25(view(idx), { answerWhileBuilding: true });
    assert.notEqual(rebuilt, first);
    assert.equal(rebuilt.chunks.length, idx.fileCount() * 4, 'the rebuilt index holds every file');
    sameIndex(rebuilt, bm25Of(view(idx.copy())));
  });

  it('a rebuild that fails behind a stale answer is no unhandled rejection; a caller that waits sees the error', async () => {
    const idx = new FakeIndex(1000, 5);
    const first = await prepareBm25(view(idx));
    for (let f = 0; f < 300; f++) idx.put(`late/e${f}.ts`, 7000 + f);
    const chunksOf = idx.chunksOf;
    idx.chunksOf = (path: string) => {
      if (path.startsWith('late/')) throw new Error('disk gone');
      return chunksOf(path);
    };
    const broken = idx;
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      assert.equal(await prepareBm25(view(broken), { answerWhileBuilding: true }), first, 'the last index answers');
      assert.ok(bm25Building(view(broken)), 'a rebuild started');
      // Nobody waits on it here (as when the status bar moved on): it fails on its own.
      while (bm25Building(view(broken))) await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
      await assert.rejects(prepareBm25(view(broken)), /disk gone/, 'a caller that needs a current index gets the error');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('ordinals of a file', () => {
  it('fileOrdinals gives what ordinalOf gives chunk by chunk, for current, patched and replaced files', async () => {
    const idx = new FakeIndex(300, 5);
    const bm = await prepareBm25(view(idx));
    idx.put('d1/f1.ts', 77); // patched in place below
    const stale = 'd2/f2.ts';
    await prepareBm25(view(idx));
    idx.put(stale, 78); // not patched: bm still lists its old chunks
    const check = (path: string) => {
      const chunks = view(idx).chunksOf(path);
      assert.deepEqual(fileOrdinals(bm, path, chunks), chunks.map((c) => ordinalOf(bm, c)), path);
    };
    for (const path of ['d0/f0.ts', 'd1/f1.ts', stale, 'nowhere.ts']) check(path);
    // A chunk object handed out again for the same span finds the same ordinal.
    const copy = view(idx).chunksOf('d0/f0.ts').map((c) => ({ ...c }));
    assert.deepEqual(fileOrdinals(bm, 'd0/f0.ts', copy), view(idx).chunksOf('d0/f0.ts').map((c) => ordinalOf(bm, c)));
    assert.ok(fileOrdinals(bm, 'd0/f0.ts', copy).every((o) => o !== undefined));
  });
});

describe('topScores', () => {
  it('keeps what sorting every positive score and slicing keeps, in the same order (ties, zeros, skips, any k)', () => {
    for (let run = 0; run < 300; run++) {
      const r = rng(700 + run);
      const n = Math.floor(r() * 400);
      // Few distinct values, so ties are common.
      const scores = Float32Array.from({ length: n }, () => (r() < 0.3 ? 0 : Math.floor(r() * 8) / 4));
      const skipped = new Set(Array.from({ length: Math.floor(r() * 10) }, () => Math.floor(r() * Math.max(1, n))));
      const k = Math.floor(r() * 50);
      const all = [...scores.keys()].filter((i) => scores[i] > 0 && !skipped.has(i));
      const expected = [...all].sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
      const { top, max } = topScores(scores, k, (i) => skipped.has(i));
      assert.deepEqual(top, expected, `run ${run}`);
      assert.equal(max, all.length ? Math.max(...all.map((i) => scores[i])) : 0);
    }
  });

  it('gives the same in steps, pausing between blocks of ordinals (a million scores never in one turn)', () => {
    const r = rng(91);
    const n = 200_000;
    const scores = Float32Array.from({ length: n }, () => (r() < 0.5 ? 0 : Math.floor(r() * 64) / 8));
    const skip = (i: number) => i % 997 === 0;
    for (const k of [0, 1, 300]) {
      const steps = topScoresInSteps(scores, k, skip);
      let pauses = 0;
      let step = steps.next();
      for (; !step.done; step = steps.next()) pauses++;
      assert.deepEqual(step.value, topScores(scores, k, skip));
      assert.equal(pauses, Math.ceil(n / 65_536));
    }
  });
});

describe('ordinals per file', () => {
  it('says a file of consecutive ordinals by its first and a count, and keeps a list for a file listed apart', () => {
    const files = new FileOrdinals();
    const want = new Map<string, number[]>();
    const r = rng(7);
    const paths = ['a.ts', 'b.ts', 'c.ts', 'd.ts'];
    let ord = 0;
    for (let round = 0; round < 200; round++) {
      const path = paths[Math.floor(r() * paths.length)];
      if (r() < 0.1) {
        files.delete(path);
        want.delete(path);
        continue;
      }
      // Runs of a few ordinals, as a build or a patch adds a file; sometimes a file comes back later, apart.
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
        assert.equal(files.add(path, ord), !want.has(path), 'true for a file not listed before');
        want.set(path, [...(want.get(path) ?? []), ord++]);
      }
      assert.equal(files.size, want.size);
      for (const p of paths) assert.deepEqual(files.get(p), want.get(p), `${p} after round ${round}`);
    }
  });
});
