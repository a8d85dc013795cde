// The engine as the extension host talks to it: every call takes and returns
// plain data, so one session can live in the engine process (engineProcess.ts,
// where its heap and its collections never pause the editor) or, when that
// script is not built, on the calling thread. No VS Code API here.
import { ContextEngine, type ComputedContext, type ComputeOptions, type EngineOptions, type EngineSettings } from '../core/engine';
import type { HardwareProfile, ModelProfile } from '../core/cost/types';
import type { IndexStats, RefreshOptions } from '../core/index/workspaceIndex';
import { PrefixTracker } from '../core/pack/prefixReuse';
import type { PromptFormat } from '../core/pack/render';
import type { ContextReport } from '../core/report';
import type { CursorPosition, EditorSignals } from '../core/types';
import type { CandidateWindowRow, CostCurves, PromptCacheInfo } from '../shared/protocol';
import { candidateWindows, costCurves } from './panelState';

/** What the panel and the commands read of an engine between queries. */
export interface EngineInfo {
  model: ModelProfile;
  hardware: HardwareProfile;
  profileErrors: string[];
  encoding: string;
  /** Where the ranker runs, or 'starting'. */
  rankerDevice: string;
  index: Pick<IndexStats, 'files' | 'chunks' | 'tokens' | 'skipped'>;
  /** The settings' budget and the largest one the model allows (tokens). */
  budget: { tokens: number; max: number };
}

/** A computed context as the host keeps it: the report and the prompt, not the ranking behind them. */
export interface ComputedSummary {
  /** Names this answer in later calls (panelFacts, samples) while the session keeps it. */
  id: number;
  report: ContextReport;
  prompt: { text: string; tokens: number };
  /** As ComputedContext.behind: settles once the indexes this answer was ranked without are in place. */
  behind?: Promise<void>;
}

/** The panel's costlier parts, computed where the ranking lives. */
export interface PanelFacts {
  curves?: CostCurves;
  windows?: CandidateWindowRow[];
  cache?: PromptCacheInfo;
}

export interface SessionComputeOptions {
  budget?: number;
  format?: PromptFormat;
  answerWhileBuilding?: boolean;
}

/** The calls every engine client answers (EngineSession here, EngineProcessClient through a child process). */
export interface EngineClient {
  info(): Promise<EngineInfo>;
  /** False when the new settings need a new engine (another tokenizer, a CPU probe). */
  updateSettings(patch: Partial<EngineSettings>): Promise<boolean>;
  refresh(opts?: RefreshOptions): Promise<IndexStats>;
  compute(pos: CursorPosition, signals: EditorSignals, opts?: SessionComputeOptions & { signal?: AbortSignal }): Promise<ComputedSummary>;
  panelFacts(id: number, signals: EditorSignals, withWindows: boolean): Promise<PanelFacts>;
  /**
   * The editor's text of `path` (undefined: none, read the disk), in one
   * message however large: queries read it instead of the disk, and with
   * `reindex` the file's index entry is made from it (or from the disk).
   */
  editorText(path: string, text: string | undefined, reindex: boolean): Promise<void>;
  /** Re-indexes a file from the editor text the engine holds for it (without one, from the disk). */
  reindexEditorText(path: string): Promise<void>;
  /** Re-indexes a file from the disk (it changed there). */
  updateFile(path: string): Promise<void>;
  removeFile(path: string): Promise<void>;
  renameFile(from: string, to: string): Promise<void>;
  ignoreRulesChanged(dir: string): Promise<void>;
  save(): Promise<void>;
  /** Ids of the indexed chunks of `path` that touch lines from..to (1-based). */
  chunkIdsInLines(path: string, from: number, to: number): Promise<string[]>;
  /** The texts of a kept answer's prompt blocks and cursor window (token-ratio calibration samples). */
  samples(id: number): Promise<string[]>;
  /** Exact tiktoken counts in the engine's encoding. */
  countTokens(texts: string[]): Promise<number[]>;
  dispose(): Promise<void>;
}

/** Answers kept for panelFacts and samples: the latest few (the panel asks for the latest). */
const KEPT_ANSWERS = 4;

