// The `vscode-lm:` budget source against a small, honest fake of `vscode.lm`:
// a chat model whose countTokens is tiktoken's count times 1.25 (rounded, as a
// real tokenizer's integer counts are), models that come and go, and a Memento.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MODEL_ID } from '../../src/core/cost/profiles';
import { budgetFor, ContextEngine, DEFAULT_SETTINGS, resolveProfiles, type EngineSettings } from '../../src/core/engine';
import { loadTokenizer, type Tokenizer } from '../../src/core/tokens/tokenizer';
import { emptySignals } from '../../src/core/types';
import {
  calibrate,
  calibrationSamples,
  chatModelPicks,
  isStale,
  LanguageModelSource,
  listChatModels,
  lmIdOf,
  MISSING_API,
  NO_MODELS,
  parseLmId,
  profileFromChatModel,
  type Calibration,
  type LmApi,
  type LmChatModel,
} from '../../src/extension/languageModels';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const FACTOR = 1.25;
let tok: Tokenizer;
before(async () => {
  tok = await loadTokenizer('o200k_base');
});

class FakeChatModel implements LmChatModel {
  calls = 0;
  constructor(
    readonly vendor: string,
    readonly family: string,
    readonly maxInputTokens: number,
    readonly name = `${vendor} ${family}`,
    readonly version = '1',
    private readonly factor = FACTOR,
  ) {}
  get id(): string {
    return `${this.vendor}-${this.family}-${this.version}`;
  }
  async countTokens(text: string): Promise<number> {
    this.calls++;
    await new Promise((r) => setTimeout(r, 1)); // a real count is asynchronous (may be remote)
    return Math.round(tok.count(text) * this.factor);
  }
}

class FakeLm implements LmApi {
  models: LmChatModel[] = [];
  private listeners: Array<() => void> = [];
  async selectChatModels(selector?: { vendor?: string; family?: string }): Promise<LmChatModel[]> {
    return this.models.filter((m) => (!selector?.vendor || m.vendor === selector.vendor) && (!selector?.family || m.family === selector.family));
  }
  onDidChangeChatModels(listener: () => void) {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  }
  fire(): void {
    for (const l of this.listeners) l();
  }
}

class FakeMemento {
  readonly data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.data.set(key, value);
  }
}

const log = { infos: [] as string[], warns: [] as string[], info(m: string) { this.infos.push(m); }, warn(m: string) { this.warns.push(m); } };
const settingsFor = (model: string): EngineSettings => ({ ...DEFAULT_SETTINGS, model, budget: 'model', reserveOutputTokens: 4096 });

/** Realistic sample texts: the sample project's files and this repository's own sources. */
const SAMPLES = [...Object.values(SAMPLE_PROJECT), ...Array.from({ length: 10 }, (_, i) => `export function f${i}(value: number): string {\n  const doubled = value * ${i + 2};\n  return \`\${doubled} items in the ${'basket '.repeat(i + 1)}\`;\n}\n`)];

describe('vscode-lm ids and listing', () => {
  it('parses and makes ids', () => {
    assert.deepEqual(parseLmId('vscode-lm:copilot/gpt-4o'), { vendor: 'copilot', family: 'gpt-4o' });
    assert.deepEqual(parseLmId('vscode-lm:copilot/claude-3.5/sonnet'), { vendor: 'copilot', family: 'claude-3.5/sonnet' });
    assert.equal(parseLmId('gpt-4o'), undefined);
    assert.equal(parseLmId('vscode-lm:copilot'), undefined);
    assert.equal(parseLmId('vscode-lm:/x'), undefined);
    assert.equal(lmIdOf({ vendor: 'copilot', family: 'gpt-4o' }), 'vscode-lm:copilot/gpt-4o');
  });

  it('handles a missing API, no models and a failing selectChatModels without throwing', async () => {
    assert.deepEqual(await listChatModels(undefined), { models: [], missing: MISSING_API });
    assert.deepEqual(await listChatModels({}), { models: [], missing: MISSING_API });
    assert.deepEqual(await listChatModels(new FakeLm()), { models: [], missing: NO_MODELS });
    const broken: LmApi = { selectChatModels: () => Promise.reject(new Error('no consent')) };
    const r = await listChatModels(broken);
    assert.equal(r.models.length, 0);
    assert.match(r.missing!, /no consent/);
  });

  it('keeps one model per vendor/family, the largest input limit', async () => {
    const lm = new FakeLm();
    lm.models = [new FakeChatModel('copilot', 'gpt-4o', 64000), new FakeChatModel('copilot', 'gpt-4o', 128000, 'GPT-4o', '2'), new FakeChatModel('copilot', 'o1', 0)];
    const r = await listChatModels(lm);
    assert.equal(r.models.length, 1);
    assert.equal(r.models[0].maxInputTokens, 128000);
  });

  it('offers the models in the Select Model quick pick, or says why there are none', async () => {
    const lm = new FakeLm();
    lm.models = [new FakeChatModel('copilot', 'gpt-4o', 128000, 'GPT-4o')];
    const picks = await chatModelPicks(lm);
    assert.deepEqual(picks.map((p) => p.id), ['vscode-lm:copilot/gpt-4o']);
    assert.match(picks[0].label, /GPT-4o/);
    const none = await chatModelPicks(undefined);
    assert.equal(none.length, 1);
    assert.equal(none[0].id, undefined);
    assert.match(none[0].detail, /Language Model API/);
  });
});

