// The status bar text, tooltip and colors, and settings validation: the pure
// parts of the VS Code adapter, tested without VS Code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateCost } from '../../src/core/cost/costModel';
import { builtinHardware, builtinModel } from '../../src/core/cost/profiles';
import type { ContextReport } from '../../src/core/report';
import { filesExcludeGlobs, readSettings } from '../../src/extension/config';
import { SignalTracker } from '../../src/extension/signals';
import { statusSeverity, statusView } from '../../src/extension/statusText';

function report(model: string, promptTokens: number, budget: number): ContextReport {
  const m = builtinModel(model)!;
  const hw = builtinHardware('h100-sxm')!;
  return {
    version: 1, root: '/r', file: 'a.ts', line: 3, column: 0, model, modelName: m.name, encoding: m.encoding, hardware: hw.id, budget,
    budgetSplit: { contextLimit: m.contextLength, reserve: 4096, promptOverhead: 0, overhead: 100, cursor: 1000, pinned: 0, retrieved: promptTokens - 1100 },
    device: 'cpu', cursor: { startLine: 1, endLine: 20, tokens: 1000 }, items: [],
    totals: { selectedTokens: promptTokens - 1100, candidates: 10, indexedFiles: 5, promptTokens },
    cost: estimateCost(m, hw, { inputTokens: promptTokens, outputTokens: 256 }), timings: { indexMs: 0, rankMs: 0, packMs: 0, totalMs: 0 },
  };
}

describe('status bar text', () => {
  it('shows tokens / budget, attention share and price for an open model', () => {
    const v = statusView(report('llama-3.1-8b', 3100, 8192), { warnAt: 0.8, errorAt: 1 });
    assert.match(v.text, /^\$\(symbol-ruler\) 3\.1k \/ 8\.2k · \d+% attn · \$/);
    assert.equal(v.severity, 'normal');
    assert.match(v.tooltip, /Time to first token/);
    assert.match(v.tooltip, /KV cache/);
    assert.match(v.tooltip, /Ranker: cpu/);
  });

  it('shows no attention figures for a hosted model whose architecture is not public', () => {
    const v = statusView(report('gpt-4o', 3100, 8192), { warnAt: 0.8, errorAt: 1 });
    assert.doesNotMatch(v.text, /attn/);
    assert.match(v.tooltip, /Architecture not public/);
  });

  it('warns from the warn threshold and errors above the error threshold', () => {
    assert.equal(statusSeverity(700, 1000, 0.8, 1), 'normal');
    assert.equal(statusSeverity(800, 1000, 0.8, 1), 'warning');
    assert.equal(statusSeverity(1001, 1000, 0.8, 1), 'error');
    assert.equal(statusSeverity(5, 0, 0.8, 1), 'error');
  });

  it('escapes markdown in names that reach the tooltip', () => {
    const r = report('gpt-4o', 100, 1000);
    r.rankerNote = 'model *broken* [link](x)';
    assert.match(statusView(r, { warnAt: 0.8, errorAt: 1 }).tooltip, /\\\*broken\\\* \\\[link\\\]\\\(x\\\)/);
  });
});

describe('settings', () => {
  const get = (values: Record<string, unknown>) => (k: string) => values[k];

  it('defaults when nothing is set', () => {
    const { settings, errors } = readSettings(get({}), true);
    assert.deepEqual(errors, []);
    assert.equal(settings.engine.budget, 8192);
    assert.equal(settings.engine.model, 'gpt-4o');
    assert.equal(settings.device, 'auto');
    assert.equal(settings.statusBar.enabled, true);
  });

  it('one message per bad value, naming the setting, and the default is used', () => {
    const { settings, errors } = readSettings(get({ budget: -5, prefixShare: 2, stableShare: -1, 'ranker.device': 'tpu', maxFileSizeKB: 'big', exclude: ['a/', 3] }), true);
    assert.equal(settings.engine.budget, 8192);
    assert.equal(settings.engine.prefixShare, 0.3);
    assert.equal(settings.engine.stableShare, 0.5);
    assert.equal(settings.device, 'auto');
    assert.equal(settings.maxFileSizeKB, 1024);
    assert.deepEqual(settings.exclude, ['a/']);
    for (const key of ['budget', 'prefixShare', 'stableShare', 'ranker.device', 'maxFileSizeKB', 'exclude']) assert.ok(errors.some((e) => e.includes(`contextBudget.${key}`)), key);
  });

  it("accepts 'model' and numeric strings as budgets; shares that add over 1 are cut", () => {
    assert.equal(readSettings(get({ budget: 'model' }), true).settings.engine.budget, 'model');
    assert.equal(readSettings(get({ budget: '4000' }), true).settings.engine.budget, 4000);
    const { settings, errors } = readSettings(get({ prefixShare: 0.8, suffixShare: 0.5 }), true);
    assert.ok(Math.abs(settings.engine.suffixShare - 0.2) < 1e-9);
    assert.equal(errors.length, 1);
  });

  it('ignores profiles and model paths in untrusted workspaces', () => {
    const values = { models: [{ id: 'x' }], hardwareProfiles: [{ id: 'y' }], 'ranker.userModelPath': '/tmp/m.onnx' };
    const trusted = readSettings(get(values), true).settings;
    const restricted = readSettings(get(values), false).settings;
    assert.ok(trusted.engine.userModels && trusted.userModelPath);
    assert.equal(restricted.engine.userModels, undefined);
    assert.equal(restricted.engine.userHardware, undefined);
    assert.equal(restricted.userModelPath, undefined);
  });

  it('turns files.exclude into globs', () => {
    assert.deepEqual(filesExcludeGlobs({ '**/.git': true, '**/tmp': false, x: 'yes' }), ['**/.git']);
    assert.deepEqual(filesExcludeGlobs(null), []);
  });
});

describe('editor signals', () => {
  it('orders open tabs by most recent view and follows renames and deletes', () => {
    const s = new SignalTracker();
    s.viewed('a.ts');
    s.viewed('b.ts');
    s.edited('a.ts');
    s.setOpenTabs(['a.ts', 'c.ts', 'b.ts']);
    assert.deepEqual(s.snapshot().openTabs, ['b.ts', 'a.ts', 'c.ts']);
    s.renamed('a.ts', 'z.ts');
    s.removed('b.ts');
    assert.deepEqual(s.snapshot(), { openTabs: ['z.ts', 'c.ts'], recentEdits: ['z.ts'], recentViews: ['z.ts'] });
  });
});
