// The result of computing the context for one cursor position: what the CLI's
// `rank --json` prints (a subset), what the status bar shows and what the panel renders.
import type { CostEstimate } from './cost/types';
import type { CandidateSource, ChunkKind } from './types';

export interface ReportItem {
  id: string;
  path: string;
  startLine: number;
  endLine: number;
  tokens: number;
  score: number;
  selected: boolean;
  /** 'selected' / 'pinned' / 'stable' (the file-level layer sent first) when kept, else the drop reason ('over budget', 'redundant with <id>', ...). */
  reason: string;
  sources: CandidateSource[];
  kind: ChunkKind;
  pinned: boolean;
  /** Cursor terms that pulled this chunk in. */
  evidence?: string[];
  /** For selected items: position of its block in the rendered prompt (0 is sent first; the cursor section follows the last). */
  sendOrder?: number;
}

/** A reason as people read it (panel, chat): kept reasons explained, drop reasons as they are. */
export function reasonLabel(reason: string): string {
  return reason === 'stable' ? 'stable layer: chosen for the whole file, sent first' : reason;
}

export interface ContextReport {
  version: 1;
  root: string;
  file: string;
  line: number;
  column: number;
  model: string;
  modelName: string;
  encoding: string;
  hardware: string;
  /** Total tokens for the packed context, cursor window included. */
  budget: number;
  /**
   * Where the tokens go. `overhead`: headers, fences and separators in the rendered
   * prompt; `promptOverhead`: tokens kept outside the budget for the caller's own
   * system prompt (setting). cursor + pinned + retrieved + overhead = totals.promptTokens.
   * `stable`: the part of `retrieved` in the stable layer (sent first, the same for every line of the file).
   */
  budgetSplit: { contextLimit: number; reserve: number; promptOverhead?: number; overhead: number; cursor: number; pinned: number; retrieved: number; stable?: number };
  /** Execution provider the ranker used: 'cpu', 'webgpu', ... or 'stage1' when only stage 1 ran. */
  device: string;
  /** Why the ranker degraded, when it did; also says when it ranked from the last index while a fresh one is built. */
  rankerNote?: string;
  cursor: { startLine: number; endLine: number; tokens: number };
  /** Candidates in rank order, best first. */
  items: ReportItem[];
  totals: { selectedTokens: number; candidates: number; indexedFiles: number; promptTokens: number };
  cost: CostEstimate;
  timings: { indexMs: number; rankMs: number; packMs: number; totalMs: number };
}
