// A Map that never rehashes more than LINK entries at once. A JS Map grows by
// rehashing every entry in one go: at 65,536 entries a Map and a Set took
// 23–47 ms together on the development VM, and the index's per-file maps (its
// records, the path lookup, BM25's ordinals) all cross that size at the same
// file, in one turn of the editor's thread (a 40 ms putRecord in a warm start
// of 100,000 files, bench:load --cpu-prof). New keys go to the last of a chain
// of maps of at most LINK entries each, so a growth rehashes one link; lookups
// probe each link (seven at 100,000 keys). Same behaviour as a Map, insertion
// order included.

/** Entries per link: a growth rehashes at most this many (a few milliseconds). */
const LINK = 1 << 14;

export class ChainedMap<K, V> implements Iterable<[K, V]> {
  /** Links in insertion order; only the last one takes new keys. Emptied links stay (cheap to probe), so iteration never skips one. */
  private links: Array<Map<K, V>> = [new Map()];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    for (const m of this.links) {
      if (m.size === 0) continue;
      const v = m.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  has(key: K): boolean {
    for (const m of this.links) if (m.size > 0 && m.has(key)) return true;
    return false;
  }

  set(key: K, value: V): this {
    for (const m of this.links) {
      if (m.size > 0 && m.has(key)) {
        m.set(key, value);
        return this;
      }
    }
    let last = this.links[this.links.length - 1];
    if (last.size >= LINK) this.links.push((last = new Map()));
    last.set(key, value);
    this.count++;
    return this;
  }

  delete(key: K): boolean {
    for (const m of this.links) {
      if (m.size > 0 && m.delete(key)) {
        this.count--;
        return true;
      }
    }
    return false;
  }

  clear(): void {
    this.links = [new Map()];
    this.count = 0;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const m of this.links) yield* m.entries();
  }

  *keys(): IterableIterator<K> {
    for (const m of this.links) yield* m.keys();
  }

  *values(): IterableIterator<V> {
    for (const m of this.links) yield* m.values();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}
