import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SegmentedList } from '../../src/core/segmentedList';

describe('SegmentedList', () => {
  it('keeps what an array keeps across segment boundaries: push, at, length, iteration', () => {
    const list = new SegmentedList<number>();
    const ref: number[] = [];
    assert.equal(list.length, 0);
    assert.deepEqual([...list], []);
    for (let i = 0; i < 50_000; i++) {
      list.push(i * 3);
      ref.push(i * 3);
    }
    assert.equal(list.length, ref.length);
    for (let i = 0; i < ref.length; i += 997) assert.equal(list.at(i), ref[i]);
    for (const i of [0, 16_383, 16_384, 32_767, 32_768, 49_999]) assert.equal(list.at(i), i * 3);
    assert.deepEqual([...list], ref);
    assert.equal(list.at(ref.length), undefined);
    assert.equal(list.at(1 << 20), undefined);
  });
});
