// Shared data shapes of the core. Everything here is plain data (JSON-safe) so it
// can cross worker threads, the cache file, the CLI's JSON and the webview.

/** What a chunk is, syntactically. `window` = a line window of a file without a grammar. */
export type ChunkKind =
  | 'function'
  | 'class'
  | 'interface'
  | 'type'
  | 'const'
  | 'imports'
  | 'members'
  | 'declarations'
  | 'window';

export interface Chunk {
  /** Stable id: `${path}#${startLine}-${endLine}`. */
  id: string;
  /** Path relative to its workspace root, `/`-separated (multi-root: prefixed with the root's name). */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  /** 1-based, inclusive. */
  endLine: number;
  language: string;
  kind: ChunkKind;
  /** Names this chunk declares (functions, classes, consts, ...). */
  defines: string[];
  /** Lower-cased identifier subtokens used in the chunk (camelCase / snake_case split), with repeats removed. */
  uses: string[];
  /** Hash of the chunk's text (sha1 hex, first 16 chars). */
  hash: string;
  /** Exact tiktoken count of the chunk's text in the index's encoding. */
  tokens: number;
}

/** Why a file or chunk became a ranking candidate. */
export type CandidateSource =
  | 'bm25'
  | 'definition'
  | 'import'
  | 'open-tab'
  | 'recent-edit'
  | 'recent-view'
  | 'same-folder'
  | 'pinned';

/** Why a file was not indexed. */
export type SkipReason =
  | 'ignored'
  | 'binary'
  | 'too-large'
  | 'unreadable'
  | 'symlink-loop'
  | 'outside-root'
  | 'vanished'
  | 'minified';

export interface CursorPosition {
  /** Path relative to the root (or absolute for files outside any root). */
  path: string;
  /** 1-based line. */
  line: number;
  /** 0-based column. */
  column: number;
}

/** The prefix/suffix window around the cursor that is always sent. */
export interface CursorWindow {
  path: string;
  startLine: number;
  endLine: number;
  tokens: number;
  /** The text, prefix and suffix joined (lines startLine..endLine). */
  text: string;
  /** Subtokens near the cursor, nearest first, with their weight (for ranking queries). */
  queryTerms: Array<{ term: string; weight: number }>;
  /** Whole identifiers near the cursor (not split), nearest first: for definition lookup. */
  nearIdentifiers: string[];
  /** 0-based line index (within the file) of the cursor line. */
  cursorLine: number;
}

/** Signals the editor (or CLI flags) provide about what the user is looking at. */
export interface EditorSignals {
  /** Open tabs, most recently used first (relative paths). */
  openTabs: string[];
  /** Recently edited files, most recent first. */
  recentEdits: string[];
  /** Recently viewed files, most recent first. */
  recentViews: string[];
  /** Chunk ids the user pinned. */
  pinned: string[];
  /** Paths or chunk ids the user excluded. */
  excluded: string[];
}

export const emptySignals = (): EditorSignals => ({ openTabs: [], recentEdits: [], recentViews: [], pinned: [], excluded: [] });

/** A chunk with its relevance for one cursor query. */
export interface RankedChunk {
  chunk: Chunk;
  /** Relevance in [0, 1] (higher is better). */
  score: number;
  /** Why it came in as a candidate. */
  sources: CandidateSource[];
  /** Cursor terms that pulled it in most (from attention weights or BM25 term matches). */
  evidence?: string[];
}

export type DropReason = 'over budget' | `redundant with ${string}` | 'excluded' | 'below threshold' | 'too large';

export interface PackedItem {
  ranked: RankedChunk;
  selected: boolean;
  /** 'selected' | 'pinned' | 'stable' for kept items; a DropReason for dropped ones. */
  reason: string;
}
