// A map from strings to numbers that can be asked about a part of a longer
// string without cutting it out. Counting tokens and numbering subtokens look
// up every piece of every file on the extension host's thread; with a Map, each
// lookup first made a new string (text.slice), and at 30,000 files those were
// 1.7 GB of the 7 GB that thread allocated (sampled allocation profile of
// bench:load): garbage that wakes the young-generation collector every few
// tens of milliseconds. Here a lookup hashes the characters where they are,
// and a key is stored as a copy of its own.

const EMPTY = 0;
const MIN_CAPACITY = 64;

/**
 * A copy of `s` that holds no larger string. V8 makes a string cut from another
 * (slice, split) of 13 or more characters a view that keeps the whole original
 * alive: a remembered piece or term cut from a file's text would keep that text
 * for as long as the table lives.
 */
function ownCopy(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/** FNV-1a over UTF-16 code units of text[from, to). */
function hashRange(text: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class SubstringMap {
  private keyList: string[] = [];
  private valueList: number[] = [];
  /** Per key, its hash (kept for growing and to skip most unequal keys without comparing text); room for slots.length / 2. */
  private hashList: Int32Array;
  /** Open addressing, linear probing: key index + 1, or EMPTY. At most half full. */
  private slots: Int32Array;
  private mask: number;

  constructor(capacity = MIN_CAPACITY) {
    let size = MIN_CAPACITY;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.hashList = new Int32Array(size / 2);
    this.mask = size - 1;
  }

  get size(): number {
    return this.keyList.length;
  }

  /** The value of text[from, to), or undefined. */
  get(text: string, from = 0, to = text.length): number | undefined {
    const i = this.find(text, from, to, hashRange(text, from, to));
    return i < 0 ? undefined : this.valueList[i];
  }

  has(key: string): boolean {
    return this.find(key, 0, key.length, hashRange(key, 0, key.length)) >= 0;
  }

  set(key: string, value: number): void {
    const h = hashRange(key, 0, key.length);
    const i = this.find(key, 0, key.length, h);
    if (i >= 0) {
      this.valueList[i] = value;
      return;
    }
    if ((this.keyList.length + 1) * 2 > this.slots.length) this.grow();
    this.hashList[this.keyList.length] = h;
    this.keyList.push(ownCopy(key));
    this.valueList.push(value);
    this.place(h, this.keyList.length);
  }

  clear(): void {
    this.keyList = [];
    this.valueList = [];
    this.hashList = new Int32Array(MIN_CAPACITY / 2);
    this.slots = new Int32Array(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
  }

  /** Keys in the order they were first set. */
  keys(): readonly string[] {
    return this.keyList;
  }

  /** Values, parallel to keys(). */
  values(): readonly number[] {
    return this.valueList;
  }

  private find(text: string, from: number, to: number, h: number): number {
    const { slots, mask, keyList, hashList } = this;
    const length = to - from;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const entry = slots[s];
      if (entry === EMPTY) return -1;
      const i = entry - 1;
      if (hashList[i] === h) {
        const key = keyList[i];
        if (key.length === length && text.startsWith(key, from)) return i;
      }
    }
  }

  private place(h: number, entry: number): void {
    const { slots, mask } = this;
    let s = h & mask;
    while (slots[s] !== EMPTY) s = (s + 1) & mask;
    slots[s] = entry;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    const hashes = new Int32Array(this.slots.length / 2);
    hashes.set(this.hashList);
    this.hashList = hashes;
    for (let i = 0; i < this.keyList.length; i++) this.place(hashes[i], i + 1);
  }
}
