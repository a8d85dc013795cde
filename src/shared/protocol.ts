// The one typed protocol between the extension host and the budget panel's webview.
//
// Host → webview messages are trusted (we build them) but must stay JSON-safe:
// PanelState is what the webview keeps with `vscode.setState` and what the
// WebviewPanelSerializer hands back after a reload.
// Webview → host messages are NOT trusted: every one goes through
// `parseWebviewMessage` before the host acts on it. Paths from the webview are
// passed on as given; the host must resolve them with `resolveInsideRoot` (or
// `isInsideRoot`) before opening anything.
//
// No `vscode` import here: this module is bundled into the webview too.
import type { ContextReport } from '../core/report';
import type { SkipReason } from '../core/types';

export const PROTOCOL_VERSION = 1 as const;

// ---------------------------------------------------------------------------
// Host → webview
// ---------------------------------------------------------------------------

/** A pickable model or hardware profile. */
export interface Choice {
  id: string;
  label: string;
  /** Second line / tooltip, e.g. "128k context · o200k_base". */
  detail?: string;
}

export interface IndexingProgress {
  /** Files indexed so far. */
  files: number;
  /** Files to index, when known. */
  total?: number;
  done: boolean;
}

export interface IndexStats {
  files: number;
  chunks: number;
  /** Tokens over all indexed chunks (in the index's encoding). */
  tokens: number;
  /** Files not indexed, per reason. */
  skipped: Partial<Record<SkipReason, number>>;
  encoding?: string;
}

/** One sample of the cost model at `tokens` input tokens. null = not knowable (architecture not public). */
export interface CostCurvePoint {
  tokens: number;
  totalFlops: number | null;
  attentionFlops: number | null;
  kvCacheBytes: number | null;
  ttftSeconds: number | null;
  priceUsd: number | null;
}

/** Attention pattern of a series (costModel's PatternOption.pattern.kind; 'model' for anything else). */
export type CostCurveKind = 'dense' | 'sliding' | 'local-global' | 'model';

/** One curve; costModel.compareCurves gives one per pattern (the model's own first). */
export interface CostCurveSeries {
  kind: CostCurveKind;
  /** Legend text, e.g. "dense (causal)", "sliding window 4,096". */
  label: string;
  /** The model's own pattern (drawn heavier, marked in the legend). */
  native?: boolean;
  /** Ascending by tokens. The plot skips points whose value is null or not > 0. */
  points: CostCurvePoint[];
}

/** What the cost-vs-context-length plot needs (filled by the controller from costModel's costCurve). */
export interface CostCurves {
  model: string;
  hardware: string;
  architectureKnown: boolean;
  series: CostCurveSeries[];
  /** Tokens of the prompt that would be sent now (marked on the plot). */
  currentTokens: number;
  /** The token budget (marked on the plot). */
  budgetTokens: number;
  /** The model's context limit (marked when inside the x range). */
  contextLimit: number;
}

/** The metrics the plot can show on its y axis. */
export type PlotMetric = 'attentionFlops' | 'totalFlops' | 'kvCacheBytes' | 'ttftSeconds' | 'priceUsd';
export const PLOT_METRICS: readonly PlotMetric[] = ['attentionFlops', 'totalFlops', 'kvCacheBytes', 'ttftSeconds', 'priceUsd'];

export type CandidateWindowKind = 'cursor' | 'packed' | 'file' | 'open-tabs' | 'workspace';

/**
 * One row of the candidate-windows table. Rows the controller sends, in this order:
 * cursor window alone; packed at 2k, 4k, 8k, 16k, 32k; whole current file; all open tabs; whole workspace.
 */
export interface CandidateWindowRow {
  kind: CandidateWindowKind;
  /** e.g. "Cursor window", "Packed @ 8k", "Whole file (src/a.ts)", "All open tabs (7)", "Whole workspace". */
  label: string;
  tokens: number;
  attentionFlops: number | null;
  /** attentionFlops / totalFlops, in [0, 1]. */
  attentionShare: number | null;
  kvCacheBytes: number | null;
  ttftSeconds: number | null;
  priceUsd: number | null;
  /** KV cache + weights fit the hardware's memory (null = unknown). */
  fitsInMemory?: boolean | null;
  /** The row that matches the current budget (highlighted). */
  current?: boolean;
}

export type PanelMessageLevel = 'info' | 'warning' | 'error';
export interface PanelMessage {
  level: PanelMessageLevel;
  text: string;
}

export interface BudgetSlider {
  /** Current token budget (what the packer used). */
  tokens: number;
  min: number;
  /** Usually the model's context limit minus the output reserve. */
  max: number;
  step: number;
}

