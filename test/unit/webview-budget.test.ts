// Budget bar segments, the log-scale slider, live sending, and the chunk lists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { budgetBar, budgetLevel, keyStepTokens, liveSender, SLIDER_STEPS, sliderToTokens, tokensToSlider } from '../../webview/budgetBar';
import { isExcluded, rowSignature, sendOrder, sourceLabels } from '../../webview/chunks';
import { sampleReport } from '../../webview/dev/sampleState';

const split = { contextLimit: 131072, reserve: 1024, overhead: 64, cursor: 1024, pinned: 1240, retrieved: 2596 };

describe('budget bar', () => {
  it('splits budget + reserve into categories whose fractions sum to 1', () => {
    const m = budgetBar(split, 8192);
    assert.deepEqual(
      m.segments.map((s) => [s.key, s.tokens]),
      [
        ['overhead', 64],
        ['cursor', 1024],
        ['pinned', 1240],
        ['retrieved', 2596],
        ['free', 8192 - 4924],
        ['reserve', 1024],
      ],
    );
    assert.equal(m.used, 4924);
    assert.equal(m.over, 0);
    assert.ok(Math.abs(m.segments.reduce((a, s) => a + s.fraction, 0) - 1) < 1e-12);
    assert.ok(Math.abs(m.usedShare - 4924 / 8192) < 1e-12);
    assert.equal(budgetLevel(m.usedShare), 'ok');
  });

  it('shows overflow: no free space, the budget marked inside the bar', () => {
    const m = budgetBar(split, 4096);
    assert.equal(m.segments.find((s) => s.key === 'free')!.tokens, 0);
    assert.equal(m.over, 4924 - 4096);
    assert.ok(m.budgetMark > 0 && m.budgetMark < 1);
    assert.equal(budgetLevel(m.usedShare), 'over');
    assert.equal(budgetLevel(0.85), 'warn');
    assert.equal(budgetLevel(0.85, 0.9), 'ok');
  });

  it('copes with a missing split and junk numbers', () => {
    const empty = budgetBar(null, 8192);
    assert.equal(empty.used, 0);
    assert.equal(empty.segments.find((s) => s.key === 'free')!.fraction, 1);
    const junk = budgetBar({ ...split, cursor: NaN, pinned: -5, retrieved: Infinity }, NaN);
    for (const s of junk.segments) assert.ok(Number.isFinite(s.fraction) && s.fraction >= 0, s.key);
    const zero = budgetBar(null, 0);
    for (const s of zero.segments) assert.equal(s.fraction, 0);
  });

  it('fractions always sum to 1 (or 0) and are never negative (fuzz)', () => {
    const n = fc.integer({ min: 0, max: 200_000 });
    fc.assert(
      fc.property(n, n, n, n, n, n, (a, b, c, d, e, budget) => {
        const m = budgetBar({ contextLimit: 0, overhead: a, cursor: b, pinned: c, retrieved: d, reserve: e }, budget);
        const sum = m.segments.reduce((x, s) => x + s.fraction, 0);
        assert.ok(m.segments.every((s) => s.fraction >= 0));
        assert.ok(Math.abs(sum - 1) < 1e-9 || sum === 0);
        return true;
      }),
      { numRuns: Number(process.env.CONTEXT_BUDGET_FUZZ_RUNS ?? 300) },
    );
  });
});

