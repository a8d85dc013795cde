import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { emptySignals, type EditorSignals } from '../../src/core/types';
import { EngineSession, type ComputedSummary, type EngineInfo } from '../../src/extension/engineSession';
import { buildPanelState, PACKED_WINDOW_BUDGETS, type PanelInputs } from '../../src/extension/panelState';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
let engine: EngineSession;
let info: EngineInfo;
let computed: ComputedSummary;
before(async () => {
  engine = await EngineSession.open({ root: w.root, settings: { model: 'llama-3.1-8b', hardware: 'h100-sxm', budget: 4096 }, index: { syntax: null }, ranker: { device: 'cpu' } });
  await engine.refresh();
  computed = await engine.compute({ path: 'src/main.ts', line: 4, column: 0 }, emptySignals());
  info = await engine.info();
});

/** What the controller does: the session's facts for the answer, then the state. */
async function stateFor(signals: EditorSignals, withWindows: boolean, rest: Partial<PanelInputs> = {}) {
  const facts = await engine.panelFacts(computed.id, signals, withWindows);
  return buildPanelState({ engine: info, computed, facts, indexing: null, messages: [], excludedPaths: [], busy: false, ...rest });
}
after(async () => {
  await engine.dispose();
  w.cleanup();
});

describe('panel state', () => {
  it('fills the candidate windows table in the documented order, marking the current budget', async () => {
    const state = await stateFor({ ...emptySignals(), openTabs: ['src/math.ts'] }, true);
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

  it('sends dense and sliding-window cost curves with the current window and budget', async () => {
    const state = await stateFor(emptySignals(), false);
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

  it('round-trips through JSON (the serializer stores it)', async () => {
    const state = await stateFor(emptySignals(), true, { indexing: { files: 1, total: 2, done: false }, messages: [{ level: 'warning', text: 'x' }], busy: true });
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

describe('panel facts from the engine session', () => {
  it('prices the prompt cache against the previous answer for the file, and forgets answers it no longer keeps', async () => {
    const facts = await engine.panelFacts(computed.id, emptySignals(), false);
    assert.equal(facts.cache?.totalTokens, computed.prompt.tokens);
    assert.equal(facts.windows, undefined);
    // The session keeps the latest few answers; an id it never gave has no facts.
    assert.deepEqual(await engine.panelFacts(computed.id + 1000, emptySignals(), true), {});
    assert.deepEqual(await engine.samples(computed.id + 1000), []);
    const samples = await engine.samples(computed.id);
    assert.ok(samples.length >= 2 && samples.every((t) => computed.prompt.text.includes(t.trimEnd().split('\n')[0])));
  });
});