/** Everything the panel shows. Full snapshot, JSON-serializable. */
export interface PanelState {
  version: typeof PROTOCOL_VERSION;
  /** null while nothing has been computed yet (no editor, indexing, ...). */
  report: ContextReport | null;
  /** null when no indexing is running or pending. */
  indexing: IndexingProgress | null;
  index: IndexStats | null;
  models: { choices: Choice[]; current: string };
  hardware: { choices: Choice[]; current: string };
  budget: BudgetSlider;
  curves: CostCurves | null;
  windows: CandidateWindowRow[];
  ranker: { device: string; note?: string };
  /** Whole files the user excluded (paths as in report items). */
  excludedPaths: string[];
  messages: PanelMessage[];
  /** A recompute is in flight (the UI dims, nothing flashes). */
  busy?: boolean;
  /** Prompt-cache reuse: leading tokens unchanged from the previous pack for this file, and the price with and without that cache hit. */
  cache?: PromptCacheInfo;
}

export interface PromptCacheInfo {
  /** Leading tokens identical to the previous pack's (cut back to a line boundary). */
  reusedTokens: number;
  /** Tokens of the packed prompt. */
  totalTokens: number;
  /** Price of the request with no cache hit (null: no list price). */
  priceUsd: number | null;
  /** Price when the reused prefix is billed at the cached-input rate. */
  priceWithCacheUsd: number | null;
}

export type PromptFormat = 'markdown' | 'xml';

export type HostToWebview =
  | { type: 'state'; state: PanelState }
  | { type: 'copied'; format: PromptFormat; tokens: number; ok: boolean; error?: string };

/** Light check for messages arriving in the webview (from our own host). */
export function isHostMessage(x: unknown): x is HostToWebview {
  if (!isRecord(x)) return false;
  if (x.type === 'state') return isRecord(x.state) && x.state.version === PROTOCOL_VERSION;
  if (x.type === 'copied') return (x.format === 'markdown' || x.format === 'xml') && typeof x.ok === 'boolean';
  return false;
}

export function emptyPanelState(): PanelState {
  return {
    version: PROTOCOL_VERSION,
    report: null,
    indexing: null,
    index: null,
    models: { choices: [], current: '' },
    hardware: { choices: [], current: '' },
    budget: { tokens: 8192, min: 256, max: 131072, step: 256 },
    curves: null,
    windows: [],
    ranker: { device: 'cpu' },
    excludedPaths: [],
    messages: [],
  };
}

// ---------------------------------------------------------------------------
// Webview → host
// ---------------------------------------------------------------------------

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'reveal'; path: string; startLine: number; endLine: number }
  | { type: 'togglePin'; id: string }
  | { type: 'toggleExclude'; id: string }
  | { type: 'toggleExcludeFile'; path: string }
  | { type: 'setBudget'; tokens: number }
  | { type: 'selectModel'; id: string }
  | { type: 'selectHardware'; id: string }
  | { type: 'copyPrompt'; format: PromptFormat }
  | { type: 'recompute' };

export type WebviewMessageType = WebviewToHost['type'];

/** Limits applied to strings from the webview. */
export const LIMITS = {
  /** Paths (relative or absolute). */
  path: 4096,
  /** Chunk ids (`${path}#${start}-${end}`). */
  chunkId: 4096 + 32,
  /** Model / hardware ids. */
  choiceId: 256,
  /** Lines (1-based). */
  line: 10_000_000,
  /** Token budget. */
  budgetTokens: 100_000_000,
} as const;

export type ParseResult = { ok: true; msg: WebviewToHost } | { ok: false; error: string };

type FieldSpec = 'path' | 'chunkId' | 'choiceId' | 'line' | 'tokens' | 'format';

const SHAPES: Record<WebviewMessageType, Record<string, FieldSpec>> = {
  ready: {},
  reveal: { path: 'path', startLine: 'line', endLine: 'line' },
  togglePin: { id: 'chunkId' },
  toggleExclude: { id: 'chunkId' },
  toggleExcludeFile: { path: 'path' },
  setBudget: { tokens: 'tokens' },
  selectModel: { id: 'choiceId' },
  selectHardware: { id: 'choiceId' },
  copyPrompt: { format: 'format' },
  recompute: {},
};

/** Validates a message from the webview. Rejects unknown types, missing or extra fields, wrong types, non-finite numbers, over-long strings. */
export function parseWebviewMessage(raw: unknown): ParseResult {
  if (!isRecord(raw)) return fail('not an object');
  const type = raw.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(SHAPES, type)) {
    return fail(`unknown message type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : typeof type}`);
  }
  const shape = SHAPES[type as WebviewMessageType];
  for (const key of Object.keys(raw)) {
    if (key !== 'type' && !Object.prototype.hasOwnProperty.call(shape, key)) return fail(`${type}: unexpected field ${JSON.stringify(key.slice(0, 40))}`);
  }
  for (const [key, spec] of Object.entries(shape)) {
    const err = checkField(raw[key], spec);
    if (err) return fail(`${type}.${key}: ${err}`);
  }
  if (type === 'reveal' && (raw.startLine as number) > (raw.endLine as number)) return fail('reveal: startLine > endLine');
  const msg: Record<string, unknown> = { type };
  for (const key of Object.keys(shape)) msg[key] = raw[key];
  return { ok: true, msg: msg as WebviewToHost };
}

