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
  /** 'selected' / 'pinned' when kept, else the drop reason ('over budget', 'redundant with <id>', ...). */
  reason: string;
  sources: CandidateSource[];
  kind: ChunkKind;
  pinned: boolean;
  /** Cursor terms that pulled this chunk in. */
  evidence?: string[];
  /** For selected items: position of its block in the rendered prompt (0 is sent first; the cursor section follows the last). */
  sendOrder?: number;
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
   */
  budgetSplit: { contextLimit: number; reserve: number; promptOverhead?: number; overhead: number; cursor: number; pinned: number; retrieved: number };
  /** Execution provider the ranker used: 'cpu', 'webgpu', ... or 'stage1' when only stage 1 ran. */
  device: string;
  /** Why the ranker degraded, when it did. */
  rankerNote?: string;
  cursor: { startLine: number; endLine: number; tokens: number };
  /** Candidates in rank order, best first. */
  items: ReportItem[];
  totals: { selectedTokens: number; candidates: number; indexedFiles: number; promptTokens: number };
  cost: CostEstimate;
  timings: { indexMs: number; rankMs: number; packMs: number; totalMs: number };
}
