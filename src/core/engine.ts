// The one pipeline every surface uses (CLI, status bar, panel, chat): for a
// cursor position, take the cursor window, rank the workspace's chunks, pack
// them into the budget, render the prompt and cost it.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeCpu } from './cost/cpuProbe';
import { DEFAULT_HARDWARE_ID, DEFAULT_MODEL_ID, loadProfiles, THIS_CPU_ID } from './cost/profiles';
import { estimateCost } from './cost/costModel';
import type { HardwareProfile, ModelProfile } from './cost/types';
import { SyntaxChunker } from './chunk/syntax';
import { cursorWindowOfText, fileWindowOfText } from './cursor';
import { isCurrent } from './index/indexView';
import { WorkspaceIndex, type IndexOptions, type RefreshOptions } from './index/workspaceIndex';
import { countFramesAhead, packAndRender, PROMPT_TEXT, type PackedPrompt, type PromptFormat } from './pack/render';
import { Ranker, type RankerDevice, type RankRequest, type RankResult } from './rank/ranker';
import { bm25Building, prepareBm25, type Bm25Index } from './rank/bm25';
import type { ContextReport, ReportItem } from './report';
import { breathe } from './slices';
import { isEncodingName, type EncodingName } from './tokens/tokenizer';
import type { CursorPosition, CursorWindow, EditorSignals, RankedChunk } from './types';

export interface EngineSettings {
  model: string;
  hardware: string;
  /** Tokens for the packed context (cursor window included), or 'model' for the model's limit minus reserve and overhead. */
  budget: number | 'model';
  reserveOutputTokens: number;
  /** Tokens kept for the system prompt and instructions around the context. */
  promptOverheadTokens: number;
  prefixShare: number;
  suffixShare: number;
  /**
   * Share of the snippet budget (what the cursor window's shares leave) filled
   * from a ranking of the cursor's file as a whole and sent first: that part of
   * the prompt stays the same across cursor moves, for provider prompt caches.
   * 0 turns the stable layer off.
   */
  stableShare: number;
  /** Output tokens assumed when estimating latency and price. */
  outputTokens: number;
  format: PromptFormat;
  minScore: number;
  maxCandidates: number;
  /** Custom profiles (settings `contextBudget.models` / `.hardwareProfiles`). */
  userModels?: unknown;
  userHardware?: unknown;
  /** Profiles made by the host, already valid (e.g. a chat model from VS Code's Language Model API). */
  extraModels?: ModelProfile[];
}

export const DEFAULT_SETTINGS: EngineSettings = {
  model: DEFAULT_MODEL_ID,
  hardware: DEFAULT_HARDWARE_ID,
  budget: 'model',
  reserveOutputTokens: 4096,
  promptOverheadTokens: 0,
  prefixShare: 0.3,
  suffixShare: 0.15,
  stableShare: 0.5,
  outputTokens: 256,
  format: 'markdown',
  minScore: 0,
  maxCandidates: 300,
};

export interface EngineOptions {
  root: string;
  settings?: Partial<EngineSettings>;
  /** Index options; `syntax: null` chunks every file by line windows (no tree-sitter). */
  index?: Omit<IndexOptions, 'encoding' | 'syntax'> & { syntax?: IndexOptions['syntax'] | null };
  ranker?: { device?: RankerDevice; userModelPath?: string };
  log?: (msg: string) => void;
}

export interface ComputedContext {
  report: ContextReport;
  prompt: PackedPrompt;
  cursor: CursorWindow;
  /** The ranking behind the report: `packAt` re-packs it for other budgets without ranking again. */
  ranked: RankedChunk[];
  /** The ranking for the cursor's file as a whole (the stable layer's candidates; empty when off). */
  fileRanked: RankedChunk[];
  /**
   * Set when, with `answerWhileBuilding`, the ranking came from the previous
   * BM25 index or import graph while current ones are built: resolves once
   * they are in place, and a caller that wants the current answer asks again
   * then. Never rejects; if a rebuild fails, it never settles.
   */
  behind?: Promise<void>;
}

export interface ComputeOptions {
  /** Another budget than the settings' (tokens). */
  budget?: number;
  format?: PromptFormat;
  signal?: AbortSignal;
  /**
   * Once indexing is over, rank with the previous BM25 index and import graph
   * while full rebuilds run instead of waiting seconds for them (see `behind`). For a
   * readout that follows the cursor; a one-shot caller wants the current answer.
   */
  answerWhileBuilding?: boolean;
}