describe('calibration', () => {
  it('measures the known factor with a small spread', async () => {
    const model = new FakeChatModel('copilot', 'gpt-4o', 128000);
    const c = (await calibrate(model, calibrationSamples(SAMPLES), tok, { now: 1000 }))!;
    assert.ok(c.samples >= 8, `samples ${c.samples}`);
    assert.ok(Math.abs(c.ratio - FACTOR) < 0.01, `ratio ${c.ratio}`);
    assert.ok(c.std < 0.02, `std ${c.std}`);
    assert.ok(c.min <= c.ratio && c.ratio <= c.max && c.max - c.min < 0.06);
    assert.ok(Math.abs(c.modelTokens / c.tiktokenTokens - FACTOR) < 0.01);
    assert.equal(c.at, 1000);
  });

  it('skips samples too short to measure and gives up without any', async () => {
    const model = new FakeChatModel('copilot', 'gpt-4o', 128000);
    assert.equal(await calibrate(model, ['x', 'let a;'], tok), undefined);
    assert.equal(model.calls, 0);
  });

  it('samples distinct texts, evenly, each cut at a line boundary', () => {
    const texts = Array.from({ length: 40 }, (_, i) => `${'line\n'.repeat(2000)}${i}`);
    const s = calibrationSamples([...texts, texts[0], ''], 12, 4000);
    assert.equal(s.length, 12);
    for (const t of s) assert.ok(t.length <= 4000 && t.endsWith('line'));
    assert.equal(new Set(s.map((t) => texts.findIndex((x) => x.startsWith(t)))).size, 1, 'cut texts share their head here');
  });

  it('is stale when missing, old, for another model version, or weak', () => {
    const m = { version: '1' };
    const c: Calibration = { ratio: 1.2, std: 0, min: 1.2, max: 1.2, samples: 10, modelTokens: 1, tiktokenTokens: 1, at: 0, modelVersion: '1', encoding: 'o200k_base' };
    assert.equal(isStale(undefined, m, 0), true);
    assert.equal(isStale(c, m, 1000), false);
    assert.equal(isStale(c, m, 8 * 24 * 3600 * 1000), true);
    assert.equal(isStale(c, { version: '2' }, 1000), true);
    assert.equal(isStale({ ...c, samples: 1 }, m, 1000), false);
    assert.equal(isStale({ ...c, samples: 1 }, m, 11 * 60 * 1000), true);
  });
});