/** True when `raw` is a valid webview message. */
export function isWebviewMessage(raw: unknown): raw is WebviewToHost {
  return parseWebviewMessage(raw).ok;
}

function checkField(v: unknown, spec: FieldSpec): string | undefined {
  switch (spec) {
    case 'path':
      return checkString(v, LIMITS.path);
    case 'chunkId':
      return checkString(v, LIMITS.chunkId);
    case 'choiceId':
      return checkString(v, LIMITS.choiceId);
    case 'line':
      return checkInt(v, 1, LIMITS.line);
    case 'tokens':
      return checkInt(v, 1, LIMITS.budgetTokens);
    case 'format':
      return v === 'markdown' || v === 'xml' ? undefined : 'expected "markdown" or "xml"';
  }
}

function checkString(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string') return `expected string, got ${typeof v}`;
  if (v.length === 0) return 'empty string';
  if (v.length > max) return `string longer than ${max}`;
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'control character in string';
  return undefined;
}

function checkInt(v: unknown, min: number, max: number): string | undefined {
  if (typeof v !== 'number') return `expected number, got ${typeof v}`;
  if (!Number.isFinite(v)) return 'not a finite number';
  if (!Number.isInteger(v)) return 'not an integer';
  if (v < min || v > max) return `out of range [${min}, ${max}]`;
  return undefined;
}

function fail(error: string): ParseResult {
  return { ok: false, error };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

// ---------------------------------------------------------------------------
// Paths from the webview
// ---------------------------------------------------------------------------

/**
 * The path segments of `candidate` relative to `root`, or undefined when the
 * candidate does not stay inside `root`. Pure (no file system, no symlinks):
 * the host should still realpath the result when symlinks matter.
 *
 * - Relative candidates are taken relative to root; `/` and `\` both separate.
 * - Any `..` segment is rejected, even one that would stay inside.
 * - Absolute candidates are accepted only when they lie under root
 *   (Windows drive letters compare case-insensitively).
 * - URIs (`file://...`, `untitled:`, any `scheme:`) are rejected; so are NUL and control characters.
 * - `root` itself (no segments left) is rejected: a reveal needs a file.
 */
export function resolveInsideRoot(root: string, candidate: string): string[] | undefined {
  if (typeof root !== 'string' || typeof candidate !== 'string') return undefined;
  if (root.length === 0 || candidate.length === 0 || candidate.length > LIMITS.path) return undefined;
  if (/[\u0000-\u001f\u007f]/.test(candidate)) return undefined;
  // A URI scheme (two or more letters then ':'); a single letter is a Windows drive.
  if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(candidate)) return undefined;
  const rootParts = splitPath(root);
  if (!rootParts) return undefined;
  const candParts = splitPath(candidate);
  if (!candParts) return undefined;
  let rel: string[];
  if (candParts.absolute) {
    if (!rootParts.absolute) return undefined;
    if (!sameDrive(rootParts.drive, candParts.drive)) return undefined;
    if (candParts.segments.length <= rootParts.segments.length) return undefined;
    const caseless = rootParts.drive !== '';
    for (let i = 0; i < rootParts.segments.length; i++) {
      const a = rootParts.segments[i];
      const b = candParts.segments[i];
      if (caseless ? a.toLowerCase() !== b.toLowerCase() : a !== b) return undefined;
    }
    rel = candParts.segments.slice(rootParts.segments.length);
  } else {
    if (candParts.drive !== '') return undefined; // "C:foo" (drive-relative) is not ours
    rel = candParts.segments;
  }
  if (rel.length === 0 || rel.some((s) => s === '..')) return undefined;
  return rel;
}

/** True when `candidate` resolves to a file inside `root` (see resolveInsideRoot). */
export function isInsideRoot(root: string, candidate: string): boolean {
  return resolveInsideRoot(root, candidate) !== undefined;
}

interface SplitPath {
  absolute: boolean;
  drive: string;
  segments: string[];
}

function splitPath(p: string): SplitPath | undefined {
  let rest = p;
  let drive = '';
  const m = /^([a-zA-Z]):/.exec(rest);
  if (m) {
    drive = m[1].toLowerCase();
    rest = rest.slice(2);
  }
  // UNC / device paths (\\server\share, //?/...) are never ours.
  if (/^[\\/]{2}/.test(rest)) return undefined;
  const absolute = /^[\\/]/.test(rest);
  if (drive && !absolute && rest.length === 0) return undefined;
  const segments = rest.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  return { absolute, drive, segments };
}

function sameDrive(a: string, b: string): boolean {
  return a === b;
}
