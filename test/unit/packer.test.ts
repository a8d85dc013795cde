import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { knapsackExact, packChunks, packValue } from '../../src/core/pack/packer';
import { fuzzRuns, makeChunk, ranked } from '../helpers/fakeIndex';

const instance = fc.array(fc.record({ tokens: fc.integer({ min: 1, max: 400 }), score: fc.double({ min: 0, max: 1, noNaN: true }), file: fc.integer({ min: 0, max: 5 }), start: fc.integer({ min: 1, max: 300 }) }), { minLength: 0, maxLength: 40 });

function toRanked(items: Array<{ tokens: number; score: number; file: number; start: number }>) {
  return items
    .map((x, i) => ranked(makeChunk(`f${x.file}.ts`, x.start, x.start + 5, x.tokens, { hash: `h${i}` }), x.score))
    .sort((a, b) => b.score - a.score);
}

function bruteForce(weights: number[], values: number[], cap: number): number {
  let best = 0;
  for (let mask = 0; mask < 1 << weights.length; mask++) {
    let w = 0;
    let v = 0;
    for (let i = 0; i < weights.length; i++) if (mask & (1 << i)) { w += weights[i]; v += values[i]; }
    if (w <= cap && v > best) best = v;
  }
  return best;
}

describe('packer', () => {
  it('never exceeds the budget, keeps the cursor window, and gives every dropped chunk a reason', () => {
    fc.assert(
      fc.property(instance, fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 1500 }), (items, budget, cursorTokens) => {
        const r = packChunks({ ranked: toRanked(items), budget, cursorTokens, overheadTokens: () => 7 });
        assert.ok(cursorTokens > budget || r.costTokens + cursorTokens <= budget, `cost ${r.costTokens} + cursor ${cursorTokens} > ${budget}`);
        for (const it of r.items) {
          if (!it.selected) assert.match(it.reason, /^(over budget|too large|below threshold|excluded|redundant with .+)$/);
        }
        assert.equal(r.items.length, items.length);
      }),
      { numRuns: fuzzRuns(300), seed: 42 },
    );
  });

  it('keeps pinned chunks that fit and never selects excluded ones', () => {
    const a = makeChunk('a.ts', 1, 10, 100);
    const b = makeChunk('b.ts', 1, 10, 100);
    const c = makeChunk('c.ts', 1, 10, 100);
    const r = packChunks({ ranked: [ranked(a, 0.9), ranked(b, 0.8), ranked(c, 0.01)], budget: 250, cursorTokens: 50, pinned: new Set([c.id]), excluded: new Set(['a.ts']) });
    const by = new Map(r.items.map((i) => [i.ranked.chunk.id, i]));
    assert.equal(by.get(c.id)!.reason, 'pinned');
    assert.equal(by.get(a.id)!.reason, 'excluded');
    assert.equal(by.get(b.id)!.reason, 'selected');
  });

  it('marks overlapping chunks of one file and identical text as redundant', () => {
    const a = makeChunk('a.ts', 1, 60, 100);
    const b = makeChunk('a.ts', 31, 90, 100);
    const c = makeChunk('b.ts', 1, 10, 50, { hash: a.hash });
    const r = packChunks({ ranked: [ranked(a, 0.9), ranked(b, 0.8), ranked(c, 0.7)], budget: 10000, cursorTokens: 0 });
    assert.deepEqual(r.items.map((i) => i.reason), ['selected', `redundant with ${a.id}`, `redundant with ${a.id}`]);
  });

  it('selects a chunk listed twice (one id) once: the repeat is redundant, and the budget holds (found by npm run fuzz)', () => {
    const a = makeChunk('f0.ts', 1, 6, 1, { hash: 'h0' });
    const again = makeChunk('f0.ts', 1, 6, 1, { hash: 'h1' });
    assert.equal(a.id, again.id);
    const r = packChunks({ ranked: [ranked(a, 0), ranked(again, 0)], budget: 8, cursorTokens: 0, overheadTokens: () => 7 });
    assert.deepEqual(r.items.map((i) => [i.selected, i.reason]), [[true, 'selected'], [false, `redundant with ${a.id}`]]);
    assert.equal(r.costTokens, 8);
    // Pinned, the same: one copy kept.
    const p = packChunks({ ranked: [ranked(a, 0.5), ranked(again, 0.4)], budget: 100, cursorTokens: 0, pinned: new Set([a.id]) });
    assert.deepEqual(p.items.map((i) => i.reason), ['pinned', `redundant with ${a.id}`]);
    assert.equal(p.selectedTokens, 1);
  });

  it('says "too large" for a chunk bigger than the whole budget', () => {
    const r = packChunks({ ranked: [ranked(makeChunk('a.ts', 1, 10, 5000), 1)], budget: 1000, cursorTokens: 10 });
    assert.equal(r.items[0].reason, 'too large');
  });

  it('drops candidates below the threshold', () => {
    const r = packChunks({ ranked: [ranked(makeChunk('a.ts', 1, 10, 5), 0.01)], budget: 1000, cursorTokens: 0, minScore: 0.1 });
    assert.equal(r.items[0].reason, 'below threshold');
  });

  it('selected relevance never decreases as the budget grows', () => {
    fc.assert(
      fc.property(instance, fc.array(fc.integer({ min: 0, max: 6000 }), { minLength: 2, maxLength: 6 }), (items, budgets) => {
        const list = toRanked(items);
        let prev = -1;
        for (const b of [...budgets].sort((x, y) => x - y)) {
          const rel = packChunks({ ranked: list, budget: b, cursorTokens: 100, overheadTokens: () => 5 }).relevance;
          assert.ok(rel >= prev - 1e-9, `relevance fell from ${prev} to ${rel} at budget ${b}`);
          prev = rel;
        }
      }),
      { numRuns: fuzzRuns(200), seed: 7 },
    );
  });

  it('is within a factor 2 of the exact optimum (and exact below its DP capacity) on small instances', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ tokens: fc.integer({ min: 1, max: 3000 }), score: fc.double({ min: 0.001, max: 1, noNaN: true }) }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 8000 }),
        (items, budget) => {
          const list = items.map((x, i) => ranked(makeChunk(`f${i}.ts`, 1, 5, x.tokens, { hash: `h${i}` }), x.score)).sort((a, b) => b.score - a.score);
          const opt = bruteForce(list.map((r) => r.chunk.tokens), list.map((r) => packValue(r.score)), budget);
          const got = packChunks({ ranked: list, budget, cursorTokens: 0 }).relevance;
          assert.ok(got <= opt + 1e-9);
          assert.ok(got >= opt / 2 - 1e-9, `got ${got}, optimum ${opt}`);
          if (budget <= 2048) assert.ok(Math.abs(got - opt) < 1e-9, `below the DP capacity the answer is exact: got ${got}, optimum ${opt}`);
        },
      ),
      { numRuns: fuzzRuns(300), seed: 11 },
    );
  });

  it('knapsackExact matches brute force', () => {
    const w = [5, 4, 6, 3];
    const v = [10, 40, 30, 50];
    const pick = knapsackExact(w, v, 10);
    assert.equal(pick.reduce((s, i) => s + v[i], 0), bruteForce(w, v, 10));
  });

  describe('stable layer', () => {
    it('keeps the file-level pack ahead of the knapsack, inside its own share, and never over the budget (property)', () => {
      fc.assert(
        fc.property(instance, instance, fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 1500 }), fc.double({ min: 0, max: 1, noNaN: true }), (cursorItems, fileItems, budget, cursorTokens, share) => {
          const seen = new Set<string>();
          const cursorRanked = toRanked(cursorItems).filter((r) => !seen.has(r.chunk.id) && seen.add(r.chunk.id));
          // The file-level ranking shares some chunks with the cursor's and has its own.
          const fileRanked = [...cursorRanked.filter((_, i) => i % 2 === 0), ...toRanked(fileItems).map((r) => ranked({ ...r.chunk, id: `file:${r.chunk.id}`, path: `g/${r.chunk.path}`, hash: `g${r.chunk.hash}` }, r.score))];
          const stableBudget = Math.floor(share * Math.max(0, budget - cursorTokens));
          const r = packChunks({ ranked: cursorRanked, budget, cursorTokens, overheadTokens: () => 7, stableLayer: { ranked: fileRanked, budget: stableBudget } });
          assert.ok(cursorTokens > budget || r.costTokens + cursorTokens <= budget);
          const stable = r.items.filter((i) => i.reason === 'stable');
          assert.ok(stable.reduce((s, i) => s + i.ranked.chunk.tokens + 7, 0) <= stableBudget, 'the layer stays in its share');
          // What the layer chose does not depend on the cursor's ranking: it is the file-level pack alone.
          const alone = packChunks({ ranked: fileRanked, budget: stableBudget, cursorTokens: 0, overheadTokens: () => 7 });
          const aloneIds = alone.items.filter((i) => i.selected).map((i) => i.ranked.chunk.id).sort();
          if (stableBudget <= budget - cursorTokens) assert.deepEqual(stable.map((i) => i.ranked.chunk.id).sort(), aloneIds);
          // Every candidate of either ranking that was chosen has exactly one item.
          const ids = r.items.map((i) => i.ranked.chunk.id);
          assert.equal(new Set(ids).size, ids.length);
          for (const id of aloneIds) assert.ok(ids.includes(id));
        }),
        { numRuns: fuzzRuns(300), seed: 8 },
      );
    });

    it('counts pins against the layer and leaves the rest of the budget to the cursor ranking', () => {
      const pin = makeChunk('p.ts', 1, 10, 100);
      const f1 = makeChunk('f1.ts', 1, 10, 100);
      const f2 = makeChunk('f2.ts', 1, 10, 100);
      const c1 = makeChunk('c1.ts', 1, 10, 100);
      const c2 = makeChunk('c2.ts', 1, 10, 100);
      const r = packChunks({
        ranked: [ranked(c1, 0.9), ranked(c2, 0.8), ranked(pin, 0.1)],
        budget: 400,
        cursorTokens: 100,
        pinned: new Set([pin.id]),
        stableLayer: { ranked: [ranked(pin, 0.999), ranked(f1, 0.7), ranked(f2, 0.6)], budget: 200 },
      });
      const by = new Map(r.items.map((i) => [i.ranked.chunk.id, i.reason]));
      assert.equal(by.get(pin.id), 'pinned');
      assert.equal(by.get(f1.id), 'stable');
      assert.ok(!by.has(f2.id), 'the pin used half of the layer; a file-level candidate left out of it is no item');
      assert.equal(by.get(c1.id), 'selected');
      assert.equal(by.get(c2.id), 'over budget');
      assert.equal(r.selectedTokens, 300);
    });

    it('is off with no share, and drops cursor candidates that repeat a stable chunk', () => {
      const f = makeChunk('f.ts', 1, 60, 100);
      const overlap = makeChunk('f.ts', 20, 70, 100);
      const off = packChunks({ ranked: [ranked(overlap, 0.9)], budget: 1000, cursorTokens: 0, stableLayer: { ranked: [ranked(f, 0.5)], budget: 0 } });
      assert.deepEqual(off.items.map((i) => i.reason), ['selected']);
      const on = packChunks({ ranked: [ranked(overlap, 0.9)], budget: 1000, cursorTokens: 0, stableLayer: { ranked: [ranked(f, 0.5)], budget: 500 } });
      assert.deepEqual(on.items.map((i) => [i.ranked.chunk.id, i.reason]), [[overlap.id, `redundant with ${f.id}`], [f.id, 'stable']]);
    });
  });
});
