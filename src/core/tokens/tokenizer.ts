// Exact token counts with tiktoken (WASM), loaded through `tiktoken/init` so the
// WASM and encoder JSON stay files next to the bundle instead of inlined JS.
import { readFileSync } from 'node:fs';
import { init, Tiktoken } from 'tiktoken/init';
import { assetPath } from '../assets';

export type EncodingName = 'o200k_base' | 'cl100k_base';
export const ENCODINGS: readonly EncodingName[] = ['o200k_base', 'cl100k_base'];

let wasmReady: Promise<void> | undefined;
const encoders = new Map<EncodingName, Tiktoken>();

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
  encode(text: string): Uint32Array;
  decode(tokens: Uint32Array): string;
}

/** Loads (once per process) the encoder for `encoding`. */
export async function loadTokenizer(encoding: EncodingName): Promise<Tokenizer> {
  await loadWasm();
  let enc = encoders.get(encoding);
  if (!enc) {
    const data = JSON.parse(readFileSync(assetPath(`encoders/${encoding}.json`), 'utf8')) as {
      bpe_ranks: string;
      special_tokens: Record<string, number>;
      pat_str: string;
    };
    enc = new Tiktoken(data.bpe_ranks, data.special_tokens, data.pat_str);
    encoders.set(encoding, enc);
  }
  const e = enc;
  const decoder = new TextDecoder();
  return {
    encoding,
    // Special-token text in user code (e.g. "<|endoftext|>") is counted as plain text.
    count: (text) => (text.length === 0 ? 0 : e.encode_ordinary(text).length),
    encode: (text) => e.encode_ordinary(text),
    decode: (tokens) => decoder.decode(e.decode(tokens)),
  };
}

/** Frees encoders no longer needed (tiktoken's WASM memory is not garbage-collected). */
export function freeTokenizer(encoding: EncodingName): void {
  const enc = encoders.get(encoding);
  if (enc) {
    enc.free();
    encoders.delete(encoding);
  }
}
