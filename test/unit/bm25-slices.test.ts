// prepareBm25: a full BM25 build spread over event-loop turns must give what the
// one-shot build gives, leave the event loop free, and (while indexing) answer
// with the previous index instead of waiting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IndexView } from '../../src/core/index/indexView';
import { bm25Of, prepareBm25, topScores, type Bm25Index } from '../../src/core/rank/bm25';
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

function sameIndex(a: Bm25Index, b: Bm25Index): void {
  assert.deepEqual(a.chunks.map((c) => c.id), b.chunks.map((c) => c.id));
  assert.deepEqual([...a.norm], [...b.norm]);
  assert.deepEqual(new Map([...a.postings].map(([t, p]) => [t, [...p]])), new Map([...b.postings].map(([t, p]) => [t, [...p]])));
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
    assert.ok(fresh.postings.get('t5')!.length > 0);
    // Every live chunk that uses a term is in its postings, and only those.
    for (const t of ['t5', 't123']) assert.equal(fresh.postings.get(t)!.length, [...idx.allChunks()].filter((c) => c.uses.includes(t)).length);
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
});
