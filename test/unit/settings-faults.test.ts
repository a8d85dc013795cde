// Bad settings get one clear message and a fallback, never a crash: malformed
// custom model/hardware profiles, negative or huge budgets, unknown ids, a user
// model path that is missing or not ONNX. Through readSettings (the extension's
// reader), resolveProfiles / ContextEngine.open (the core) and Ranker.create.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { budgetFor, ContextEngine, DEFAULT_SETTINGS, EngineError, resolveProfiles } from '../../src/core/engine';
import { Ranker } from '../../src/core/rank/ranker';
import { emptySignals } from '../../src/core/types';
import { readSettings } from '../../src/extension/config';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
const junkDir = mkdtempSync(join(tmpdir(), 'cb-settings-'));
after(() => {
  w.cleanup();
  rmSync(junkDir, { recursive: true, force: true });
});
const get = (values: Record<string, unknown>) => (k: string) => values[k];

describe('readSettings: bad values', () => {
  const cases: Array<[string, unknown]> = [
    ['budget', -1], ['budget', 0], ['budget', Number.NaN], ['budget', Infinity], ['budget', 1e12], ['budget', '0'], ['budget', '-5'], ['budget', '99999999999999999999'],
    ['budget', '12abc'], ['budget', {}], ['budget', [8000]], ['budget', true],
    ['reserveOutputTokens', -10], ['reserveOutputTokens', 'lots'], ['prefixShare', -0.1], ['suffixShare', Number.NaN], ['maxFileSizeKB', 0], ['maxFileSizeKB', 1e9],
    ['statusBar.warnAt', 5], ['model', 42], ['hardware', { id: 'x' }], ['promptFormat', 7], ['ranker.device', 'tpu'], ['ranker.userModelPath', 12], ['exclude', 'not-an-array'],
  ];
  for (const [key, value] of cases) {
    it(`${key} = ${JSON.stringify(value) ?? String(value)} → at most one message naming it, a sane value, no throw`, () => {
      const { settings, errors } = readSettings(get({ [key]: value }), true);
      const e = settings.engine;
      assert.ok(e.budget === 'model' || (Number.isInteger(e.budget) && e.budget >= 1 && e.budget <= 10_000_000), `budget ${e.budget}`);
      assert.ok(Number.isFinite(e.reserveOutputTokens) && e.reserveOutputTokens >= 0);
      assert.ok(e.prefixShare >= 0 && e.suffixShare >= 0 && e.prefixShare + e.suffixShare <= 1);
      assert.ok(settings.maxFileSizeKB >= 1 && settings.maxFileSizeKB <= 1_048_576);
      assert.ok(typeof e.model === 'string' && typeof e.hardware === 'string');
      assert.ok(errors.length <= 1, errors.join(' | '));
      if (key !== 'exclude') assert.equal(errors.length, 1, `no message for ${key} = ${String(value)}`);
      if (errors.length) assert.match(errors[0], new RegExp(`contextBudget\\.${key.replace('.', '\\.')}`));
    });
  }
});

