import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexedChunk, TermTable } from '../../src/core/index/chunkStore';
import { makeChunk } from '../helpers/fakeIndex';

describe('chunk store', () => {
  it('gives back every term list as it was, past the one-unit numbers too', () => {
    const table = new TermTable();
    // Push the numbering past 0x8000 and 0x10000 so two-unit codes and their high bits are exercised.
    const filler = Array.from({ length: 70_000 }, (_, i) => `filler${i}`);
    for (let i = 0; i < filler.length; i += 5000) table.encode(filler.slice(i, i + 5000));
    const lists = [[], ['a'], ['filler0', 'filler32767', 'filler32768', 'filler65535', 'filler65536', 'filler69999'], ['late', 'filler1', 'later']];
    for (const uses of lists) {
      const code = table.encode(uses);
      assert.deepEqual(table.decode(code), uses);
      assert.ok(code.length <= 2 * uses.length);
    }
    assert.equal(table.encode(['filler5']).length, 1, 'early terms take one unit');
    assert.equal(table.encode(['later']).length, 2, 'terms numbered past 0x8000 take two');
  });

  it('holds a chunk\'s fields, shares repeated strings and reads back as plain data', () => {
    const table = new TermTable();
    const intern = new Map<string, string>();
    const one = (s: string) => intern.get(s) ?? (intern.set(s, s), s);
    const plain = makeChunk('src/a.ts', 3, 9, 42, { defines: ['parseHeader'], uses: ['parse', 'header', 'buf'], kind: 'function' });
    const c = new IndexedChunk(plain, 'src/a.ts', table, one);
    assert.deepEqual(c.uses, ['parse', 'header', 'buf']);
    assert.deepEqual(JSON.parse(JSON.stringify(c)), JSON.parse(JSON.stringify(plain)));
    const d = new IndexedChunk({ ...plain, defines: [] }, 'src/a.ts', table, one);
    const e = new IndexedChunk({ ...plain, defines: [], id: 'other' }, 'src/a.ts', table, one);
    assert.equal(d.defines, e.defines, 'one shared empty names list');
    assert.throws(() => d.defines.push('x'), 'and it is frozen');
  });
});
