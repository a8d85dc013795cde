import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChainedMap } from '../../src/core/chainedMap';
import { rng } from '../helpers/fakeIndex';

describe('chained map', () => {
  it('behaves as a Map, insertion order included, across many links', () => {
    const r = rng(11);
    const want = new Map<string, number>();
    const got = new ChainedMap<string, number>();
    const same = (when: string) => {
      assert.equal(got.size, want.size, when);
      assert.deepEqual([...got.keys()], [...want.keys()], when);
      assert.deepEqual([...got.values()], [...want.values()], when);
      assert.deepEqual([...got], [...want], when);
    };
    // Past six links (16,384 keys each), then churn: deletes, updates in place, deleted keys coming back (at the end).
    for (let i = 0; i < 100_000; i++) {
      want.set(`k${i}`, i);
      got.set(`k${i}`, i);
    }
    same('after filling');
    for (let step = 0; step < 60_000; step++) {
      const key = `k${Math.floor(r() * 120_000)}`;
      const op = r();
      if (op < 0.4) assert.equal(got.delete(key), want.delete(key), key);
      else if (op < 0.8) {
        want.set(key, step);
        got.set(key, step);
      } else {
        assert.equal(got.get(key), want.get(key), key);
        assert.equal(got.has(key), want.has(key), key);
      }
    }
    same('after churn');
    got.clear();
    assert.equal(got.size, 0);
    assert.equal(got.get('k1'), undefined);
    assert.deepEqual([...got.keys()], []);
  });
});
