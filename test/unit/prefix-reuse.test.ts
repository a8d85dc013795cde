// Prefix reuse between consecutive packs: the line-cut common prefix, its exact
// token count (against tiktoken's full encodings) and prices with and without a cache hit.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { builtinHardware, builtinModel } from '../../src/core/cost/profiles';
import { cachePricing, commonLinePrefix, prefixReuse, PrefixTracker } from '../../src/core/pack/prefixReuse';
import { loadTokenizer, type Tokenizer } from '../../src/core/tokens/tokenizer';
import { fuzzRuns } from '../helpers/fakeIndex';

let tok: Tokenizer;
before(async () => {
  tok = await loadTokenizer('o200k_base');
});

/** One token per UTF-16 unit: counts are obvious by hand. */
const charTok = {
  encode: (s: string) => Uint32Array.from([...s].map((c) => c.charCodeAt(0))),
  encodeAsync: async (s: string) => charTok.encode(s),
  decode: (t: Uint32Array) => String.fromCharCode(...t),
};

function commonLen(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

describe('commonLinePrefix', () => {
  it('cuts the common prefix back to just after a newline', () => {
    assert.equal(commonLinePrefix('a\nbb\nccc\n', 'a\nbb\ncXc\n'), 5);
    assert.equal(commonLinePrefix('a\nbb', 'a\nbc'), 2);
    assert.equal(commonLinePrefix('abc', 'abd'), 0);
    assert.equal(commonLinePrefix('\nabc', 'Xabc'), 0);
    assert.equal(commonLinePrefix('same\ntext', 'same\ntext'), 9);
    assert.equal(commonLinePrefix('x\ny\n', 'x\ny\nz'), 4);
    assert.equal(commonLinePrefix('x\ny', 'x\nyz'), 2);
    assert.equal(commonLinePrefix('', 'abc'), 0);
  });
});

describe('prefixReuse', () => {
  it('is exact on crafted texts with a one-token-per-character tokenizer', () => {
    assert.deepEqual(prefixReuse('a\nbb\nccc\n', 'a\nbb\ncXc\n', charTok), { reusedChars: 5, reusedTokens: 5, totalTokens: 9 });
    assert.deepEqual(prefixReuse(undefined, 'abc\n', charTok), { reusedChars: 0, reusedTokens: 0, totalTokens: 4 });
    assert.deepEqual(prefixReuse('abc\n', 'abc\n', charTok), { reusedChars: 4, reusedTokens: 4, totalTokens: 4 });
    assert.deepEqual(prefixReuse('zzz\n', 'abc\n', charTok), { reusedChars: 0, reusedTokens: 0, totalTokens: 4 });
  });

  it('counts the shared head of a packed prompt exactly with tiktoken', () => {
    const head = '### src/a.ts:1-3\n```ts\nexport const answer = 42;\nfunction f(x: number) {\n  return x * 2;\n}\n```\n\n';
    const prev = `${head}### src/b.ts:10-12 (cursor at line 11)\n\`\`\`ts\nconst b = f(1);\n\`\`\`\n`;
    const cur = `${head}### src/b.ts:10-13 (cursor at line 12)\n\`\`\`ts\nconst b = f(2);\n\`\`\`\n`;
    const r = prefixReuse(prev, cur, tok);
    assert.equal(r.reusedChars, head.length);
    assert.equal(r.totalTokens, tok.count(cur));
    // The reused run is exactly the head's tokens as tiktoken encodes the whole current prompt.
    const full = tok.encode(cur);
    assert.equal(tok.decode(full.subarray(0, r.reusedTokens)), head.slice(0, tok.decode(full.subarray(0, r.reusedTokens)).length));
    assert.ok(r.reusedTokens > 20 && r.reusedTokens <= tok.count(head), `${r.reusedTokens} vs ${tok.count(head)}`);
  });

  it('never claims a token that is not shared, inside the line cut, and as encoded in the full prompts (property)', () => {
    const lineArb = fc.array(fc.constantFrom('const', 'x', '=', '{', '}', '  ', '\t', '()', ';', '```', 'é', '🎉', '\n', '//', 'return'), { maxLength: 8 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 30 }), fc.nat(), fc.string({ maxLength: 12 }), (lines, at, edit) => {
        const prev = `${lines.join('\n')}\n`;
        const k = at % lines.length;
        const changed = [...lines];
        changed[k] = `${changed[k]}${edit}`;
        const cur = `${changed.join('\n')}\n`;
        const r = prefixReuse(prev, cur, tok);
        const a = tok.encode(prev);
        const b = tok.encode(cur);
        assert.equal(r.totalTokens, b.length);
        assert.ok(r.reusedTokens <= commonLen(a, b));
        const text = tok.decode(b.subarray(0, r.reusedTokens));
        assert.ok(text.length <= r.reusedChars && cur.startsWith(text));
        // Maximal: one more shared token would leave the line cut (or not be shared).
        if (r.reusedTokens < commonLen(a, b)) {
          const more = tok.decode(b.subarray(0, r.reusedTokens + 1));
          assert.ok(more.length > r.reusedChars || !cur.startsWith(more));
        }
        assert.equal(r.reusedChars, commonLinePrefix(prev, cur));
      }),
      { numRuns: fuzzRuns(200) },
    );
  });
});

