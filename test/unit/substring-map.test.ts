// SubstringMap (src/core/substringMap.ts): lookups of a part of a longer string
// agree with lookups of that part cut out, across growth, collisions and clears.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SubstringMap } from '../../src/core/substringMap';
import { TermTable } from '../../src/core/index/chunkStore';

/** A small deterministic generator (fixed seed: the same keys every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('SubstringMap', () => {
  it('answers for a range of a text exactly as a Map does for the range cut out', () => {
    const rand = rng(7);
    const alphabet = 'ab c\n\tÿ€😀';
    const map = new SubstringMap();
    const ref = new Map<string, number>();
    const text = Array.from({ length: 20_000 }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let k = 0; k < 5000; k++) {
      const from = Math.floor(rand() * text.length);
      const to = Math.min(text.length, from + Math.floor(rand() * 16));
      const key = text.slice(from, to);
      if (rand() < 0.5) {
        map.set(key, k);
        ref.set(key, k);
      }
      assert.equal(map.get(text, from, to), ref.get(key), `range ${from}..${to} (${JSON.stringify(key)})`);
      assert.equal(map.get(key), ref.get(key));
      assert.equal(map.has(key), ref.has(key));
    }
    assert.equal(map.size, ref.size);
    assert.deepEqual([...map.keys()], [...ref.keys()], 'keys in first-set order');
    assert.deepEqual([...map.values()], [...ref.values()]);
  });

  it('tells apart keys that share a prefix, the empty key, and keys that are parts of one another', () => {
    const map = new SubstringMap();
    map.set('', 1);
    map.set('const', 2);
    map.set('cons', 3);
    map.set('constant', 4);
    const text = 'constant';
    assert.equal(map.get(text, 0, 0), 1);
    assert.equal(map.get(text, 0, 4), 3);
    assert.equal(map.get(text, 0, 5), 2);
    assert.equal(map.get(text, 0, 8), 4);
    assert.equal(map.get(text, 1, 5), undefined);
    assert.equal(map.get('xconstx', 1, 6), 2);
  });

  it('grows past many keys and starts empty after clear', () => {
    const map = new SubstringMap();
    for (let i = 0; i < 100_000; i++) map.set(`k${i}`, i);
    assert.equal(map.size, 100_000);
    for (let i = 0; i < 100_000; i += 997) assert.equal(map.get(`xk${i}y`, 1, `k${i}`.length + 1), i);
    map.set('k5', -1);
    assert.equal(map.get('k5'), -1, 'set on a known key replaces its value');
    assert.equal(map.size, 100_000);
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(map.get('k5'), undefined);
    map.set('again', 1);
    assert.equal(map.get('again'), 1);
  });
});

describe('TermTable.encodeJoined', () => {
  it('numbers space-joined terms as encode numbers the split ones', () => {
    const joinedTable = new TermTable();
    const splitTable = new TermTable();
    for (const joined of ['parse http request', 'http', 'request parse v2', 'averyveryverylongsubtoken parse', '']) {
      const split = joined ? joined.split(' ') : [];
      assert.equal(joinedTable.encodeJoined(joined), splitTable.encode(split), joined);
      assert.deepEqual(joinedTable.decode(joinedTable.encodeJoined(joined)), split);
    }
    assert.equal(joinedTable.size, splitTable.size);
  });
});
