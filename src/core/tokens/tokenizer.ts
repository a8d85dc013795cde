// Exact token counts with tiktoken (WASM), loaded through `tiktoken/init` so the
// WASM and encoder JSON stay files next to the bundle instead of inlined JS.
import { readFileSync } from 'node:fs';
import { init, Tiktoken } from 'tiktoken/init';
import { assetPath } from '../assets';
import { PieceCounter, type PieceTable } from './pieces';

export type EncodingName = 'o200k_base' | 'cl100k_base';
export const ENCODINGS: readonly EncodingName[] = ['o200k_base', 'cl100k_base'];

let wasmReady: Promise<void> | undefined;
const tokenizers = new Map<EncodingName, Tokenizer>();

function loadWasm(): Promise<void> {
  wasmReady ??= init((imports) => WebAssembly.instantiate(readFileSync(assetPath('tiktoken_bg.wasm')), imports)).then(() => undefined);
  return wasmReady;
}

export function isEncodingName(name: string): name is EncodingName {
  return (ENCODINGS as readonly string[]).includes(name);
}

/** A loaded encoder. Counting is synchronous once loaded. */
export interface Tokenizer {
  readonly encoding: EncodingName;
  count(text: string): number;
  /** `count` when every pre-tokenizer piece is already known; a close estimate otherwise, without building the BPE tables. */
  estimate(text: string): number;
  encode(text: string): Uint32Array;
  decode(tokens: Uint32Array): string;
  /** Pre-tokenizer pieces counted so far, and their counts (persisted with the index). */
  knownPieces(): PieceTable;
  learnPieces(table: PieceTable): void;
  /** How counting went: pieces remembered and encoded, texts off the fast path, whether the BPE tables were built. */
  stats(): { pieces: number; pieceMisses: number; slowTexts: number; bpeBuilt: boolean };
}

/** Loads (once per process) the tokenizer for `encoding`. */
export async function loadTokenizer(encoding: EncodingName): Promise<Tokenizer> {
  await loadWasm();
  let tokenizer = tokenizers.get(encoding);
  if (!tokenizer) {
    tokenizer = makeTokenizer(encoding);
    tokenizers.set(encoding, tokenizer);
  }
  return tokenizer;
}

function makeTokenizer(encoding: EncodingName): Tokenizer {
  const data = JSON.parse(readFileSync(assetPath(`encoders/${encoding}.json`), 'utf8')) as {
    bpe_ranks: string;
    special_tokens: Record<string, number>;
    pat_str: string;
  };
  // Building the BPE tables costs ≈150 ms and ≈80 MB, so it waits for the first
  // piece that is not already known.
  let enc: Tiktoken | undefined;
  const encoder = (): Tiktoken => (enc ??= new Tiktoken(data.bpe_ranks, data.special_tokens, data.pat_str));
  const encode = (text: string): Uint32Array => {
    const parts = splitLongRuns(text);
    if (!parts) return encoder().encode_ordinary(text);
    const encoded = parts.map((p) => encoder().encode_ordinary(p));
    const out = new Uint32Array(encoded.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of encoded) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  const pieces = new PieceCounter(data.pat_str, (text) => encoder().encode_ordinary(text).length);
  const count = (text: string): number => {
    if (text.length === 0) return 0;
    const parts = splitLongRuns(text);
    if (!parts) return pieces.count(text);
    let n = 0;
    for (const p of parts) n += pieces.count(p);
    return n;
  };
  const decoder = new TextDecoder();
  return {
    encoding,
    // Special-token text in user code (e.g. "<|endoftext|>") is counted as plain text.
    count,
    estimate: (text) => pieces.estimate(text),
    encode,
    decode: (tokens) => decoder.decode(encoder().decode(tokens)),
    knownPieces: () => pieces.table(),
    stats: () => ({ pieces: pieces.remembered, pieceMisses: pieces.misses, slowTexts: pieces.slowTexts, bpeBuilt: enc !== undefined }),
    learnPieces: (table) => pieces.learn(table),
  };
}

/**
 * BPE merging in tiktoken is quadratic in the length of one pre-tokenizer piece:
 * 100,000 letters without a break take 14 s, a 1 MB run minutes. Real code has no
 * piece anywhere near this long, so text is cut inside runs of one character class
 * (letters and other non-ASCII, ASCII punctuation, whitespace) longer than this and
 * the parts are encoded apart. Counts stay exact for real code; a pathological run
 * may count a token more per cut.
 */
export const MAX_RUN = 256;

function runClass(c: number): number {
  if (c >= 48 && c <= 57) return 0; // digits: pieces of at most 3
  if (c === 32 || (c >= 9 && c <= 13)) return 1;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 128) return 2;
  return 3;
}

/** The text cut inside over-long runs, or undefined when it has none (the common case). */
export function splitLongRuns(text: string): string[] | undefined {
  if (text.length <= MAX_RUN) return undefined;
  let cuts: number[] | undefined;
  let cls = -1;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const k = runClass(c);
    if (k !== cls || k === 0) {
      cls = k;
      run = 1;
    } else if (++run > MAX_RUN && !(c >= 0xdc00 && c <= 0xdfff)) {
      // Never between the halves of a surrogate pair.
      (cuts ??= []).push(i);
      run = 1;
    }
  }
  if (!cuts) return undefined;
  const parts: string[] = [];
  let from = 0;
  for (const at of cuts) {
    parts.push(text.slice(from, at));
    from = at;
  }
  parts.push(text.slice(from));
  return parts;
}