describe('budget slider', () => {
  const [min, max, step] = [256, 130048, 256];
  it('maps positions to snapped, clamped, monotone budgets on a log scale', () => {
    assert.equal(sliderToTokens(0, min, max, step), min);
    assert.equal(sliderToTokens(SLIDER_STEPS, min, max, step), max);
    assert.equal(sliderToTokens(-5, min, max, step), min);
    assert.equal(sliderToTokens(NaN, min, max, step), min);
    let prev = 0;
    for (let p = 0; p <= SLIDER_STEPS; p++) {
      const t = sliderToTokens(p, min, max, step);
      assert.ok(t >= prev && t >= min && t <= max);
      assert.ok(t % step === 0 || t === max);
      prev = t;
    }
    // Log scale: the middle is the geometric mean, not the arithmetic one.
    const mid = sliderToTokens(SLIDER_STEPS / 2, min, max, step);
    assert.ok(Math.abs(mid - Math.sqrt(min * max)) <= step, String(mid));
  });

  it('round-trips budgets through positions', () => {
    for (const t of [256, 2048, 8192, 32768, 130048]) {
      assert.ok(Math.abs(sliderToTokens(tokensToSlider(t, min, max), min, max, step) - t) <= step * 2, String(t));
    }
    assert.equal(tokensToSlider(8192, 8192, 8192), 0);
  });

  it('key steps: ±10% (at least one step), ×2 / ÷2, Home / End, clamped', () => {
    assert.equal(keyStepTokens('ArrowRight', 8192, min, max, step), 9216);
    assert.equal(keyStepTokens('ArrowLeft', 8192, min, max, step), 7424);
    assert.equal(keyStepTokens('ArrowUp', 256, min, max, step), 512);
    assert.equal(keyStepTokens('ArrowDown', 256, min, max, step), 256);
    assert.equal(keyStepTokens('PageUp', 8192, min, max, step), 16384);
    assert.equal(keyStepTokens('PageDown', 8192, min, max, step), 4096);
    assert.equal(keyStepTokens('PageUp', 100000, min, max, step), max);
    assert.equal(keyStepTokens('Home', 8192, min, max, step), min);
    assert.equal(keyStepTokens('End', 8192, min, max, step), max);
    assert.equal(keyStepTokens('a', 8192, min, max, step), undefined);
  });

  it('liveSender: first value at once, then at most one per interval, the last always, duplicates dropped', () => {
    let now = 0;
    const timers: Array<{ at: number; fn: () => void; id: number }> = [];
    let nextId = 1;
    const sent: number[] = [];
    const s = liveSender<number>((v) => sent.push(v), 50, {
      set: (fn, ms) => {
        const id = nextId++;
        timers.push({ at: now + ms, fn, id });
        return id;
      },
      clear: (id) => {
        const i = timers.findIndex((t) => t.id === id);
        if (i >= 0) timers.splice(i, 1);
      },
      now: () => now,
    });
    const advance = (ms: number) => {
      const end = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (!t || t.at > end) break;
        timers.shift();
        now = t.at;
        t.fn();
      }
      now = end;
    };
    s.push(1000); // immediate
    assert.deepEqual(sent, [1000]);
    for (let v = 1001; v <= 1010; v++) {
      advance(5);
      s.push(v);
    }
    assert.ok(s.busy);
    advance(100);
    // 10 pushes over 50 ms: the first at once, at most one mid-way, the last at the end.
    assert.equal(sent[0], 1000);
    assert.equal(sent[sent.length - 1], 1010);
    assert.ok(sent.length <= 3, JSON.stringify(sent));
    assert.ok(!s.busy);
    // A drag that lasts 300 ms sends about every 50 ms, never more often.
    const before = sent.length;
    for (let i = 0; i < 60; i++) {
      advance(5);
      s.push(2000 + i);
    }
    advance(100);
    const drag = sent.slice(before);
    assert.ok(drag.length >= 5 && drag.length <= 8, String(drag.length));
    assert.equal(drag[drag.length - 1], 2059);
    // Same value again: nothing.
    advance(100);
    s.push(2059);
    advance(100);
    assert.equal(sent[sent.length - 1], 2059);
    assert.equal(sent.filter((v) => v === 2059).length, 1);
    // After reset, the same value goes out again.
    s.reset(undefined);
    s.push(2059);
    assert.equal(sent.filter((v) => v === 2059).length, 2);
  });
});

describe('chunk lists', () => {
  it('sends pinned first, then selected in rank order; dropped in rank order', () => {
    const r = sampleReport();
    const { selected, dropped } = sendOrder(r);
    assert.equal(selected[0].pinned, true);
    assert.ok(selected.every((i) => i.selected));
    assert.ok(dropped.every((i) => !i.selected));
    assert.equal(selected.length + dropped.length, r.items.length);
    const rank = (id: string) => r.items.findIndex((i) => i.id === id);
    const unpinned = selected.filter((i) => !i.pinned).map((i) => rank(i.id));
    assert.deepEqual(unpinned, [...unpinned].sort((a, b) => a - b));
    assert.deepEqual(dropped.map((i) => rank(i.id)), [...dropped.map((i) => rank(i.id))].sort((a, b) => a - b));
    assert.deepEqual(sendOrder(null), { selected: [], dropped: [] });
  });

  it('source chips are unique and in a stable order', () => {
    assert.deepEqual(sourceLabels(['bm25', 'definition', 'bm25', 'open-tab', 'pinned']), ['pinned', 'definition', 'bm25', 'open-tab']);
    assert.deepEqual(sourceLabels(['zzz', 'bm25']), ['bm25', 'zzz']);
  });

  it('marks excluded items and changes the row signature when anything shown changes', () => {
    const r = sampleReport();
    const ex = r.items.find((i) => i.reason === 'excluded')!;
    assert.ok(isExcluded(ex));
    assert.ok(!isExcluded(r.items[0]));
    const it0 = r.items[0];
    const sig = rowSignature(it0, false);
    assert.equal(rowSignature({ ...it0 }, false), sig);
    assert.notEqual(rowSignature({ ...it0, pinned: !it0.pinned }, false), sig);
    assert.notEqual(rowSignature({ ...it0, tokens: it0.tokens + 1 }, false), sig);
    assert.notEqual(rowSignature({ ...it0, reason: 'over budget' }, false), sig);
    assert.notEqual(rowSignature(it0, true), sig);
  });
});