describe('profiles and the engine: bad custom profiles, unknown ids, odd budgets', () => {
  const badModels: unknown[] = [
    'gpt-4o',
    42,
    null,
    [null, 7, 'x', []],
    [{}],
    [{ id: 7 }],
    [{ id: 'm1', contextLength: -1 }],
    [{ id: 'm2', contextLength: 'big', encoding: 'nope' }],
    [{ id: 'gpt-4o', contextLength: Number.NaN }],
    [{ id: '__proto__', contextLength: 1000 }],
    { 'my-model': { contextLength: 1e308, encoding: 'o200k_base' } },
    [{ id: 'm3', encoding: 'o200k_base', contextLength: 8000, architecture: { layers: -2, hidden: 'x' }, price: { inputPerMTok: -5 } }],
  ];
  const badHardware: unknown[] = ['h100', [{ id: 'h1', memoryGB: -1 }], [{ id: 'h100-sxm', peakTflops: 'fast' }], [null], { x: 5 }];

  it('resolveProfiles never throws for malformed custom profiles; problems come back as messages', () => {
    for (const userModels of badModels) {
      for (const userHardware of badHardware) {
        const r = resolveProfiles({ ...DEFAULT_SETTINGS, userModels, userHardware });
        assert.equal(r.model.id, 'gpt-4o');
        assert.ok(Array.isArray(r.errors));
        for (const e of r.errors) assert.ok(typeof e === 'string' && e.length > 0 && e.length < 500 && !e.includes('\n'), e);
      }
    }
    assert.ok(resolveProfiles({ ...DEFAULT_SETTINGS, userModels: [null, 7] }).errors.length >= 2, 'one message per bad entry');
  });

  it('an unknown model or hardware id is one EngineError naming it', () => {
    assert.throws(() => resolveProfiles({ ...DEFAULT_SETTINGS, model: 'gpt-99' }), (e: unknown) => e instanceof EngineError && /unknown model 'gpt-99'/.test(e.message));
    assert.throws(() => resolveProfiles({ ...DEFAULT_SETTINGS, hardware: 'abacus' }), (e: unknown) => e instanceof EngineError && /unknown hardware profile 'abacus'/.test(e.message));
  });

  it('budgetFor keeps every budget a whole number in [0, context limit] (negative, NaN, huge, fractional)', () => {
    for (const budget of [-5, 0, 0.5, 1.7, Number.NaN, Infinity, -Infinity, 1e300, 'model' as const]) {
      for (const reserveOutputTokens of [-1, 0, 4096, Number.NaN, 1e12]) {
        const b = budgetFor({ ...DEFAULT_SETTINGS, budget, reserveOutputTokens }, 128_000);
        for (const v of [b.budget, b.reserve, b.overhead]) assert.ok(Number.isInteger(v) && v >= 0, `${budget}/${reserveOutputTokens} → ${JSON.stringify(b)}`);
        assert.ok(b.budget <= 128_000);
      }
    }
  });

  it('ContextEngine.open: bad profiles and odd budgets give a working engine (or one EngineError for unknown ids)', { timeout: 120_000 }, async () => {
    const logs: string[] = [];
    const engine = await ContextEngine.open({
      root: w.root,
      settings: { userModels: badModels[3], userHardware: badHardware[1], budget: -5 },
      index: { syntax: null, workers: 0 },
      ranker: { device: 'cpu' },
      log: (m) => logs.push(m),
    });
    try {
      assert.ok(engine.profileErrors.length > 0);
      assert.ok(logs.some((l) => l.startsWith('profile error:')));
      await engine.refresh();
      for (const budget of [undefined, 1, 0, 10_000_000]) {
        const { report } = await engine.compute({ path: 'src/main.ts', line: 3, column: 0 }, emptySignals(), { budget });
        assert.ok(Number.isInteger(report.budget) && report.budget >= 0);
        // Below the prompt's own frame (fences, file header: ~46 tokens here) nothing is selected, but the frame is still sent.
        assert.ok(report.totals.promptTokens <= report.budget || report.totals.selectedTokens === 0, JSON.stringify(report.totals));
      }
      assert.equal(engine.updateSettings({ model: 'gpt-4o', budget: Number.NaN }), true);
      const { report } = await engine.compute({ path: 'src/main.ts', line: 3, column: 0 }, emptySignals());
      assert.ok(Number.isInteger(report.budget) && report.budget >= 0, `NaN budget → ${report.budget}`);
    } finally {
      await engine.dispose();
    }
    await assert.rejects(ContextEngine.open({ root: w.root, settings: { model: 'no-such-model' }, index: { syntax: null } }), (e: unknown) => e instanceof EngineError && /no-such-model/.test(e.message));
  });
});

describe('user model path: missing or not ONNX', () => {
  const notOnnx = join(junkDir, 'model.onnx');
  writeFileSync(notOnnx, 'this is not a protobuf');
  writeFileSync(join(junkDir, 'tokenizer.json'), '{"nope": true}');
  for (const [what, path] of [['missing', join(junkDir, 'missing.onnx')], ['not ONNX', notOnnx], ['a folder', junkDir], ['empty string', '']] as const) {
    it(`${what}: Ranker.create does not throw and still ranks`, { timeout: 60_000 }, async () => {
      const logs: string[] = [];
      const ranker = await Ranker.create({ device: 'cpu', userModelPath: path, log: (m) => logs.push(m) });
      try {
        assert.ok(typeof ranker.device === 'string');
        for (const l of logs) assert.ok(!l.includes('\n    at '), 'no stack traces in the log');
      } finally {
        await ranker.dispose();
      }
    });
  }
});
