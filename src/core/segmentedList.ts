/** Entries per segment: 16,384 (128 KB of references), a few pages to fault in at a time. */
const SHIFT = 14;
const MASK = (1 << SHIFT) - 1;

/** What readers of a SegmentedList need. */
export interface ReadonlyList<T> {
  readonly length: number;
  /** The entry at `i`, 0 ≤ i < length (undefined past the end, as from an array). */
  at(i: number): T;
  [Symbol.iterator](): Iterator<T>;
}

/**
 * A list that grows by one fixed-size segment at a time. An array of a million
 * entries grows by copying itself into a store half as big again, all in one
 * go; fresh memory is paid for when first touched, and on a VM with costly
 * page faults two such growths in one call held the editor's thread for 85 ms
 * (bench:load, 100,000 files: the BM25 build's chunk and length lists).
 */
export class SegmentedList<T> implements ReadonlyList<T> {
  private readonly segments: T[][] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  at(i: number): T {
    return this.segments[i >>> SHIFT]?.[i & MASK];
  }

  push(value: T): void {
    const s = this.size >>> SHIFT;
    if (s === this.segments.length) this.segments.push([]);
    this.segments[s].push(value);
    this.size++;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const segment of this.segments) yield* segment;
  }
}

/**
 * 32-bit integers in fixed-size typed segments: grows as SegmentedList does, and
 * holds no slots for the garbage collector to visit (a million numbers in an
 * array are a million slots that every full collection walks).
 */
export class SegmentedInt32 implements ReadonlyList<number> {
  private readonly segments: Int32Array[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  /** The entry at `i`, 0 ≤ i < length. */
  at(i: number): number {
    return this.segments[i >>> SHIFT]?.[i & MASK];
  }

  /** Sets entry i, 0 ≤ i < length. */
  set(i: number, value: number): void {
    this.segments[i >>> SHIFT][i & MASK] = value;
  }

  push(value: number): void {
    const s = this.size >>> SHIFT;
    if (s === this.segments.length) this.segments.push(new Int32Array(MASK + 1));
    this.segments[s][this.size & MASK] = value;
    this.size++;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.size; i++) yield this.segments[i >>> SHIFT][i & MASK];
  }
}
