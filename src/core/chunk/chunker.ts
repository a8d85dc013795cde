// Turns one file's text into chunks: syntax-aware spans where a grammar is
// loaded, line windows otherwise; then hash, identifiers and exact token counts.
import { createHash } from 'node:crypto';
import type { Chunk, ChunkKind } from '../types';
import { subtokenSet } from './identifiers';
import { lineWindows } from './lineWindows';

export interface ChunkSpanLike {
  startLine: number;
  endLine: number;
  kind: ChunkKind;
  defines: string[];
}

/** What the chunker needs from the tree-sitter layer (src/core/chunk/syntax.ts). */
export interface SyntaxLike {
  supports(languageId: string): boolean;
  spans(text: string, languageId: string, maxChunkTokens: number, countTokens: (s: string) => number): ChunkSpanLike[] | undefined;
  imports(text: string, languageId: string): Array<{ specifier: string; names: string[]; line: number }> | undefined;
}

export interface ChunkOptions {
  maxChunkTokens: number;
  windowLines: number;
  windowStride: number;
}

export const DEFAULT_CHUNK_OPTIONS: ChunkOptions = { maxChunkTokens: 512, windowLines: 60, windowStride: 30 };

export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

export function hashText(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

export function chunkId(path: string, startLine: number, endLine: number): string {
  return `${path}#${startLine}-${endLine}`;
}

/** Names declared by a line-window chunk: a cheap, grammar-free guess from declaration keywords. */
function guessDefines(text: string): string[] {
  const out = new Set<string>();
  const re = /\b(?:function|class|interface|type|enum|struct|trait|def|func|fn|const|let|var|record|module)\s+\*?\s*([A-Za-z_$][\w$]*)/g;
  for (const m of text.matchAll(re)) out.add(m[1]);
  return [...out];
}

/**
 * Where to split and merge declarations is decided on an estimate (code runs
 * about 3.6 characters per o200k/cl100k token): counting every line exactly
 * would tokenize each file twice. Chunk token counts themselves stay exact.
 */
export function estimateTokens(s: string): number {
  return Math.max(1, Math.round(s.length / 3.6));
}

/** Counts a chunk's text (a TokenCache; in index workers, a recorder that defers counting to the main thread). */
export interface ChunkCounter {
  count(text: string, hash: string): number;
  /** Text between chunks, counted only to learn its pieces (see `seams`). */
  learn?(text: string): void;
}

/**
 * The file text around chunk boundaries: each chunk's last line through the next
 * chunk's first line, and the file's head and tail. A prompt's cursor window
 * crosses these seams ("';\n\n" after an import), and only the chunks' own text
 * is counted otherwise; counting the seams lets a warm start count any window of
 * the file without tiktoken's BPE tables.
 */
function seams(lines: readonly string[], spans: readonly { startLine: number; endLine: number }[]): string[] {
  const out: string[] = [];
  let covered = 0; // lines 1..covered are inside a chunk or a seam
  for (const s of spans) {
    if (s.startLine > covered + 1 || (covered > 0 && s.startLine === covered + 1)) out.push(lines.slice(Math.max(0, covered - 1), s.startLine).join('\n'));
    covered = Math.max(covered, s.endLine);
  }
  out.push(lines.slice(Math.max(0, covered - 1)).join('\n'));
  return out;
}

export function chunkFile(
  path: string,
  text: string,
  language: string,
  tokens: ChunkCounter,
  options: ChunkOptions = DEFAULT_CHUNK_OPTIONS,
  syntax?: SyntaxLike,
): Chunk[] {
  const lines = splitLines(text);
  let spans: ChunkSpanLike[] | undefined;
  if (syntax?.supports(language)) {
    try {
      spans = syntax.spans(text, language, options.maxChunkTokens, estimateTokens);
    } catch {
      spans = undefined; // a grammar failure falls back to line windows for this file
    }
  }
  spans ??= lineWindows(lines, options.windowLines, options.windowStride).map((s) => ({ ...s, kind: 'window' as const, defines: [] }));
  if (tokens.learn) for (const seam of seams(lines, spans)) tokens.learn(seam);
  const chunks: Chunk[] = [];
  for (const span of spans) {
    const body = lines.slice(span.startLine - 1, span.endLine).join('\n');
    const hash = hashText(body);
    chunks.push({
      id: chunkId(path, span.startLine, span.endLine),
      path,
      startLine: span.startLine,
      endLine: span.endLine,
      language,
      kind: span.kind,
      defines: span.kind === 'window' ? guessDefines(body) : span.defines,
      uses: subtokenSet(body),
      hash,
      tokens: tokens.count(body, hash),
    });
  }
  return chunks;
}