export class EngineError extends Error {}

export interface ResolvedProfiles {
  model: ModelProfile;
  hardware: HardwareProfile;
  encoding: EncodingName;
  errors: string[];
}

/** Looks up the model and hardware profiles; unknown ids are errors naming the id and the known ones. */
export function resolveProfiles(settings: Pick<EngineSettings, 'model' | 'hardware' | 'userModels' | 'userHardware' | 'extraModels'>, thisCpu?: HardwareProfile): ResolvedProfiles {
  const profiles = loadProfiles(settings.userModels, settings.userHardware, { thisCpu });
  for (const m of settings.extraModels ?? []) profiles.models.set(m.id, m);
  const model = profiles.models.get(settings.model);
  if (!model) throw new EngineError(`unknown model '${settings.model}' (known: ${[...profiles.models.keys()].join(', ')})`);
  const hardware = profiles.hardware.get(settings.hardware);
  if (!hardware) throw new EngineError(`unknown hardware profile '${settings.hardware}' (known: ${[...profiles.hardware.keys()].join(', ')})`);
  const encoding = isEncodingName(model.encoding) ? model.encoding : 'o200k_base';
  return { model, hardware, encoding, errors: profiles.errors };
}

/** Budget arithmetic shared by every surface. */
export function budgetFor(settings: EngineSettings, contextLimit: number): { budget: number; reserve: number; overhead: number } {
  // Non-finite numbers (NaN from a bad API caller or setting) fall back to the defaults, never propagate.
  const whole = (x: number, def: number) => (Number.isFinite(x) ? Math.max(0, Math.floor(x)) : def);
  const reserve = whole(settings.reserveOutputTokens, DEFAULT_SETTINGS.reserveOutputTokens);
  const overhead = whole(settings.promptOverheadTokens, 0);
  const ceiling = Math.max(0, contextLimit - reserve - overhead);
  const wanted = settings.budget === 'model' || !Number.isFinite(settings.budget) ? ceiling : Math.floor(settings.budget);
  return { budget: Math.max(0, Math.min(wanted, ceiling)), reserve, overhead };
}

/**
 * The smallest stable layer worth its cost. Providers cache prompt prefixes
 * from 1,024 tokens on, in 128-token steps (OpenAI, Anthropic), and every token
 * of the layer is one the cursor's own snippets cannot use: on the eval's tune
 * split a layer in a 1k snippet budget lost 2–3 points of gold-in-budget.
 */
export const MIN_STABLE_TOKENS = 1024;

/**
 * Tokens of the stable layer for a budget: its share of what the cursor
 * window's nominal shares leave (0 below MIN_STABLE_TOKENS). Nominal, not
 * actual, so the layer does not change when the cursor window shrinks near the
 * top or bottom of a file.
 */
export function stableLayerTokens(settings: Pick<EngineSettings, 'prefixShare' | 'suffixShare' | 'stableShare'>, budget: number): number {
  const share = Number.isFinite(settings.stableShare) ? Math.min(1, Math.max(0, settings.stableShare)) : 0;
  const snippets = budget - Math.floor(budget * settings.prefixShare) - Math.floor(budget * settings.suffixShare);
  const tokens = Math.floor(share * snippets);
  return tokens >= MIN_STABLE_TOKENS ? tokens : 0;
}

/**
 * Candidates of the file-level ranking: the stable layer holds a few thousand
 * tokens (tens of chunks), so a third of the cursor ranking's pool is plenty and
 * the second ranking per query costs less.
 */
export function fileCandidates(maxCandidates: number): number {
  return Math.min(maxCandidates, 100);
}

export class ContextEngine {
  settings: EngineSettings;
  private profiles: ResolvedProfiles;
  /** The ranker once its session exists (for `rankerDevice`; queries await `ranker`). */
  private rankerReady: Ranker | undefined;
  /** The last file-level ranking: cursor moves in one file reuse it until the index or the signals change. */
  private fileRanking: { query: string; version: number; bm25: string; ranked: RankedChunk[] } | undefined;

