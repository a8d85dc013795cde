import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { cursorWindowOfText } from '../../src/core/cursor';
import { blockFrame, countFramesAhead, mergeBlocks, packAndRender, relevanceTier, renderPrompt, type PromptFormat } from '../../src/core/pack/render';
import { loadTokenizer, type Tokenizer } from '../../src/core/tokens/tokenizer';
import { fuzzRuns, makeChunk, ranked, rng } from '../helpers/fakeIndex';

let tok: Tokenizer;
before(async () => {
  tok = await loadTokenizer('o200k_base');
});

function fakeFile(seed: number, lines: number): string[] {
  const r = rng(seed);
  const words = ['const', 'value', 'return', 'fooBar', '{', '}', '(', ')', ';', '  ', '`x`', '```', 'émoji 🎉', '<|endoftext|>', '\t', 'if', '=>'];
  return Array.from({ length: lines }, () => Array.from({ length: Math.floor(r() * 12) }, () => words[Math.floor(r() * words.length)]).join(' '));
}

describe('prompt rendering', () => {
  it('the reported token count is tiktoken\'s count of the produced text, and never over budget', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 200, max: 6000 }), fc.constantFrom<PromptFormat>('markdown', 'xml', 'json'), (seed, budget, format) => {
        const files = new Map<string, string[]>();
        const list = [];
        for (let f = 0; f < 6; f++) {
          const lines = fakeFile(seed + f, 120);
          files.set(`src/f${f}.ts`, lines);
          for (let s = 1; s < 120; s += 30) {
            const text = lines.slice(s - 1, s + 29).join('\n');
            list.push(ranked(makeChunk(`src/f${f}.ts`, s, s + 29, tok.count(text), { hash: `${f}-${s}` }), rng(seed + s)()));
          }
        }
        list.sort((a, b) => b.score - a.score);
        const cursorText = fakeFile(seed, 40).join('\n');
        const cursor = cursorWindowOfText('src/cursor.ts', cursorText, 20, { prefixTokens: budget * 0.3, suffixTokens: budget * 0.15, tokenizer: tok });
        const out = packAndRender({ ranked: list, budget, cursor, format, tokenizer: tok, textOf: (p, s, e) => files.get(p)!.slice(s - 1, e).join('\n') });
        assert.equal(out.tokens, tok.count(out.text));
        if (cursor.tokens < budget * 0.5) assert.ok(out.tokens <= budget, `${out.tokens} > ${budget}`);
        if (format === 'json') assert.equal(JSON.parse(out.text).cursor.text, cursor.text);
        else assert.ok(out.text.includes(cursor.text));
        // Every selected chunk's lines are in the prompt (merging never loses lines).
        for (const item of out.pack.items.filter((i) => i.selected)) {
          const c = item.ranked.chunk;
          assert.ok(out.text.includes(files.get(c.path)!.slice(c.startLine - 1, c.endLine).join('\n')) || out.blocks.some((b) => b.path === c.path && b.startLine <= c.startLine && b.endLine >= c.endLine));
        }
      }),
      { numRuns: fuzzRuns(40), seed: 3 },
    );
  });

  it('merges overlapping and adjacent chunks of one file into one block', () => {
    const a = makeChunk('a.ts', 1, 10, 5);
    const b = makeChunk('a.ts', 11, 20, 5);
    const c = makeChunk('a.ts', 5, 15, 5);
    const d = makeChunk('a.ts', 30, 35, 5);
    const blocks = mergeBlocks([a, b, c, d].map((ch, i) => ({ chunk: ch, score: i / 10 })), (p, s, e) => `${p}:${s}-${e}`);
    assert.deepEqual(blocks.map((x) => [x.startLine, x.endLine]).sort((x, y) => x[0] - y[0]), [[1, 20], [30, 35]]);
  });

  it('orders snippets by ascending relevance, cursor last, stable for equal scores', () => {
    const blocks = mergeBlocks(
      [{ chunk: makeChunk('b.ts', 1, 2, 1), score: 0.5 }, { chunk: makeChunk('a.ts', 1, 2, 1), score: 0.5 }, { chunk: makeChunk('c.ts', 1, 2, 1), score: 0.9 }],
      (p) => `// ${p}`,
    );
    assert.deepEqual(blocks.map((b) => b.path), ['a.ts', 'b.ts', 'c.ts']);
    const cursor = cursorWindowOfText('z.ts', 'let q = 1;', 1, { prefixTokens: 100, suffixTokens: 100, tokenizer: tok });
    const text = renderPrompt(blocks, cursor, 'markdown');
    assert.ok(text.indexOf('c.ts') > text.indexOf('a.ts'));
    assert.ok(text.trimEnd().endsWith('```'));
    assert.ok(text.lastIndexOf('z.ts') > text.lastIndexOf('c.ts'));
  });

  it('keeps file order inside a relevance band, so nudged scores do not reshuffle the prompt', () => {
    const list = (sa: number, sb: number) =>
      mergeBlocks([{ chunk: makeChunk('b.ts', 1, 2, 1), score: sa }, { chunk: makeChunk('a.ts', 1, 2, 1), score: sb }, { chunk: makeChunk('z.ts', 1, 2, 1), score: 0.9 }], (p) => p).map((b) => b.path);
    assert.deepEqual(list(0.2, 0.3), ['a.ts', 'b.ts', 'z.ts']);
    assert.deepEqual(list(0.3, 0.2), ['a.ts', 'b.ts', 'z.ts']);
    // Across bands relevance wins: the more relevant one moves toward the cursor.
    assert.deepEqual(list(0.2, 0.7), ['b.ts', 'a.ts', 'z.ts']);
    assert.ok(relevanceTier(0.01) < relevanceTier(0.2) && relevanceTier(0.2) < relevanceTier(0.9));
  });

  it('fences code that itself contains backtick fences', () => {
    const blocks = mergeBlocks([{ chunk: makeChunk('a.md', 1, 3, 1), score: 1 }], () => 'x\n```js\ny\n```');
    const text = renderPrompt(blocks, undefined, 'markdown');
    assert.match(text, /^````/m);
  });

  it('sends the stable layer first in file order, never merged with the cursor\'s snippets', () => {
    const blocks = mergeBlocks(
      [
        { chunk: makeChunk('b.ts', 1, 10, 1), score: 0.9 },
        { chunk: makeChunk('b.ts', 11, 20, 1), score: 0.1, stable: true },
        { chunk: makeChunk('z.ts', 1, 2, 1), score: 0.01, stable: true },
        { chunk: makeChunk('a.ts', 1, 2, 1), score: 0.9, stable: true },
        { chunk: makeChunk('c.ts', 1, 2, 1), score: 0.2 },
      ],
      (p, s, e) => `${p}:${s}-${e}`,
    );
    assert.deepEqual(blocks.map((b) => [b.path, b.startLine, b.stable]), [['a.ts', 1, true], ['b.ts', 11, true], ['z.ts', 1, true], ['c.ts', 1, false], ['b.ts', 1, false]]);
  });

  it('gives up the cursor\'s snippets before the stable layer when both do not fit', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `const value${i} = compute(${i}, 'text ${i}');`);
    const text = (s: number, e: number) => lines.slice(s - 1, e).join('\n');
    const chunk = (path: string, s: number, e: number) => makeChunk(path, s, e, tok.count(text(s, e)), { hash: `${path}${s}` });
    const stable = chunk('s.ts', 1, 20);
    const other = chunk('o.ts', 1, 20);
    const cursor = cursorWindowOfText('c.ts', 'let q = 1;', 1, { prefixTokens: 100, suffixTokens: 100, tokenizer: tok });
    // Overheads are counted per chunk ahead of rendering; a budget just under what both need forces a drop after rendering.
    const both = packAndRender({ ranked: [ranked(other, 0.9)], stableLayer: { ranked: [ranked(stable, 0.5)], budget: 10_000 }, budget: 100_000, cursor, format: 'markdown', tokenizer: tok, textOf: (_p, s, e) => text(s, e) });
    assert.deepEqual(both.pack.items.map((i) => i.reason), ['selected', 'stable']);
    assert.ok(both.text.indexOf('### s.ts') < both.text.indexOf('### o.ts'));
    let tight;
    for (let budget = both.tokens - 1; budget > 0; budget--) {
      tight = packAndRender({ ranked: [ranked(other, 0.9)], stableLayer: { ranked: [ranked(stable, 0.5)], budget: 10_000 }, budget, cursor, format: 'markdown', tokenizer: tok, textOf: (_p, s, e) => text(s, e) });
      if (tight.pack.items.some((i) => !i.selected)) break;
    }
    assert.deepEqual(tight!.pack.items.map((i) => i.reason), ['over budget', 'stable']);
  });

  it('counts candidates\' frames ahead in one call, and the packer then counts none of them one by one', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `const value${i} = ${i};`);
    const text = (s: number, e: number) => lines.slice(s - 1, e).join('\n');
    const chunks = Array.from({ length: 12 }, (_, k) => makeChunk(`frames-ahead/dir${k}/file name ${k}.ts`, 1 + k, 3 + k, tok.count(text(1 + k, 3 + k)), { hash: `fa${k}` }));
    const frames = new Set(chunks.map((c) => blockFrame('xml', c.path, c.startLine, c.endLine, c.language)));
    const batches: string[][] = [];
    const oneByOne: string[] = [];
    const watched: Tokenizer = Object.assign(Object.create(tok) as Tokenizer, {
      count: (t: string) => (frames.has(t) && oneByOne.push(t), tok.count(t)),
      countMany: (ts: readonly string[]) => (batches.push([...ts]), tok.countMany(ts)),
    });
    const cursor = cursorWindowOfText('c.ts', 'let q = 1;', 1, { prefixTokens: 100, suffixTokens: 100, tokenizer: tok });
    await countFramesAhead(watched, 'xml', chunks);
    assert.deepEqual(batches.map((b) => b.length), [12], 'one call for all of them');
    await countFramesAhead(watched, 'xml', chunks);
    assert.equal(batches.length, 1, 'known frames are not asked again');
    const out = packAndRender({ ranked: chunks.map((c, k) => ranked(c, 1 - k / 20)), budget: 100_000, cursor, format: 'xml', tokenizer: watched, textOf: (_p, s, e) => text(s, e) });
    assert.equal(out.pack.items.filter((i) => i.selected).length, 12);
    assert.deepEqual(oneByOne, []);
    assert.equal(out.tokens, tok.count(out.text), 'and the total is still exact');
  });
});