describe('profile and budget', () => {
  it('budget = maxInputTokens / ratio − reserve, in tiktoken tokens', async () => {
    const model = new FakeChatModel('copilot', 'gpt-4o', 128000, 'GPT-4o');
    const cal = (await calibrate(model, calibrationSamples(SAMPLES), tok))!;
    const id = 'vscode-lm:copilot/gpt-4o';
    const profile = profileFromChatModel(id, model, cal);
    assert.equal(profile.id, id);
    assert.equal(profile.name, 'GPT-4o');
    assert.equal(profile.encoding, 'o200k_base');
    assert.equal(profile.architecture, null);
    assert.equal(profile.price, null);
    assert.match(profile.sources.limits, /vscode\.lm/);
    assert.match(profile.sources.tokens, /1\.2\d model tokens/);
    assert.equal(profile.contextLength, Math.floor(128000 / cal.ratio));
    const s = settingsFor(id);
    const { budget } = budgetFor(s, profile.contextLength);
    assert.ok(Math.abs(budget - (128000 / FACTOR - 4096)) <= 128000 * 0.01 / FACTOR, `budget ${budget}`);
    // Uncalibrated: 1:1.
    assert.equal(profileFromChatModel(id, model).contextLength, 128000);
    // The engine accepts it as a host-made profile.
    const resolved = resolveProfiles({ ...s, extraModels: [profile] });
    assert.equal(resolved.model.id, id);
    assert.equal(resolved.encoding, 'o200k_base');
  });
});

