// tiktoken's byte-pair encoder (WASM), loaded through `tiktoken/init` so the WASM
// and encoder JSON stay files next to the bundle instead of inlined JS. Building
// its tables costs ≈150–300 ms and ≈80 MB, so the extension builds them once, in
// a worker (bpeService.ts); this module is what both sides run.
import { readFileSync } from 'node:fs';
import { init, Tiktoken } from 'tiktoken/init';
import { assetPath } from '../assets';

export type EncodingName = 'o200k_base' | 'cl100k_base';
export const ENCODINGS: readonly EncodingName[] = ['o200k_base', 'cl100k_base'];

/** What the tokenizer asks of tiktoken: counts of pieces it has not seen, and whole encodings. */
export interface Bpe {
  /** Token count of each text (one call for many: from the main thread, each call may cross to a worker). */
  countEach(texts: readonly string[]): number[];
  encode(text: string): Uint32Array;
  decode(tokens: Uint32Array): string;
}

export interface EncoderData {
  bpe_ranks: string;
  special_tokens: Record<string, number>;
  pat_str: string;
}

let wasmReady: Promise<void> | undefined;

export function loadWasm(): Promise<void> {
  wasmReady ??= init((imports) => WebAssembly.instantiate(readFileSync(assetPath('tiktoken_bg.wasm')), imports)).then(() => undefined);
  return wasmReady;
}

export function readEncoderData(encoding: EncodingName): EncoderData {
  return JSON.parse(readFileSync(assetPath(`encoders/${encoding}.json`), 'utf8')) as EncoderData;
}

/**
 * tiktoken on this thread (call after `loadWasm()`). The tables are built on the
 * first call that needs them; `built` tells whether that happened.
 */
export class LocalBpe implements Bpe {
  private enc: Tiktoken | undefined;
  private readonly decoder = new TextDecoder();

  constructor(private readonly data: EncoderData) {}

  get built(): boolean {
    return this.enc !== undefined;
  }

  private encoder(): Tiktoken {
    return (this.enc ??= new Tiktoken(this.data.bpe_ranks, this.data.special_tokens, this.data.pat_str));
  }

  /** Builds the tables now (the worker does this at start, before anyone waits on it). */
  build(): void {
    this.encoder();
  }

  countEach(texts: readonly string[]): number[] {
    return texts.map((t) => this.encode(t).length);
  }

  // Special-token text in user code (e.g. "<|endoftext|>") is encoded as plain text.
  encode(text: string): Uint32Array {
    const parts = splitLongRuns(text);
    if (!parts) return this.encoder().encode_ordinary(text);
    const encoded = parts.map((p) => this.encoder().encode_ordinary(p));
    const out = new Uint32Array(encoded.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of encoded) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  }

  decode(tokens: Uint32Array): string {
    return this.decoder.decode(this.encoder().decode(tokens));
  }
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
