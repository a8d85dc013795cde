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

/** Where a partial addScores stopped: the next byte of the term's list, and the last ordinal read. */
export interface PostingPlace {
  p: number;
  ord: number;
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
   * With `limit`, stops after that many of the term's packed postings and
   * returns where to go on (pass it back as `from`); undefined once all are done.
   */
  addScores(term: string, weight: number, norm: Float32Array, scores: Float32Array, from?: PostingPlace, limit = Infinity): PostingPlace | undefined {
    const s = this.slots.get(term);
    if (s !== undefined) {
      const { bytes } = this;
      const end = this.start[s + 1];
      let ord = from?.ord ?? -1;
      let p = from?.p ?? this.start[s];
      for (let n = 0; p < end; n++) {
        if (n === limit) return { p, ord };
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
    return undefined;
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

/**
 * Builds the lists in two passes over the chunks, in ordinal order: `count`
 * sees every (ordinal, term) once, then `fill` sees the same again. Terms come
 * as numbers (an index's TermTable numbers them already): per posting, a
 * typed-array read instead of a Map lookup by string, which took most of a
 * full build (perf of bench:load).
 */
export class PostingsBuilder {
  /** Per term number: chunks using it. */
  private n = new Int32Array(1024);
  /** Per term number: bytes of its list; during the fill, where its next gap goes. */
  private at = new Int32Array(1024);
  /** Per term number: the last ordinal counted or written (-1: none yet). */
  private last = new Int32Array(1024).fill(-1);
  /** One more than the highest term number seen. */
  private terms = 0;
  private bytes: Uint8Array | undefined;

  /** First pass: chunk `ord` (ascending) uses the terms numbered ids[0..k). */
  count(ord: number, ids: ArrayLike<number>, k = ids.length): void {
    for (let j = 0; j < k; j++) {
      const t = ids[j];
      if (t >= this.terms) this.grow(t);
      this.n[t]++;
      this.at[t] += varintLength(ord - this.last[t]);
      this.last[t] = ord;
    }
  }

  /** Second pass, same order as the first. */
  fill(ord: number, ids: ArrayLike<number>, k = ids.length): void {
    const bytes = (this.bytes ??= this.allocate());
    const { at, last } = this;
    for (let j = 0; j < k; j++) {
      const t = ids[j];
      let gap = ord - last[t];
      last[t] = ord;
      let p = at[t];
      while (gap >= 0x80) {
        bytes[p++] = (gap & 0x7f) | 0x80;
        gap = Math.floor(gap / 0x80);
      }
      bytes[p++] = gap;
      at[t] = p;
    }
  }

  private grow(t: number): void {
    this.terms = t + 1;
    if (t < this.n.length) return;
    let size = this.n.length;
    while (size <= t) size *= 2;
    const widen = (a: Int32Array, fill: number) => {
      const b = new Int32Array(size).fill(fill, a.length);
      b.set(a);
      return b;
    };
    this.n = widen(this.n, 0);
    this.at = widen(this.at, 0);
    this.last = widen(this.last, -1);
  }

  /** After the first pass: each term's run starts where the previous one's ends (in term-number order). */
  private allocate(): Uint8Array {
    let total = 0;
    for (let t = 0; t < this.terms; t++) {
      const size = this.at[t];
      this.at[t] = total;
      this.last[t] = -1;
      total += size;
    }
    return new Uint8Array(total);
  }

  /** The lists; `termOf` names each term number. */
  finish(termOf: (id: number) => string): PostingLists {
    const bytes = (this.bytes ??= this.allocate());
    let used = 0;
    for (let t = 0; t < this.terms; t++) if (this.n[t] > 0) used++;
    const start = new Int32Array(used + 1);
    const live = new Int32Array(used);
    const slots = new Map<string, number>();
    // After the fill, `at` is the end of each term's run; runs are in term-number order, and so are slots.
    let slot = 0;
    for (let t = 0; t < this.terms; t++) {
      if (this.n[t] === 0) continue;
      slots.set(termOf(t), slot);
      start[slot + 1] = this.at[t];
      live[slot] = this.n[t];
      slot++;
    }
    return new PostingLists(slots, bytes, start, live);
  }
}
