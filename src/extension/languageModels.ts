// The user's real chat model as the budget source: `contextBudget.model` =
// `vscode-lm:<vendor>/<family>` resolves, through VS Code's Language Model API,
// to a model profile made here (its name and `maxInputTokens`), and the ratio
// between the model's own token counts and tiktoken's is measured on a sample
// of the packed chunks (with its spread), cached per model, and applied to the
// budget. Where the API or the model is missing we fall back to the default
// profile and say so.
//
// The `vscode.lm` object is a parameter (structural types below), so all of this
// runs in plain Node against a fake in the adapter tests.
import { DEFAULT_MODEL_ID } from '../core/cost/profiles';
import type { ModelProfile } from '../core/cost/types';
import type { EngineSettings } from '../core/engine';
import type { PanelMessage } from '../shared/protocol';

export const VSCODE_LM_PREFIX = 'vscode-lm:';
/** Token counts for `vscode-lm:` models are tiktoken o200k_base counts scaled by the calibrated ratio. */
export const LM_ENCODING = 'o200k_base' as const;
const CALIBRATION_KEY = 'contextBudget.calibration:';
/** A calibration older than this is measured again. */
export const CALIBRATION_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Fewer samples than this is a weak estimate: measured again after RETRY_MS. */
const MIN_GOOD_SAMPLES = 4;
const RETRY_MS = 10 * 60 * 1000;

/** The parts of `vscode.LanguageModelChat` used here. */
export interface LmChatModel {
  readonly id: string;
  readonly name: string;
  readonly vendor: string;
  readonly family: string;
  readonly version: string;
  readonly maxInputTokens: number;
  countTokens(text: string): PromiseLike<number>;
}

/** The parts of `vscode.lm` used here; undefined where the API does not exist. */
export interface LmApi {
  selectChatModels?(selector?: { vendor?: string; family?: string }): PromiseLike<readonly LmChatModel[]>;
  onDidChangeChatModels?(listener: () => void): { dispose(): void };
}

/** `vscode.Memento` (globalState). */
export interface Memento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export interface Calibration {
  /** Mean of (model tokens / tiktoken tokens) over the samples. */
  ratio: number;
  /** Sample standard deviation of the per-sample ratios (0 for one sample). */
  std: number;
  min: number;
  max: number;
  samples: number;
  modelTokens: number;
  tiktokenTokens: number;
  /** When it was measured (ms since the epoch). */
  at: number;
  modelVersion: string;
  encoding: string;
}

