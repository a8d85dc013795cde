// tiktoken's byte-pair encoder (WASM), loaded through `tiktoken/init` so the WASM
// and encoder JSON stay files next to the bundle instead of inlined JS. Building
// its tables costs ≈150–300 ms and ≈80 MB, so the extension builds them once, in
// a worker (bpeService.ts); this module is what both sides run.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { init, Tiktoken } from 'tiktoken/init';
import { assetPath } from '../assets';
import { nextTurn } from '../slices';
import { splitLongRuns } from './pieces';

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
  // Read off the thread: at the extension's start, a synchronous read joined the stall of everything else starting.
  wasmReady ??= readFile(assetPath('tiktoken_bg.wasm'))
    .then((bytes) => init((imports) => WebAssembly.instantiate(bytes, imports)))
    .then(() => undefined);
  return wasmReady;
}

/**
 * readEncoderData for a thread that must stay responsive: the read off the
 * thread, the parse (tens of milliseconds for o200k on a slow machine) in a
 * turn of its own instead of on top of start-up's other work.
 */
export async function loadEncoderData(encoding: EncodingName): Promise<EncoderData> {
  const text = await readFile(encoderPath(encoding), 'utf8');
  await nextTurn();
  return JSON.parse(text) as EncoderData;
}

export function readEncoderData(encoding: EncodingName): EncoderData {
  return JSON.parse(readFileSync(encoderPath(encoding), 'utf8')) as EncoderData;
}

const encoderPath = (encoding: EncodingName) => assetPath(`encoders/${encoding}.json`);

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

