// BM25's posting lists: for each term, the ordinals of the chunks that use it.
// A million chunks make ≈40 million postings, so they are stored as the gaps
// between ascending ordinals in variable-length bytes (7 bits per byte; most
// gaps of common terms take one byte), all terms back to back in one buffer:
// ≈1.5 bytes per posting instead of 4, and one allocation instead of one typed
// array per term. Patches never rewrite that buffer: a replaced chunk stays
// listed (its BM25 norm is infinite, so it scores 0) and only leaves the
// document frequency; a new chunk's ordinal is appended to a small side list.

/** Bytes of `gap` as a variable-length number. */
function varintLength(gap: number): number {
  let n = 1;
  while (gap >= 0x80) {
    gap = Math.floor(gap / 0x80);
    n++;
  }
  return n;
}

export class PostingLists {
  /** term → its slot in `start` and `df`. */
  private readonly slots: Map<string, number>;
  /** Ordinal gaps, per slot from start[slot] to start[slot + 1]. */
  private readonly bytes: Uint8Array;
  private readonly start: Int32Array;
  /** Live chunks per slot (what idf counts). */
  private readonly live: Int32Array;
  /** Ordinals appended by patches, per term (all after the term's listed ones; replaced ones stay, scoring 0). */
  private readonly appended = new Map<string, number[]>();
  /** Live chunks of terms that came with patches (no slot). */
  private readonly newTerms = new Map<string, number>();

  /** Made by PostingsBuilder.finish. */
  constructor(slots: Map<string, number>, bytes: Uint8Array, start: Int32Array, live: Int32Array) {
    this.slots = slots;
    this.bytes = bytes;
    this.start = start;
    this.live = live;
  }

  /** Live chunks that use `term`. */
  df(term: string): number {
    const s = this.slots.get(term);
    return s === undefined ? (this.newTerms.get(term) ?? 0) : this.live[s];
  }

  /** Every ordinal listed for `term`, ascending (replaced chunks included: callers tell them by their norm). */
  forEach(term: string, visit: (ord: number) => void): void {
    const s = this.slots.get(term);
    if (s !== undefined) {
      const { bytes } = this;
      const end = this.start[s + 1];
      let ord = -1;
      for (let p = this.start[s]; p < end; ) {
        let b = bytes[p++];
        let gap = b & 0x7f;
        for (let shift = 7; b & 0x80; shift += 7) {
          b = bytes[p++];
          gap += (b & 0x7f) * 2 ** shift;
        }
        ord += gap;
        visit(ord);
      }
    }
    const more = this.appended.get(term);
    if (more) for (const ord of more) visit(ord);
  }

  /**
   * Adds `weight / (1 + norm[ord])` to `scores[ord]` for every listed ordinal
   * (forEach's loop, inlined: this runs over millions of postings per query).
   */
  addScores(term: string, weight: number, norm: Float32Array, scores: Float32Array): void {
    const s = this.slots.get(term);
    if (s !== undefined) {
      const { bytes } = this;
      const end = this.start[s + 1];
      let ord = -1;
      for (let p = this.start[s]; p < end; ) {
        let b = bytes[p++];
        let gap = b & 0x7f;
        for (let shift = 7; b & 0x80; shift += 7) {
          b = bytes[p++];
          gap += (b & 0x7f) * 2 ** shift;
        }
        ord += gap;
        scores[ord] += weight / (1 + norm[ord]);
      }
    }
    const more = this.appended.get(term);
    if (more) for (const ord of more) scores[ord] += weight / (1 + norm[ord]);
  }

  /** A chunk that used these terms was replaced: it no longer counts for them (its ordinal stays listed). */
  remove(terms: readonly string[]): void {
    for (const t of terms) {
      const s = this.slots.get(t);
      if (s !== undefined) this.live[s]--;
      else {
        const n = (this.newTerms.get(t) ?? 0) - 1;
        if (n > 0) this.newTerms.set(t, n);
        else this.newTerms.delete(t);
      }
    }
  }

  /** A new chunk (its ordinal above every listed one) uses these terms. */
  append(ord: number, terms: readonly string[]): void {
    for (const t of terms) {
      const s = this.slots.get(t);
      if (s !== undefined) this.live[s]++;
      else this.newTerms.set(t, (this.newTerms.get(t) ?? 0) + 1);
      const more = this.appended.get(t);
      if (more) more.push(ord);
      else this.appended.set(t, [ord]);
    }
  }

  /** Terms with at least one live chunk. */
  *terms(): Iterable<string> {
    for (const [t, s] of this.slots) if (this.live[s] > 0) yield t;
    yield* this.newTerms.keys();
  }
}

interface TermEntry {
  slot: number;
  /** Chunks using the term. */
  n: number;
  /** Bytes of its list; during the fill, where the next gap goes. */
  at: number;
  /** The last ordinal counted or written. */
  last: number;
}

/**
 * Builds the lists in two passes over the chunks, in ordinal order: `count`
 * sees every (ordinal, term) once, then `fill` sees the same again.
 */
export class PostingsBuilder {
  private readonly entries = new Map<string, TermEntry>();
  private bytes: Uint8Array | undefined;

  /** First pass: chunk `ord` (ascending) uses terms[0..n). */
  count(ord: number, terms: readonly string[], n = terms.length): void {
    for (let k = 0; k < n; k++) {
      const t = terms[k];
      const e = this.entries.get(t);
      if (e) {
        e.n++;
        e.at += varintLength(ord - e.last);
        e.last = ord;
      } else this.entries.set(t, { slot: this.entries.size, n: 1, at: varintLength(ord + 1), last: ord });
    }
  }

  /** Second pass, same order as the first. */
  fill(ord: number, terms: readonly string[], n = terms.length): void {
    const bytes = (this.bytes ??= this.allocate());
    for (let k = 0; k < n; k++) {
      const e = this.entries.get(terms[k])!;
      let gap = ord - e.last;
      e.last = ord;
      while (gap >= 0x80) {
        bytes[e.at++] = (gap & 0x7f) | 0x80;
        gap = Math.floor(gap / 0x80);
      }
      bytes[e.at++] = gap;
    }
  }

  /** After the first pass: each term's run starts where the previous one ends. */
  private allocate(): Uint8Array {
    let total = 0;
    for (const e of this.entries.values()) {
      const size = e.at;
      e.at = total;
      e.last = -1;
      total += size;
    }
    return new Uint8Array(total);
  }

  finish(): PostingLists {
    const bytes = (this.bytes ??= this.allocate());
    const n = this.entries.size;
    const start = new Int32Array(n + 1);
    const live = new Int32Array(n);
    const slots = new Map<string, number>();
    // After the fill, `at` is the end of each term's run; runs are in slot order.
    for (const [t, e] of this.entries) {
      slots.set(t, e.slot);
      start[e.slot + 1] = e.at;
      live[e.slot] = e.n;
    }
    return new PostingLists(slots, bytes, start, live);
  }
}
