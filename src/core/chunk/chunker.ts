// Turns one file's text into chunks: syntax-aware spans where a grammar is
// loaded, line windows otherwise; then hash, identifiers and exact token counts.
import { createHash } from 'node:crypto';
import type { TokenCache } from '../tokens/tokenCache';
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

export function chunkFile(
  path: string,
  text: string,
  language: string,
  tokens: TokenCache,
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

