import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContextEngine, type ComputedContext } from '../../src/core/engine';
import { emptySignals } from '../../src/core/types';
import { buildPanelState, PACKED_WINDOW_BUDGETS } from '../../src/extension/panelState';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
let engine: ContextEngine;
let computed: ComputedContext;
before(async () => {
  engine = await ContextEngine.open({ root: w.root, settings: { model: 'llama-3.1-8b', hardware: 'h100-sxm', budget: 4096 }, index: { syntax: null }, ranker: { device: 'cpu' } });
  await engine.refresh();
  computed = await engine.compute({ path: 'src/main.ts', line: 4, column: 0 }, emptySignals());
});
after(async () => {
  await engine.dispose();
  w.cleanup();
});

describe('panel state', () => {
  it('fills the candidate windows table in the documented order, marking the current budget', () => {
    const state = buildPanelState({ engine, computed, signals: { ...emptySignals(), openTabs: ['src/math.ts'] }, indexing: null, messages: [], excludedPaths: [], busy: false, withWindows: true });
    const kinds = state.windows.map((r) => r.kind);
    assert.deepEqual(kinds, ['cursor', ...PACKED_WINDOW_BUDGETS.map(() => 'packed'), 'file', 'open-tabs', 'workspace']);
    const current = state.windows.filter((r) => r.current);
    assert.equal(current.length, 1);
    assert.equal(current[0].label, 'Packed @ 4k');
    assert.equal(current[0].tokens, computed.report.totals.promptTokens);
    // Bigger windows cost more attention: the quadratic cliff, row by row.
    const packed = state.windows.filter((r) => r.kind === 'packed');
    for (let i = 1; i < packed.length; i++) assert.ok(packed[i].tokens >= packed[i - 1].tokens);
    for (const r of state.windows) assert.ok(r.attentionFlops !== null && r.attentionShare !== null);
  });

  it('sends dense and sliding-window cost curves with the current window and budget', () => {
    const state = buildPanelState({ engine, computed, signals: emptySignals(), indexing: null, messages: [], excludedPaths: [], busy: false, withWindows: false });
    assert.ok(state.curves);
    assert.deepEqual(state.curves!.series.map((s) => s.kind).sort(), ['dense', 'sliding']);
    assert.equal(state.curves!.budgetTokens, 4096);
    assert.equal(state.curves!.currentTokens, computed.report.totals.promptTokens);
    assert.deepEqual(state.windows, []);
    assert.equal(state.report?.file, 'src/main.ts');
    assert.ok(state.models.choices.some((c) => c.id === 'gpt-4o'));
    assert.equal(state.models.current, 'llama-3.1-8b');
    assert.equal(state.budget.max, 131072 - 4096);
  });

  it('splits the prompt exactly into cursor, pinned, retrieved and headers (the budget bar adds up)', () => {
    const s = computed.report.budgetSplit;
    assert.equal(s.cursor + s.pinned + s.retrieved + s.overhead, computed.report.totals.promptTokens);
    assert.ok(s.overhead > 0);
  });

  it('round-trips through JSON (the serializer stores it)', () => {
    const state = buildPanelState({ engine, computed, signals: emptySignals(), indexing: { files: 1, total: 2, done: false }, messages: [{ level: 'warning', text: 'x' }], excludedPaths: [], busy: true, withWindows: true });
    const text = JSON.stringify(state);
    assert.equal(JSON.stringify(JSON.parse(text)), text);
    const bad: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (typeof v === 'number' && !Number.isFinite(v)) bad.push(at);
      else if (typeof v === 'function' || typeof v === 'bigint') bad.push(at);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
    };
    walk(state, 'state');
    assert.deepEqual(bad, [], 'no values JSON would lose');
  });
});
