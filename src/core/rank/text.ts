// Identifier and subtoken handling shared by the ranker's stages, the model
// builder, the trainer and the eval. Subtokens follow the index's convention:
// identifiers split at camelCase / snake_case / digit boundaries, lower-cased.

import { subtokens } from '../chunk/identifiers';

const IDENT = /[A-Za-z_$][A-Za-z0-9_$]*/g;

/** Very common words of many languages that carry no retrieval signal. */
export const STOP_SUBTOKENS: ReadonlySet<string> = new Set([
  'the', 'a', 'an', 'of', 'to', 'in', 'is', 'it', 'if', 'else', 'for', 'while', 'do', 'return', 'var', 'let', 'const',
  'function', 'new', 'this', 'self', 'true', 'false', 'null', 'undefined', 'none', 'nil', 'and', 'or', 'not', 'def',
  'class', 'import', 'from', 'export', 'default', 'public', 'private', 'protected', 'static', 'final', 'void', 'func',
  'fn', 'pub', 'use', 'mut', 'impl', 'struct', 'type', 'package', 'go', 'err', 'as', 'with', 'try', 'catch', 'throw',
  'throws', 'async', 'await', 'yield', 'break', 'continue', 'case', 'switch', 'in', 'instanceof', 'typeof', 'string',
  'number', 'boolean', 'int', 'bool', 'str', 'any', 'object', 'i', 'j', 'k', 'x', 'e', 'n', 's', 'v', 'lambda', 'pass',
  'elif', 'except', 'raise', 'ok', 'range', 'len', 'make', 'interface', 'extends', 'implements', 'super', 'require',
  'module', 'exports', 'get', 'set', 'is', 'be', 'by', 'on', 'at', 'we', 'you', 'that', 'with', 'can', 'has', 'will',
]);

/**
 * Splits one identifier into lower-cased subtokens — the index's own splitter
 * (`Chunk.uses`), so query and chunk terms always agree: `parseHTTPRequest_v2` → parse, http, request, v2.
 */
export const splitIdentifier = subtokens;

/** Identifiers of a text, in order (with repeats). */
export function identifiers(text: string): string[] {
  return text.match(IDENT) ?? [];
}

/** Subtokens of a text in order (with repeats), stop words and 1-char tokens dropped. */
export function subtokensOf(text: string): string[] {
  const out: string[] = [];
  for (const id of identifiers(text)) {
    for (const s of splitIdentifier(id)) if (s.length > 1 && !STOP_SUBTOKENS.has(s)) out.push(s);
  }
  return out;
}

/** True when a subtoken is worth using as a retrieval term. */
export function isTerm(s: string): boolean {
  return s.length > 1 && !STOP_SUBTOKENS.has(s) && !/^[0-9]+$/.test(s);
}

/** FNV-1a 32-bit hash of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Bucket of a subtoken in a hashed vocabulary of `vocab` rows. Row 0 is reserved for padding. */
export function hashBucket(term: string, vocab: number): number {
  return 1 + (fnv1a(term) % (vocab - 1));
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Query terms from a cursor text when the caller has none: subtokens weighted by closeness to `cursorLine` (0-based line in text). */
export function queryTermsFromText(text: string, cursorLine: number): Array<{ term: string; weight: number }> {
  const lines = text.split('\n');
  const best = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const dist = Math.abs(i - cursorLine);
    const w = 1 / (1 + dist / 4);
    for (const s of subtokensOf(lines[i])) {
      if (!isTerm(s)) continue;
      best.set(s, Math.max(best.get(s) ?? 0, w));
    }
  }
  return [...best.entries()].map(([term, weight]) => ({ term, weight })).sort((a, b) => b.weight - a.weight || (a.term < b.term ? -1 : 1));
}