  private constructor(
    readonly root: string,
    settings: EngineSettings,
    profiles: ResolvedProfiles,
    readonly index: WorkspaceIndex,
    private readonly ranker: Promise<Ranker>,
    /** The measured `this-cpu` profile, when that hardware was chosen at open. */
    private readonly thisCpu: HardwareProfile | undefined,
  ) {
    void ranker.then((r) => (this.rankerReady = r), () => undefined);
    this.settings = settings;
    this.profiles = profiles;
  }

  /** Opens the engine with an empty index; call `refresh()` to fill it. */
  static async open(opts: EngineOptions): Promise<ContextEngine> {
    const settings = { ...DEFAULT_SETTINGS, ...opts.settings };
    resolveProfiles(settings); // unknown ids fail before any work
    // "This machine's CPU" is measured once (a short ONNX matmul probe) and cached.
    const thisCpu = settings.hardware === THIS_CPU_ID ? await probeCpu(opts.index?.cacheDir ?? join(tmpdir(), 'context-budget')) : undefined;
    const profiles = resolveProfiles(settings, thisCpu);
    const log = opts.log ?? (() => undefined);
    for (const e of profiles.errors) log(`profile error: ${e}`);
    const syntax = opts.index?.syntax === null ? undefined : (opts.index?.syntax ?? (await sharedSyntaxChunker(log)));
    // The ranker's ONNX session is created on ONNX Runtime's threads while the index loads (never rejects).
    const ranker = Ranker.create({ device: opts.ranker?.device ?? 'auto', userModelPath: opts.ranker?.userModelPath, log });
    let index: WorkspaceIndex;
    try {
      index = await WorkspaceIndex.create(opts.root, { log, ...opts.index, syntax, encoding: profiles.encoding, promptText: PROMPT_TEXT });
    } catch (err) {
      await (await ranker).dispose(); // its model worker ends between runs, not torn down with the caller's thread
      throw err;
    }
    return new ContextEngine(opts.root, settings, profiles, index, ranker, thisCpu);
  }

  /** Where the ranker runs ('cpu', 'webgpu', 'stage1', ...), or 'starting' while its session is created. */
  get rankerDevice(): string {
    return this.rankerReady?.device ?? 'starting';
  }

  get model(): ModelProfile {
    return this.profiles.model;
  }

  get hardware(): HardwareProfile {
    return this.profiles.hardware;
  }

  get profileErrors(): string[] {
    return this.profiles.errors;
  }

  refresh(opts?: RefreshOptions) {
    return this.index.refresh(opts);
  }

  /** Applies new settings. A model with another encoding needs a new engine (returns false). */
  updateSettings(patch: Partial<EngineSettings>): boolean {
    const next = { ...this.settings, ...patch };
    if (next.hardware === THIS_CPU_ID && !this.thisCpu) return false; // needs the probe: open a new engine
    const profiles = resolveProfiles(next, this.thisCpu);
    if (profiles.encoding !== this.index.encoding) return false;
    this.settings = next;
    this.profiles = profiles;
    return true;
  }

  budget(override?: number): { budget: number; reserve: number; overhead: number; contextLimit: number } {
    const s = override === undefined ? this.settings : { ...this.settings, budget: override };
    return { ...budgetFor(s, this.model.contextLength), contextLimit: this.model.contextLength };
  }