export function parseLmId(id: string): { vendor: string; family: string } | undefined {
  if (!id.startsWith(VSCODE_LM_PREFIX)) return undefined;
  const rest = id.slice(VSCODE_LM_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { vendor: rest.slice(0, slash), family: rest.slice(slash + 1) };
}

export function lmIdOf(m: Pick<LmChatModel, 'vendor' | 'family'>): string {
  return `${VSCODE_LM_PREFIX}${m.vendor}/${m.family}`;
}

/** Why no model could be listed, in words a user can act on. */
export const MISSING_API = "VS Code's Language Model API (vscode.lm) is not available here (VS Code older than 1.90, or a host without it such as code-server)";
export const NO_MODELS = 'no chat models are available from VS Code (install and sign in to a chat extension such as GitHub Copilot Chat)';

/** How long to wait for `selectChatModels` before budgeting against the default profile. */
export const SELECT_TIMEOUT_MS = 5000;

/** Chat models VS Code offers, one per vendor/family (the largest input limit wins); never throws, never hangs. */
export async function listChatModels(
  lm: LmApi | undefined,
  selector?: { vendor?: string; family?: string },
  timeoutMs = SELECT_TIMEOUT_MS,
): Promise<{ models: LmChatModel[]; missing?: string }> {
  if (!lm || typeof lm.selectChatModels !== 'function') return { models: [], missing: MISSING_API };
  let all: readonly LmChatModel[];
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    all = await Promise.race([Promise.resolve(lm.selectChatModels(selector)), timeout]);
  } catch (err) {
    return { models: [], missing: `selecting chat models failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
  }
  const byId = new Map<string, LmChatModel>();
  for (const m of all ?? []) {
    if (!m || typeof m.vendor !== 'string' || typeof m.family !== 'string' || !(m.maxInputTokens > 0)) continue;
    const prev = byId.get(lmIdOf(m));
    if (!prev || m.maxInputTokens > prev.maxInputTokens) byId.set(lmIdOf(m), m);
  }
  const models = [...byId.values()];
  return models.length ? { models } : { models, missing: NO_MODELS };
}

/**
 * The profile the engine budgets against. Its "tokens" are tiktoken o200k_base
 * tokens, so the model's limit is converted with the calibrated ratio:
 * contextLength = maxInputTokens / ratio, and the engine's budget for
 * `budget: 'model'` is that minus the output reserve (and prompt overhead).
 */
export function profileFromChatModel(id: string, model: LmChatModel, calibration?: Calibration): ModelProfile {
  const ratio = calibration && calibration.ratio > 0 ? calibration.ratio : 1;
  const contextLength = Math.max(1, Math.floor(model.maxInputTokens / ratio));
  return {
    id,
    name: model.name || `${model.vendor}/${model.family}`,
    encoding: LM_ENCODING,
    contextLength,
    architecture: null,
    price: null,
    sources: {
      limits: `vscode.lm: ${model.vendor}/${model.family}${model.version ? ` ${model.version}` : ''}, maxInputTokens ${model.maxInputTokens}`,
      tokens: calibration
        ? `tiktoken ${LM_ENCODING} scaled by ${describeCalibration(calibration)}, measured with the model's countTokens on ${new Date(calibration.at).toISOString().slice(0, 10)}`
        : `tiktoken ${LM_ENCODING}, not calibrated yet (1:1)`,
    },
    notes: [`Budget source: ${model.name} from VS Code's Language Model API; counts are tiktoken ${LM_ENCODING} approximations${calibration ? ' scaled by the calibrated ratio' : ''}.`],
  };
}

/** "1 tiktoken token ≈ 1.25 model tokens (± 0.02, 1.22–1.28, 12 samples)". */
export function describeCalibration(c: Calibration): string {
  const f = (x: number) => x.toFixed(2);
  return `1 tiktoken token ≈ ${f(c.ratio)} model tokens (± ${f(c.std)}, ${f(c.min)}–${f(c.max)}, ${c.samples} sample${c.samples === 1 ? '' : 's'})`;
}

/**
 * Up to `max` distinct texts spread over the list, each cut to `maxChars` at a
 * line boundary (the model's countTokens may be a remote call: keep it small).
 */
export function calibrationSamples(texts: readonly string[], max = 12, maxChars = 4000): string[] {
  const distinct = [...new Set(texts.filter((t) => t.trim().length > 0))];
  const picked: string[] = [];
  const step = distinct.length / Math.max(1, max);
  for (let i = 0; i < Math.min(max, distinct.length); i++) {
    let t = distinct[Math.floor(i * Math.max(1, step))];
    if (t.length > maxChars) {
      const cut = t.lastIndexOf('\n', maxChars);
      t = t.slice(0, cut > maxChars / 2 ? cut : maxChars);
    }
    picked.push(t);
  }
  return picked;
}

/**
 * Counts each sample with the model's `countTokens` and with tiktoken; the ratio
 * of the two per sample gives the mean and spread. Samples under `minTokens`
 * tiktoken tokens are skipped (too noisy). Undefined when no sample is usable.
 */
export async function calibrate(
  model: Pick<LmChatModel, 'countTokens' | 'version'>,
  samples: readonly string[],
  tokenizer: { count(text: string): number },
  opts: { minTokens?: number; now?: number; signal?: AbortSignal } = {},
): Promise<Calibration | undefined> {
  const minTokens = opts.minTokens ?? 16;
  const ratios: number[] = [];
  let modelTokens = 0;
  let tiktokenTokens = 0;
  for (const s of samples) {
    if (opts.signal?.aborted) return undefined;
    const t = tokenizer.count(s);
    if (t < minTokens) continue;
    const m = await model.countTokens(s);
    if (!(typeof m === 'number' && Number.isFinite(m) && m > 0)) continue;
    ratios.push(m / t);
    modelTokens += m;
    tiktokenTokens += t;
  }
  if (ratios.length === 0) return undefined;
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  const variance = ratios.length > 1 ? ratios.reduce((a, r) => a + (r - mean) ** 2, 0) / (ratios.length - 1) : 0;
  return {
    ratio: mean,
    std: Math.sqrt(variance),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    samples: ratios.length,
    modelTokens,
    tiktokenTokens,
    at: opts.now ?? Date.now(),
    modelVersion: model.version ?? '',
    encoding: LM_ENCODING,
  };
}

