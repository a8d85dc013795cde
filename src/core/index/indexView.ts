// The read-only view of the workspace index that ranking, packing and the UI use.
// The index (workspaceIndex.ts) implements it; tests can implement it directly.
import type { Chunk } from '../types';
import { sameChunk } from './chunkStore';

export interface IndexView {
  /**
   * Optional: a number that changes whenever any chunk changes (a generation
   * counter). The ranker uses it to reuse its BM25 index without rescanning
   * allChunks() per query; without it, it hashes the chunk list instead.
   */
  version?(): number;
  /** Optional: paths whose chunks changed after `version()` returned `version`; undefined when unknown (then rebuild). */
  changedSince?(version: number): readonly string[] | undefined;
  /** Number of indexed files. */
  fileCount(): number;
  /** All indexed file paths (relative, `/`-separated). */
  files(): Iterable<string>;
  /** Every chunk of every file. */
  allChunks(): Iterable<Chunk>;
  /** Chunks of one file in line order ([] when not indexed). */
  chunksOf(path: string): readonly Chunk[];
  /** Chunks that define `name` (exact identifier, case-sensitive); at most `limit` of them, the first found, when given. */
  definitionsOf(name: string, limit?: number): readonly Chunk[];
  /** Files that `path` imports (resolved, relative paths). */
  importsOf(path: string): readonly string[];
  /** Files that import `path`. */
  importersOf(path: string): readonly string[];
  /** Names `path` imports, per resolved target file (for import-definition ranking). */
  importedNamesOf(path: string): ReadonlyMap<string, readonly string[]>;
  /** The current text of a chunk (from the editor buffer when open, else disk). */
  chunkText(chunk: Chunk): string;
  /** The full current text of an indexed file, or undefined. */
  fileText(path: string): string | undefined;
}

/** True while `chunk` is still one of its file's chunks (a ranking or BM25 index from a moment ago may hold replaced ones). */
export function isCurrent(index: Pick<IndexView, 'chunksOf'>, chunk: Chunk): boolean {
  return index.chunksOf(chunk.path).some((c) => sameChunk(c, chunk));
}
