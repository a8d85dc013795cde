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
    const cached = this.counts.get(hash);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const n = this.tokenizer.count(text);
    if (this.counts.size >= MAX_REMEMBERED) this.counts.clear();
    this.counts.set(hash, n);
    // In a prompt a chunk is followed by a line break, which tiktoken joins to
    // trailing punctuation ("];" + "\n" → "];\n"). Learning that piece now keeps
    // a warm start from building the BPE tables for it.
    this.tokenizer.count(text.slice(text.lastIndexOf('\n') + 1) + '\n');
    return n;
  }

  /**
   * `count` for many chunks at once (a file from an index worker), with `alsoLearn`
   * texts whose pieces are remembered too: pieces not seen before go to the BPE
   * worker in one message, without blocking this thread.
   */
  async countMany(texts: readonly string[], hashes: readonly string[], alsoLearn: readonly string[] = []): Promise<number[]> {
    const out = new Array<number>(texts.length);
    const todo: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      const cached = this.counts.get(hashes[i]);
      if (cached === undefined) todo.push(i);
      else {
        this.hits++;
        out[i] = cached;
      }
    }
    const batch = todo.map((i) => texts[i]);
    for (const i of todo) batch.push(texts[i].slice(texts[i].lastIndexOf('\n') + 1) + '\n'); // see count()
    batch.push(...alsoLearn);
    const counted = batch.length ? await this.tokenizer.countMany(batch) : [];
    todo.forEach((i, k) => {
      this.misses++;
      out[i] = counted[k];
      if (this.counts.size >= MAX_REMEMBERED) this.counts.clear();
      this.counts.set(hashes[i], counted[k]);
    });
    return out;
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