export class EngineSession implements EngineClient {
  private readonly kept = new Map<number, ComputedContext>();
  private readonly windows = new WeakMap<ComputedContext, CandidateWindowRow[]>();
  private readonly prefixes = new PrefixTracker();
  private lastId = 0;

  private constructor(readonly engine: ContextEngine) {}

  static async open(opts: EngineOptions): Promise<EngineSession> {
    return new EngineSession(await ContextEngine.open(opts));
  }

  async info(): Promise<EngineInfo> {
    const e = this.engine;
    const s = e.index.stats();
    return {
      model: e.model,
      hardware: e.hardware,
      profileErrors: e.profileErrors,
      encoding: e.index.encoding,
      rankerDevice: e.rankerDevice,
      index: { files: s.files, chunks: s.chunks, tokens: s.tokens, skipped: s.skipped },
      // The slider runs up to the model's limit minus the reserve (a huge request is clamped to that ceiling).
      budget: { tokens: e.budget().budget, max: e.budget(Number.MAX_SAFE_INTEGER).budget },
    };
  }

  async updateSettings(patch: Partial<EngineSettings>): Promise<boolean> {
    return this.engine.updateSettings(patch);
  }

  refresh(opts?: RefreshOptions): Promise<IndexStats> {
    return this.engine.refresh(opts);
  }

  async compute(pos: CursorPosition, signals: EditorSignals, opts: SessionComputeOptions & Pick<ComputeOptions, 'signal'> = {}): Promise<ComputedSummary> {
    const c = await this.engine.compute(pos, signals, opts);
    const id = ++this.lastId;
    this.kept.set(id, c);
    if (this.kept.size > KEPT_ANSWERS) this.kept.delete(this.kept.keys().next().value as number);
    return { id, report: c.report, prompt: { text: c.prompt.text, tokens: c.prompt.tokens }, ...(c.behind ? { behind: c.behind } : {}) };
  }

  async panelFacts(id: number, signals: EditorSignals, withWindows: boolean): Promise<PanelFacts> {
    const c = this.kept.get(id);
    if (!c) return {};
    const e = this.engine;
    const facts: PanelFacts = { curves: costCurves(e, c.report.totals.promptTokens, c.report.budget) };
    if (withWindows) {
      // Five re-packs and exact counts: done once per answer, not on every panel message.
      let rows = this.windows.get(c);
      if (!rows) this.windows.set(c, (rows = candidateWindows(e, c, signals)));
      facts.windows = rows;
    }
    facts.cache = await this.prefixes.priced(c.report.file, c.prompt.text, e.index.tokens.tokenizer, e.model, e.hardware, c.report.cost);
    return facts;
  }

  async editorText(path: string, text: string | undefined, reindex: boolean): Promise<void> {
    this.engine.index.setOverlay(path, text);
    if (reindex) await this.reindexEditorText(path);
  }

  async reindexEditorText(path: string): Promise<void> {
    await this.engine.index.updateFile(path, this.engine.index.overlayOf(path));
  }

  async updateFile(path: string): Promise<void> {
    await this.engine.index.updateFile(path);
  }

  async removeFile(path: string): Promise<void> {
    this.engine.index.removeFile(path);
  }

  async renameFile(from: string, to: string): Promise<void> {
    await this.engine.index.renameFile(from, to);
  }

  async ignoreRulesChanged(dir: string): Promise<void> {
    this.engine.index.ignoreRulesChanged(dir);
  }

  save(): Promise<void> {
    return this.engine.index.save();
  }

  async chunkIdsInLines(path: string, from: number, to: number): Promise<string[]> {
    return this.engine.index
      .chunksOf(path)
      .filter((c) => c.endLine >= from && c.startLine <= to)
      .map((c) => c.id);
  }

  async samples(id: number): Promise<string[]> {
    const c = this.kept.get(id);
    return c ? [...c.prompt.blocks.map((b) => b.text), c.cursor.text] : [];
  }

  async countTokens(texts: string[]): Promise<number[]> {
    const tokenizer = this.engine.index.tokens.tokenizer;
    return texts.map((t) => tokenizer.count(t));
  }

  dispose(): Promise<void> {
    this.kept.clear();
    return this.engine.dispose();
  }
}
