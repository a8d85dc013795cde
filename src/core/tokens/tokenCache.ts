// Token counts cached by content hash: an edit re-counts only chunks whose text changed.
import type { Tokenizer } from './tokenizer';

export class TokenCache {
  private readonly counts = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(readonly tokenizer: Tokenizer) {}

  get encoding() {
    return this.tokenizer.encoding;
  }

  count(text: string, hash: string): number {
    const cached = this.counts.get(hash);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const n = this.tokenizer.count(text);
    this.counts.set(hash, n);
    // In a prompt a chunk is followed by a line break, which tiktoken joins to
    // trailing punctuation ("];" + "\n" → "];\n"). Learning that piece now keeps
    // a warm start from building the BPE tables for it.
    this.tokenizer.count(text.slice(text.lastIndexOf('\n') + 1) + '\n');
    return n;
  }

  learn(text: string): void {
    this.tokenizer.count(text);
  }

  /** Seeds the cache from persisted chunks so a warm start counts nothing. */
  remember(hash: string, tokens: number): void {
    this.counts.set(hash, tokens);
  }

  get size(): number {
    return this.counts.size;
  }
}