  /** Computes the packed context for a cursor position. `pos.path` is relative to the root. */
  async compute(pos: CursorPosition, signals: EditorSignals, opts: ComputeOptions = {}): Promise<ComputedContext> {
    const started = performance.now();
    await this.index.ready();
    const text = this.index.fileText(pos.path);
    if (text === undefined) throw new EngineError(`cannot read ${pos.path}`);
    const { budget, reserve, overhead, contextLimit } = this.budget(opts.budget);
    const cursor = this.cursorFor(pos.path, text, pos.line, budget);
    const rankStart = performance.now();
    // Built in slices so the extension host never waits seconds on a large workspace; while it is still being indexed, the previous BM25 answers.
    const refreshing = this.index.isRefreshing;
    const answerWhileBuilding = opts.answerWhileBuilding && !refreshing;
    const bm25 = await prepareBm25(this.index, { allowStale: refreshing, answerWhileBuilding });
    // Taken now: the rebuild may land while the ranking runs, but this answer came from the last index.
    const bm25Behind = answerWhileBuilding ? bm25Building(this.index) : undefined;
    const ranker = await this.ranker;
    const ranking = await this.rankPrepared(ranker, { index: this.index, cursor, signals, maxCandidates: this.settings.maxCandidates, signal: opts.signal, bm25 }, answerWhileBuilding);
    const file = await this.rankFile(ranker, pos.path, text, signals, bm25, opts.signal, answerWhileBuilding);
    const fileRanked = file.ranked;
    // What this answer was ranked without: the BM25 index and import graph being rebuilt behind it.
    const building = [bm25Behind, ranking.graphBehind, file.graphBehind].filter((p) => p !== undefined);
    // A failed rebuild never settles it: asking again would only start the next one, and fail again.
    const behind = building.length ? Promise.all(building).then(() => undefined, () => new Promise<void>(() => undefined)) : undefined;
    if (opts.signal?.aborted) throw new EngineError('cancelled');
    const format = opts.format ?? this.settings.format;
    await countFramesAhead(this.index.tokens.tokenizer, format, [...ranking.ranked, ...fileRanked].map((r) => r.chunk));
    // Packing and rendering take a large workspace's query 10-20 ms: not on top of a spent slice.
    await breathe('query');
    const packStart = performance.now();
    const prompt = this.pack(ranking.ranked, fileRanked, cursor, budget, signals, format);
    const packEnd = performance.now();
    const blockOf = new Map<string, number>();
    prompt.blocks.forEach((b, k) => b.chunkIds.forEach((id) => blockOf.set(id, k)));
    const items: ReportItem[] = prompt.pack.items.map((i) => ({
      id: i.ranked.chunk.id,
      path: i.ranked.chunk.path,
      startLine: i.ranked.chunk.startLine,
      endLine: i.ranked.chunk.endLine,
      tokens: i.ranked.chunk.tokens,
      score: round(i.ranked.score, 4),
      selected: i.selected,
      reason: i.reason,
      sources: i.ranked.sources,
      kind: i.ranked.chunk.kind,
      pinned: signals.pinned.includes(i.ranked.chunk.id),
      evidence: i.ranked.evidence,
      ...(i.selected ? { sendOrder: blockOf.get(i.ranked.chunk.id) } : {}),
    }));
    const keptTokens = (reason: string) => items.filter((i) => i.selected && i.reason === reason).reduce((s, i) => s + i.tokens, 0);
    const pinnedTokens = keptTokens('pinned');
    const cost = estimateCost(this.model, this.hardware, { inputTokens: prompt.tokens + overhead, outputTokens: this.settings.outputTokens });
    const report: ContextReport = {
      version: 1,
      root: this.root,
      file: pos.path,
      line: pos.line,
      column: pos.column,
      model: this.model.id,
      modelName: this.model.name,
      encoding: this.index.encoding,
      hardware: this.hardware.id,
      budget,
      budgetSplit: {
        contextLimit,
        reserve,
        promptOverhead: overhead,
        overhead: Math.max(0, prompt.tokens - cursor.tokens - prompt.pack.selectedTokens),
        cursor: cursor.tokens,
        pinned: pinnedTokens,
        retrieved: prompt.pack.selectedTokens - pinnedTokens,
        stable: keptTokens('stable'),
      },
      device: ranking.device,
      rankerNote: [ranking.note, behind ? 'ranked from the last index while a fresh one is built' : undefined].filter(Boolean).join('; ') || undefined,
      cursor: { startLine: cursor.startLine, endLine: cursor.endLine, tokens: cursor.tokens },
      items,
      totals: { selectedTokens: prompt.pack.selectedTokens, candidates: items.length, indexedFiles: this.index.fileCount(), promptTokens: prompt.tokens },
      cost,
      timings: {
        indexMs: round(this.index.stats().ms, 1),
        rankMs: round(packStart - rankStart, 2),
        packMs: round(packEnd - packStart, 2),
        totalMs: round(performance.now() - started, 2),
      },
    };
    return { report, prompt, cursor, ranked: ranking.ranked, fileRanked, ...(behind ? { behind } : {}) };
  }