export function isStale(c: Calibration | undefined, model: Pick<LmChatModel, 'version'>, now: number): boolean {
  if (!c || !(c.ratio > 0)) return true;
  if (c.encoding !== LM_ENCODING || c.modelVersion !== (model.version ?? '')) return true;
  if (now - c.at > CALIBRATION_MAX_AGE_MS) return true;
  return c.samples < MIN_GOOD_SAMPLES && now - c.at > RETRY_MS;
}

/** Quick-pick rows for the models VS Code offers (or one row saying why there are none). */
export async function chatModelPicks(lm: LmApi | undefined): Promise<Array<{ label: string; description: string; detail: string; id: string | undefined }>> {
  const { models, missing } = await listChatModels(lm);
  if (missing) return [{ label: '$(info) No chat model from VS Code', description: '', detail: `${missing}. The built-in profiles below still work.`, id: undefined }];
  return models.map((m) => ({
    label: `$(hubot) ${m.name}`,
    description: lmIdOf(m),
    detail: `${m.maxInputTokens.toLocaleString('en-US')} input tokens · VS Code Language Model API · counts calibrated against the model`,
    id: lmIdOf(m),
  }));
}

/** Panel dropdown rows for the models VS Code offers (added to the built-in profiles). */
export function lmChoices(models: readonly LmChatModel[]): Array<{ id: string; label: string; detail: string }> {
  return models.map((m) => ({ id: lmIdOf(m), label: m.name, detail: `${Math.round(m.maxInputTokens / 1024)}k input · VS Code Language Model API` }));
}

export interface LanguageModelSourceDeps {
  /** `vscode.lm` (read on each use: it may appear after activation). */
  lm: () => LmApi | undefined;
  state: Memento;
  log: { info(msg: string): void; warn(msg: string): void };
  /** Called when the profile should be applied again (models changed, a calibration landed). */
  onChange: () => void;
  now?: () => number;
}

/**
 * Keeps the `vscode-lm:` model the settings name: `apply` patches engine
 * settings with its profile (or falls back to the default profile), `calibrateLater`
 * measures the token ratio in the background and asks for a re-apply when it lands.
 */
export class LanguageModelSource {
  /** What the panel should say about the budget source. */
  messages: PanelMessage[] = [];
  /** Models VS Code offered at the last look (for the panel's model dropdown). */
  available: LmChatModel[] = [];
  private current: { id: string; model: LmChatModel } | undefined;
  private running: Promise<void> | undefined;
  private failedAt = new Map<string, number>();
  private readonly watch: { dispose(): void } | undefined;
  /** The settings name a `vscode-lm:` model (a model change then matters). */
  private wantsLm = false;

