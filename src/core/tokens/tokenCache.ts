// Token counts cached by content hash: an edit re-counts only chunks whose text
// changed. Bounded: counting is cheap since the piece counter (a 5 KB file's
// chunks in well under a millisecond), so the cache need not hold every chunk of
// a 100,000-file workspace (a million entries, ≈100 MB).
import type { Tokenizer } from './tokenizer';

const MAX_REMEMBERED = 100_000;

export class TokenCache {
  private readonly counts = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(readonly tokenizer: Tokenizer) {}

  get encoding() {
    return this.tokenizer.encoding;
  }

  count(text: string, hash: string): number {
    return this.countWith(hash, () => {
      // In a prompt a chunk is followed by a line break, which tiktoken joins to
      // trailing punctuation ("];" + "\n" → "];\n"). Learning that piece now keeps
      // a warm start from building the BPE tables for it (index workers learn it likewise).
      this.tokenizer.count(text.slice(text.lastIndexOf('\n') + 1) + '\n');
      return this.tokenizer.count(text);
    });
  }

  /** The count remembered for `hash`, or `compute()`'s, then remembered (chunks an index worker counted). */
  countWith(hash: string, compute: () => number): number {
    const cached = this.counts.get(hash);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const n = compute();
    if (this.counts.size >= MAX_REMEMBERED) this.counts.clear();
    this.counts.set(hash, n);
    return n;
  }

  learn(text: string): void {
    this.tokenizer.count(text);
  }

  get size(): number {
    return this.counts.size;
  }
}
