import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkPack, IndexedChunk, packChunks, TermTable } from '../../src/core/index/chunkStore';
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

  it('packs a file\'s chunks, shares repeated strings and reads them back as plain data', () => {
    const table = new TermTable();
    const intern = new Map<string, string>();
    const one = (s: string) => intern.get(s) ?? (intern.set(s, s), s);
    const plain = [
      makeChunk('src/a.ts', 1, 2, 5, { kind: 'imports', uses: [] }),
      makeChunk('src/a.ts', 3, 9, 42, { defines: ['parseHeader'], uses: ['parse', 'header', 'buf'], kind: 'function', hash: '0123456789abcdef' }),
      makeChunk('src/a.ts', 10, 30, 7, { uses: ['buf', 'x'], kind: 'window', hash: 'ffffffff80000000' }),
    ];
    const chunks = new ChunkPack('src/a.ts', 'typescript', plain, table, one).chunks;
    assert.equal(chunks.length, 3);
    assert.ok(chunks.every((c) => c instanceof IndexedChunk));
    // Every field reads back as given: ids from the span, hashes from integers (both halves, high bits set), odd hashes as they were.
    assert.deepEqual(JSON.parse(JSON.stringify(chunks)), JSON.parse(JSON.stringify(plain)));
    assert.deepEqual(chunks[1].uses, ['parse', 'header', 'buf']);
    assert.equal(chunks[2].hash, 'ffffffff80000000');
    assert.equal(chunks[0].hash, 'src/a.ts:1:2');
    assert.equal(chunks[0].defines, chunks[2].defines, 'one shared empty names list');
    assert.throws(() => chunks[0].defines.push('x'), 'and it is frozen');
    assert.equal(chunks[1].defines[0], one('parseHeader'), 'names are interned');
  });

  it('keeps packed chunks of the same table as they are, and packs the rest', () => {
    const table = new TermTable();
    const one = (s: string) => s;
    const plain = [makeChunk('src/b.ts', 1, 4, 3, { uses: ['a', 'b'] })];
    const packed = packChunks('src/b.ts', 'typescript', plain, table, one);
    assert.equal(packChunks('src/b.ts', 'typescript', packed, table, one), packed, 'already packed: the same views');
    const other = packChunks('src/b.ts', 'typescript', packed, new TermTable(), one);
    assert.notEqual(other, packed, 'another table: packed again');
    assert.deepEqual(other[0].uses, ['a', 'b']);
  });
});