  /**
   * The stable layer's candidates: the ranking for the whole file, remembered
   * while the index and the signals stay the same. While the index is still
   * being filled it changes every moment: the last ranking for this file
   * stands until the refresh ends (as the previous BM25 index does).
   */
  private async rankFile(
    ranker: Ranker,
    path: string,
    text: string,
    signals: EditorSignals,
    bm25: Bm25Index,
    signal: AbortSignal | undefined,
    answerWhileBuilding: boolean | undefined,
  ): Promise<{ ranked: RankedChunk[]; graphBehind?: Promise<void> }> {
    if (!(this.settings.stableShare > 0)) return { ranked: [] };
    const maxCandidates = fileCandidates(this.settings.maxCandidates);
    const query = JSON.stringify([path, maxCandidates, signals]);
    const version = this.index.version();
    const last = this.fileRanking;
    // The BM25 index is patched in place only when the index version moves; a rebuilt one has a new signature.
    // (Its signature, not the object: holding an old BM25 index would keep its postings alive.)
    if (last && last.query === query && last.version === version && last.bm25 === bm25.signature) return { ranked: last.ranked };
    // Chunks replaced since (their file changed) leave it; the rest stands.
    if (last && last.query === query && this.index.isRefreshing) return { ranked: last.ranked.filter((r) => isCurrent(this.index, r.chunk)) };
    const res = await this.rankPrepared(ranker, { index: this.index, cursor: fileWindowOfText(path, text), signals, maxCandidates, signal, bm25 }, answerWhileBuilding);
    // Not remembered when ranked with the last import graph: the fresh one comes under the same version.
    if (!signal?.aborted && !res.graphBehind) this.fileRanking = { query, version, bm25: bm25.signature, ranked: res.ranked };
    return { ranked: res.ranked, graphBehind: res.graphBehind };
  }

  /**
   * Every ranking prepares the import graph (in slices) right before it: stage 1
   * reads the graph synchronously, and a graph that fell due since an earlier
   * await (the first ranking waits on ONNX Runtime, and the refresh moves on or
   * ends meanwhile) would otherwise be resolved there at once — seconds at
   * 100,000 files. With `answerWhileBuilding` the last graph may answer while
   * a fresh one is built: `graphBehind` settles when it is in place.
   */
  private async rankPrepared(ranker: Ranker, req: RankRequest, answerWhileBuilding: boolean | undefined): Promise<RankResult & { graphBehind?: Promise<void> }> {
    const { behind } = await this.index.prepareGraph({ answerWhileBuilding });
    return { ...(await ranker.rank(req)), graphBehind: behind };
  }

  private cursorFor(path: string, text: string, line: number, budget: number): CursorWindow {
    return cursorWindowOfText(path, text, line, {
      prefixTokens: Math.floor(budget * this.settings.prefixShare),
      suffixTokens: Math.floor(budget * this.settings.suffixShare),
      tokenizer: this.index.tokens.tokenizer,
    });
  }

  private pack(ranked: RankedChunk[], fileRanked: RankedChunk[], cursor: CursorWindow, budget: number, signals: EditorSignals, format: PromptFormat): PackedPrompt {
    return packAndRender({
      ranked,
      stableLayer: { ranked: fileRanked, budget: stableLayerTokens(this.settings, budget) },
      budget,
      cursor,
      pinned: new Set(signals.pinned),
      excluded: new Set(signals.excluded),
      minScore: this.settings.minScore,
      format,
      tokenizer: this.index.tokens.tokenizer,
      textOf: (path, s, e) => this.index.lineRange(path, s, e),
    });
  }

  /** The same ranking packed at another budget (cursor window resized to that budget's shares). */
  packAt(ctx: ComputedContext, budget: number, signals: EditorSignals): PackedPrompt {
    const text = this.index.fileText(ctx.report.file) ?? ctx.cursor.text;
    const cursor = this.cursorFor(ctx.report.file, text, ctx.report.line, budget);
    return this.pack(ctx.ranked, ctx.fileRanked, cursor, budget, signals, this.settings.format);
  }

  async dispose(): Promise<void> {
    await this.index.flush(); // a save running behind a refresh
    await (await this.ranker).dispose();
  }
}

let syntaxChunker: Promise<SyntaxChunker | undefined> | undefined;

/** One tree-sitter runtime per process; a failure to load it means line windows everywhere, said once. */
function sharedSyntaxChunker(log: (msg: string) => void): Promise<SyntaxChunker | undefined> {
  syntaxChunker ??= SyntaxChunker.create().catch((err: unknown) => {
    log(`syntax-aware chunking unavailable, using line windows: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  });
  return syntaxChunker;
}


function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