  constructor(private readonly deps: LanguageModelSourceDeps) {
    try {
      this.watch = deps.lm()?.onDidChangeChatModels?.(() => {
        if (this.wantsLm) deps.onChange();
      });
    } catch {
      this.watch = undefined;
    }
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  cached(id: string): Calibration | undefined {
    return this.deps.state.get<Calibration>(CALIBRATION_KEY + id);
  }

  /** Settings with the `vscode-lm:` model resolved to a profile, or the default model when it is unavailable. */
  async apply(settings: EngineSettings): Promise<EngineSettings> {
    const id = settings.model;
    const parsed = parseLmId(id);
    this.wantsLm = id.startsWith(VSCODE_LM_PREFIX);
    if (!parsed) {
      this.current = undefined;
      // Only list VS Code's models (for the panel's dropdown) in the background: never wait on them here.
      void this.refreshAvailable();
      this.messages = this.wantsLm ? [{ level: 'warning', text: `contextBudget.model '${id}' is not of the form vscode-lm:<vendor>/<family>; using the ${DEFAULT_MODEL_ID} profile.` }] : [];
      return this.wantsLm ? { ...settings, model: DEFAULT_MODEL_ID } : settings;
    }
    const listed = await listChatModels(this.deps.lm());
    this.available = listed.models;
    const model = listed.models.find((m) => m.vendor === parsed.vendor && m.family === parsed.family);
    if (!model) {
      const why = listed.missing ?? `VS Code offers no chat model ${parsed.vendor}/${parsed.family} (available: ${listed.models.map(lmIdOf).join(', ')})`;
      const text = `contextBudget.model is ${id}, but ${why}: budgeting against the ${DEFAULT_MODEL_ID} profile instead.`;
      if (this.current?.id !== id || this.messages[0]?.text !== text) this.deps.log.warn(text);
      this.current = undefined;
      this.messages = [{ level: 'warning', text }];
      return { ...settings, model: DEFAULT_MODEL_ID };
    }
    this.current = { id, model };
    const cal = this.cached(id);
    const usable = cal && cal.encoding === LM_ENCODING && cal.modelVersion === (model.version ?? '') ? cal : undefined;
    const profile = profileFromChatModel(id, model, usable);
    this.messages = [
      {
        level: 'info',
        text:
          `Budget source: ${profile.name} (${id}) from VS Code's Language Model API, ${model.maxInputTokens.toLocaleString('en-US')} input tokens = ` +
          `${profile.contextLength.toLocaleString('en-US')} tiktoken tokens; ${usable ? describeCalibration(usable) : 'token ratio not measured yet (1:1 until calibrated)'}.`,
      },
    ];
    return { ...settings, extraModels: [...(settings.extraModels ?? []).filter((m) => m.id !== id), profile] };
  }

  /** Lists VS Code's chat models into `available` (for the panel's model dropdown). */
  async refreshAvailable(): Promise<void> {
    const lm = this.deps.lm();
    if (!lm) return;
    this.available = (await listChatModels(lm)).models;
  }

  /** The profile in use is a `vscode-lm:` one and its calibration is missing or stale. */
  needsCalibration(): boolean {
    const cur = this.current;
    if (!cur || this.running) return false;
    const failed = this.failedAt.get(cur.id);
    if (failed !== undefined && this.now() - failed < RETRY_MS) return false;
    return isStale(this.cached(cur.id), cur.model, this.now());
  }

  /**
   * Starts a calibration in the background when one is due (never awaited by the
   * caller's UI path). `samples` is called only then. Resolves when done (tests).
   */
  calibrateLater(samples: () => Promise<string[]> | string[], countTokens: (texts: string[]) => Promise<number[]> | number[]): Promise<void> {
    if (!this.needsCalibration()) return this.running ?? Promise.resolve();
    const { id, model } = this.current!;
    const run = (async () => {
      await new Promise((r) => setTimeout(r, 0)); // after the caller has painted
      try {
        // tiktoken counts come from the engine (its worker) in one call, before the model's own counts.
        const chosen = calibrationSamples(await samples());
        const counts = await countTokens(chosen);
        const tiktoken = new Map(chosen.map((text, k) => [text, counts[k]]));
        const cal = await calibrate(model, chosen, { count: (text) => tiktoken.get(text) ?? 0 }, { now: this.now() });
        if (!cal) {
          this.failedAt.set(id, this.now());
          return;
        }
        await this.deps.state.update(CALIBRATION_KEY + id, cal);
        this.deps.log.info(`calibrated ${id}: ${describeCalibration(cal)} (${cal.modelTokens} model vs ${cal.tiktokenTokens} tiktoken tokens)`);
        if (this.current?.id === id) this.deps.onChange();
      } catch (err) {
        this.failedAt.set(id, this.now());
        this.deps.log.warn(`calibrating ${id} failed (counts stay 1:1): ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        this.running = undefined;
      }
    })();
    this.running = run;
    return run;
  }

  dispose(): void {
    this.watch?.dispose();
  }
}
