// How much of a packed prompt a provider's prompt cache can reuse from the
// previous pack: providers cache by token prefix, so what counts is the run of
// leading tokens both prompts share. We cut that run back to a line boundary
// (a cache hit ending mid-line is luck, not something the packer can keep
// stable) and count it exactly, then price the request with and without the hit.
import { estimateCost } from '../cost/costModel';
import type { HardwareProfile, ModelProfile } from '../cost/types';
import type { Tokenizer } from '../tokens/tokenizer';

export interface PrefixReuse {
  /** Characters of the common prefix, cut back to just after a newline (0 when none). */
  reusedChars: number;
  /** Leading tokens of the current prompt identical to the previous prompt's and inside `reusedChars`. */
  reusedTokens: number;
  /** Tokens of the current prompt. */
  totalTokens: number;
}

/** Length of the longest common prefix of `a` and `b`, cut back to just after its last '\n'. */
export function commonLinePrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === a.length && i === b.length) return i; // identical: all of it
  if (i === 0) return 0;
  const nl = a.lastIndexOf('\n', i - 1);
  return nl < 0 ? 0 : nl + 1;
}

function commonTokens(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Exact reuse between the previous and the current prompt text. Pass the
 * encodings when they are at hand (`PrefixTracker` keeps the previous one);
 * otherwise both texts are encoded.
 */
export function prefixReuse(
  prev: string | undefined,
  cur: string,
  tokenizer: Pick<Tokenizer, 'encode' | 'decode'>,
  encoded: { prev?: Uint32Array; cur?: Uint32Array } = {},
): PrefixReuse {
  const curTokens = encoded.cur ?? tokenizer.encode(cur);
  if (prev === undefined || prev.length === 0 || cur.length === 0) return { reusedChars: 0, reusedTokens: 0, totalTokens: curTokens.length };
  const chars = commonLinePrefix(prev, cur);
  if (chars === 0) return { reusedChars: 0, reusedTokens: 0, totalTokens: curTokens.length };
  const prevTokens = encoded.prev ?? tokenizer.encode(prev);
  let k = commonTokens(prevTokens, curTokens);
  // Shared tokens may run past the line boundary (or a token may straddle it): keep
  // only tokens whose text lies inside the line-cut prefix. A few steps at most.
  while (k > 0) {
    const text = tokenizer.decode(curTokens.subarray(0, k));
    if (text.length <= chars && cur.startsWith(text)) break;
    k--;
  }
  return { reusedChars: chars, reusedTokens: k, totalTokens: curTokens.length };
}

export interface CachePricing {
  reusedTokens: number;
  /** Price of the request with no cache hit (null: no list price for the model). */
  priceUsd: number | null;
  /** Price when the reused prefix is a cache hit (cached-input rate). */
  priceWithCacheUsd: number | null;
}

/** Prices one request with and without the reused prefix billed as cached input. */
export function cachePricing(model: ModelProfile, hw: HardwareProfile, req: { inputTokens: number; outputTokens: number; reusedTokens: number }): CachePricing {
  const reused = Math.max(0, Math.min(req.reusedTokens, req.inputTokens));
  const plain = estimateCost(model, hw, { inputTokens: req.inputTokens, outputTokens: req.outputTokens });
  const cached = estimateCost(model, hw, { inputTokens: req.inputTokens, outputTokens: req.outputTokens, cachedInputTokens: reused });
  return { reusedTokens: reused, priceUsd: plain.priceUsd, priceWithCacheUsd: cached.priceUsd };
}

/**
 * Remembers the last prompt per key (the target file) and answers, for a new
 * prompt, how much of it the previous one shares. Asking again with the same
 * text returns the same answer (the panel repaints without a new pack). Prompts
 * are encoded with `encodeAsync` (off the editor's thread where the tokenizer
 * has its worker: a large prompt takes tiktoken tens of milliseconds); updates
 * run one after another, so answers follow the order they were asked in.
 */
export class PrefixTracker {
  private readonly entries = new Map<string, { prev?: { text: string; tokens: Uint32Array }; cur: { text: string; tokens: Uint32Array }; result: PrefixReuse }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly maxKeys = 32) {}

  update(key: string, text: string, tokenizer: Pick<Tokenizer, 'encodeAsync' | 'decode'>): Promise<PrefixReuse> {
    const next = this.queue.then(() => this.updateNow(key, text, tokenizer));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async updateNow(key: string, text: string, tokenizer: Pick<Tokenizer, 'encodeAsync' | 'decode'>): Promise<PrefixReuse> {
    const e = this.entries.get(key);
    if (e && e.cur.text === text) return e.result;
    const tokens = await tokenizer.encodeAsync(text);
    const prev = e?.cur;
    const result = prefixReuse(prev?.text, text, { encode: () => tokens, decode: (t) => tokenizer.decode(t) }, { prev: prev?.tokens, cur: tokens });
    this.entries.delete(key);
    this.entries.set(key, { prev, cur: { text, tokens }, result });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    return result;
  }

  /** `update`, priced: the panel's cache card (reuse of the previous pack for this key, price with and without the hit). */
  async priced(
    key: string,
    text: string,
    tokenizer: Pick<Tokenizer, 'encodeAsync' | 'decode'>,
    model: ModelProfile,
    hw: HardwareProfile,
    req: { inputTokens: number; outputTokens: number },
  ): Promise<CachePricing & { totalTokens: number }> {
    const reuse = await this.update(key, text, tokenizer);
    return { ...cachePricing(model, hw, { ...req, reusedTokens: reuse.reusedTokens }), totalTokens: reuse.totalTokens };
  }

  clear(): void {
    this.entries.clear();
  }
}