describe('cachePricing', () => {
  it('bills the reused prefix at the cached-input rate', () => {
    const model = builtinModel('gpt-4o')!;
    const hw = builtinHardware('h100-sxm')!;
    const p = model.price!;
    assert.ok(p.cachedInputPerMTok !== null);
    const none = cachePricing(model, hw, { inputTokens: 8000, outputTokens: 256, reusedTokens: 0 });
    assert.equal(none.priceWithCacheUsd, none.priceUsd);
    const hit = cachePricing(model, hw, { inputTokens: 8000, outputTokens: 256, reusedTokens: 6000 });
    assert.equal(hit.reusedTokens, 6000);
    assert.ok(Math.abs(hit.priceUsd! - hit.priceWithCacheUsd! - (6000 * (p.inputPerMTok - p.cachedInputPerMTok!)) / 1e6) < 1e-12);
    const clamped = cachePricing(model, hw, { inputTokens: 100, outputTokens: 0, reusedTokens: 500 });
    assert.equal(clamped.reusedTokens, 100);
  });

  it('has no price where the model has none', () => {
    const hw = builtinHardware('h100-sxm')!;
    const model = { ...builtinModel('gpt-4o')!, price: null };
    assert.deepEqual(cachePricing(model, hw, { inputTokens: 100, outputTokens: 1, reusedTokens: 50 }), { reusedTokens: 50, priceUsd: null, priceWithCacheUsd: null });
  });
});

describe('PrefixTracker', () => {
  it('compares with the previous prompt of the same key and answers repeats the same way', async () => {
    const t = new PrefixTracker(2);
    assert.equal((await t.update('a.ts', 'one\ntwo\n', charTok)).reusedTokens, 0);
    const second = await t.update('a.ts', 'one\nTWO\n', charTok);
    assert.equal(second.reusedTokens, 4);
    assert.deepEqual(await t.update('a.ts', 'one\nTWO\n', charTok), second, 'a repaint is not a new pack');
    assert.equal((await t.update('b.ts', 'one\nTWO\n', charTok)).reusedTokens, 0, 'keys are separate');
    await t.update('c.ts', 'x\n', charTok); // evicts a.ts (2 keys kept)
    assert.equal((await t.update('a.ts', 'one\nTWO\nthree\n', charTok)).reusedTokens, 0);
  });

  it('answers in the order asked even when an earlier encoding finishes later', async () => {
    // The first prompt's encoding is slow: the second update must still compare against it.
    const slowFirst = {
      ...charTok,
      encodeAsync: (s: string) => new Promise<Uint32Array>((r) => setTimeout(() => r(charTok.encode(s)), s.startsWith('one\ntwo') ? 30 : 0)),
    };
    const t = new PrefixTracker();
    const [a, b] = await Promise.all([t.update('a.ts', 'one\ntwo\n', slowFirst), t.update('a.ts', 'one\nTWO\n', slowFirst)]);
    assert.equal(a.reusedTokens, 0);
    assert.equal(b.reusedTokens, 4);
  });

  it('with the tokenizer: the cached-input share of a repacked prompt, exact against tiktoken', async () => {
    const head = '### src/a.ts:1-3\n```ts\nexport const answer = 42;\n```\n\n';
    const t = new PrefixTracker();
    await t.update('b.ts', `${head}const b = 1;\n`, tok);
    const r = await t.update('b.ts', `${head}const b = 2;\n`, tok);
    assert.deepEqual(r, prefixReuse(`${head}const b = 1;\n`, `${head}const b = 2;\n`, tok));
    assert.ok(r.reusedTokens > 10);
  });
});