describe('LanguageModelSource', () => {
  const id = 'vscode-lm:copilot/gpt-4o';

  it('resolves the setting to the chat model, calibrates in the background, then re-applies with the ratio', async () => {
    const lm = new FakeLm();
    const model = new FakeChatModel('copilot', 'gpt-4o', 128000, 'GPT-4o');
    lm.models = [model];
    const state = new FakeMemento();
    let changes = 0;
    const src = new LanguageModelSource({ lm: () => lm, state, log, onChange: () => changes++ });
    const first = await src.apply(settingsFor(id));
    assert.equal(first.model, id);
    assert.equal(first.extraModels?.[0].contextLength, 128000);
    assert.match(src.messages[0].text, /GPT-4o.*not measured yet/);
    assert.equal(src.needsCalibration(), true);

    const done = src.calibrateLater(() => SAMPLES, (texts) => texts.map((t) => tok.count(t)));
    assert.equal(model.calls, 0, 'calibration does not run in the caller\'s turn');
    assert.equal(src.needsCalibration(), false, 'one calibration at a time');
    await done;
    assert.ok(model.calls > 0);
    assert.equal(changes, 1);
    const cal = src.cached(id)!;
    assert.ok(Math.abs(cal.ratio - FACTOR) < 0.01);

    const second = await src.apply(settingsFor(id));
    assert.equal(second.extraModels?.[0].contextLength, Math.floor(128000 / cal.ratio));
    assert.match(src.messages[0].text, /1 tiktoken token ≈ 1\.2\d model tokens \(± 0\.0\d/);
    assert.equal(src.needsCalibration(), false, 'cached per model');
    const calls = model.calls;
    await src.calibrateLater(() => SAMPLES, (texts) => texts.map((t) => tok.count(t)));
    assert.equal(model.calls, calls);
    src.dispose();
  });

  it('measures again when the cached calibration is stale', async () => {
    const lm = new FakeLm();
    const model = new FakeChatModel('copilot', 'gpt-4o', 128000);
    lm.models = [model];
    const state = new FakeMemento();
    let now = 0;
    const src = new LanguageModelSource({ lm: () => lm, state, log, onChange: () => undefined, now: () => now });
    await src.apply(settingsFor(id));
    await src.calibrateLater(() => SAMPLES, (texts) => texts.map((t) => tok.count(t)));
    now = 8 * 24 * 3600 * 1000;
    assert.equal(src.needsCalibration(), true);
    await src.calibrateLater(() => SAMPLES, (texts) => texts.map((t) => tok.count(t)));
    assert.equal(src.cached(id)!.at, now);
  });

  it('falls back to the default profile, and says why, when the model or the API is absent', async () => {
    const lm = new FakeLm();
    const src = new LanguageModelSource({ lm: () => lm, state: new FakeMemento(), log, onChange: () => undefined });
    const none = await src.apply(settingsFor(id));
    assert.equal(none.model, DEFAULT_MODEL_ID);
    assert.equal(none.extraModels, undefined);
    assert.equal(src.messages[0].level, 'warning');
    assert.match(src.messages[0].text, /no chat models are available.*gpt-4o profile instead/);
    assert.ok(log.warns.some((w) => w.includes(id)));
    assert.equal(src.needsCalibration(), false);

    lm.models = [new FakeChatModel('copilot', 'o3', 200000)];
    await src.apply(settingsFor(id));
    assert.match(src.messages[0].text, /no chat model copilot\/gpt-4o \(available: vscode-lm:copilot\/o3\)/);

    const noApi = new LanguageModelSource({ lm: () => undefined, state: new FakeMemento(), log, onChange: () => undefined });
    const s = await noApi.apply(settingsFor(id));
    assert.equal(s.model, DEFAULT_MODEL_ID);
    assert.match(noApi.messages[0].text, /Language Model API \(vscode\.lm\) is not available/);
    // A plain profile id is left alone, with nothing to say.
    const plain = await noApi.apply(settingsFor('gpt-4o'));
    assert.equal(plain.model, 'gpt-4o');
    assert.deepEqual(noApi.messages, []);
  });

  it('re-applies when VS Code\'s models change, only while a vscode-lm model is wanted', async () => {
    const lm = new FakeLm();
    let changes = 0;
    const src = new LanguageModelSource({ lm: () => lm, state: new FakeMemento(), log, onChange: () => changes++ });
    await src.apply(settingsFor('gpt-4o'));
    lm.fire();
    assert.equal(changes, 0);
    await src.apply(settingsFor(id));
    lm.models = [new FakeChatModel('copilot', 'gpt-4o', 128000)];
    lm.fire();
    assert.equal(changes, 1);
    assert.equal((await src.apply(settingsFor(id))).model, id);
    src.dispose();
    lm.fire();
    assert.equal(changes, 1);
  });

  it('drives a real engine: the report budgets against the chat model', async () => {
    const w = makeWorkspace(SAMPLE_PROJECT);
    const lm = new FakeLm();
    lm.models = [new FakeChatModel('copilot', 'gpt-4o', 16000, 'GPT-4o')];
    const state = new FakeMemento();
    const src = new LanguageModelSource({ lm: () => lm, state, log, onChange: () => undefined });
    const engine = await ContextEngine.open({ root: w.root, settings: await src.apply(settingsFor(id)), index: { syntax: null }, ranker: { device: 'cpu' } });
    after(async () => {
      await engine.dispose();
      w.cleanup();
    });
    await engine.refresh();
    const before1 = await engine.compute({ path: 'src/main.ts', line: 4, column: 2 }, emptySignals());
    assert.equal(before1.report.model, id);
    assert.equal(before1.report.modelName, 'GPT-4o');
    assert.equal(before1.report.budget, 16000 - 4096);
    await src.calibrateLater(() => [...before1.prompt.blocks.map((b) => b.text), before1.cursor.text, ...SAMPLES], (texts) => texts.map((t) => engine.index.tokens.tokenizer.count(t)));
    assert.equal(engine.updateSettings(await src.apply(settingsFor(id))), true, 'same encoding: no new engine');
    const after1 = await engine.compute({ path: 'src/main.ts', line: 4, column: 2 }, emptySignals());
    assert.equal(after1.report.budget, Math.floor(16000 / src.cached(id)!.ratio) - 4096);
    assert.equal(after1.report.budgetSplit.contextLimit, Math.floor(16000 / src.cached(id)!.ratio));
  });
});

describe('robustness', () => {
  it('does not wait forever on selectChatModels', async () => {
    const hanging: LmApi = { selectChatModels: () => new Promise(() => undefined) };
    const started = Date.now();
    const r = await listChatModels(hanging, undefined, 50);
    assert.ok(Date.now() - started < 1000);
    assert.match(r.missing!, /no answer within 50 ms/);
  });

  it('answers at once for a plain profile, even when VS Code never answers (the dropdown list is fetched in the background)', async () => {
    const hanging = new LanguageModelSource({ lm: () => ({ selectChatModels: () => new Promise(() => undefined) }), state: new FakeMemento(), log, onChange: () => undefined });
    const started = Date.now();
    assert.equal((await hanging.apply(settingsFor('gpt-4o'))).model, 'gpt-4o');
    assert.ok(Date.now() - started < 1000);
    const lm: LmApi = { selectChatModels: async () => [new FakeChatModel('copilot', 'gpt-4o', 128000)] };
    const src = new LanguageModelSource({ lm: () => lm, state: new FakeMemento(), log, onChange: () => undefined });
    await src.apply(settingsFor('gpt-4o'));
    await src.refreshAvailable();
    assert.deepEqual(src.available.map(lmIdOf), ['vscode-lm:copilot/gpt-4o']);
  });
});
