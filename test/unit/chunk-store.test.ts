import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkList, ChunkPack, IndexedChunk, IndexedFile, packFileChunks, sameChunk, TermTable } from '../../src/core/index/chunkStore';
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
    const chunks = new ChunkPack('src/a.ts', 'typescript', plain, table, one).views();
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

  it('gives back the pack of views of all of it, in order, and packs anything else', () => {
    const table = new TermTable();
    const one = (s: string) => s;
    const plain = [makeChunk('src/b.ts', 1, 4, 3, { uses: ['a', 'b'] }), makeChunk('src/b.ts', 5, 9, 4, { uses: ['c'] })];
    const pack = packFileChunks('src/b.ts', 'typescript', plain, table, one);
    assert.equal(packFileChunks('src/b.ts', 'typescript', pack.views(), table, one), pack, 'every view of the pack: the same pack');
    for (const some of [pack.views().slice(1), pack.views().reverse()]) assert.notEqual(packFileChunks('src/b.ts', 'typescript', some, table, one), pack, 'part of it, or out of order: packed again');
    const other = packFileChunks('src/b.ts', 'typescript', pack.views(), new TermTable(), one);
    assert.notEqual(other, pack, 'another table: packed again');
    assert.deepEqual(other.view(0).uses, ['a', 'b']);
  });

  it('makes a fresh view on each read, and tells views of one chunk apart from the rest', () => {
    const table = new TermTable();
    const one = (s: string) => s;
    const plain = [makeChunk('src/c.ts', 1, 4, 3), makeChunk('src/c.ts', 5, 9, 4)];
    const pack = new ChunkPack('src/c.ts', 'typescript', plain, table, one);
    const again = new ChunkPack('src/c.ts', 'typescript', plain, table, one);
    assert.notEqual(pack.view(0), pack.view(0));
    assert.ok(sameChunk(pack.view(0), pack.view(0)));
    assert.ok(!sameChunk(pack.view(0), pack.view(1)), 'another place');
    assert.ok(!sameChunk(pack.view(0), again.view(0)), 'the same span in another pack: a replaced chunk');
    assert.ok(sameChunk(plain[0], plain[0]) && !sameChunk(plain[0], pack.view(0)), 'plain chunks by identity');
  });

  it('reads back the names chunks define, past the one-unit numbers too, one copy of each name for every pack', () => {
    const table = new TermTable();
    for (let i = 0; i < 40_000; i++) table.names.number(`name${i}`);
    const one = (s: string) => s;
    const plain = [
      makeChunk('src/e.ts', 1, 4, 3, { defines: ['name1', 'late', 'name39999'], uses: ['a'] }),
      makeChunk('src/e.ts', 5, 6, 3, { defines: [], uses: ['b'] }),
      makeChunk('src/e.ts', 7, 9, 3, { defines: ['late'], uses: [] }),
    ];
    const pack = new ChunkPack('src/e.ts', 'typescript', plain, table, one);
    const other = new ChunkPack('src/f.ts', 'typescript', [makeChunk('src/f.ts', 1, 2, 1, { defines: [`la${'te'}`] })], table, one);
    assert.deepEqual(pack.views().map((c) => c.defines), [['name1', 'late', 'name39999'], [], ['late']]);
    assert.deepEqual(pack.views().map((c) => c.uses), [['a'], ['b'], []], 'terms and names share one string, apart');
    assert.equal(table.names.number('late'), 40_000, 'numbered once');
    assert.equal(table.size, 2, 'names are not subtokens');
    assert.deepEqual(other.view(0).defines, ['late']);
    const places = (name: string, limit = 10) => {
      const out: number[] = [];
      pack.placesDefining(table.names.find(name)!, out, limit);
      return out;
    };
    assert.deepEqual(places('late'), [0, 2]);
    assert.deepEqual(places('late', 1), [0], 'no more than asked for');
    assert.deepEqual(places('name39999'), [0], 'a two-unit number');
    assert.deepEqual(places('name2'), [], 'numbered, defined by no chunk here');
    assert.equal(table.names.find('never'), undefined);
  });

  it('keeps a file\'s fields and imports as given, and makes its chunk views on each read', () => {
    const table = new TermTable();
    const pack = new ChunkPack('src/d.ts', 'typescript', [makeChunk('src/d.ts', 1, 4, 3, { uses: ['a'] })], table, (s) => s);
    const imports = [
      { specifier: './a', names: ['x', 'y'], line: 1 },
      { specifier: 'react', names: [], line: 7 },
    ];
    const file = new IndexedFile({ path: 'src/d.ts', size: 10, mtimeMs: 1.5, hash: 'abc', language: 'typescript', imports }, pack);
    assert.deepEqual(file.imports, imports);
    assert.deepEqual(new IndexedFile({ ...file, imports: [] }, pack).imports, []);
    assert.equal(file.links, undefined);
    assert.deepEqual(new IndexedFile({ ...file, imports, links: [['src/a.ts', ['x']]] }, pack).links, [['src/a.ts', ['x']]]);
    assert.notEqual(file.chunks[0], file.chunks[0]);
    assert.ok(sameChunk(file.chunks[0], pack.view(0)));
    assert.deepEqual(file.chunks[0].uses, ['a']);
  });

  it('lists chunks by ordinal without a view per chunk, and reads back what was pushed', () => {
    const table = new TermTable();
    const one = (s: string) => s;
    const a = new ChunkPack('a.ts', 'typescript', [makeChunk('a.ts', 1, 2, 1), makeChunk('a.ts', 3, 4, 1), makeChunk('a.ts', 5, 6, 1)], table, one);
    const b = new ChunkPack('b.ts', 'typescript', [makeChunk('b.ts', 1, 9, 1)], table, one);
    const hand = makeChunk('hand.ts', 1, 3, 2);
    const pushed = [a.view(0), a.view(1), hand, b.view(0), a.view(2), ...Array.from({ length: 20_000 }, (_, i) => (i % 2 ? a.view(i % 3) : b.view(0)))];
    const list = new ChunkList();
    for (const c of pushed) list.push(c);
    assert.equal(list.length, pushed.length);
    pushed.forEach((c, i) => assert.ok(sameChunk(list.at(i), c), `ordinal ${i}`));
    assert.equal(list.at(2), hand, 'a plain chunk is kept as it is');
    assert.equal(list.at(-1), undefined);
    assert.equal(list.at(pushed.length), undefined, 'past the end');
    assert.deepEqual([...list].map((c) => c.id), pushed.map((c) => c.id));
  });
});
