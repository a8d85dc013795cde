import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { cursorWindowOfText, distanceWeight } from '../../src/core/cursor';
import { loadTokenizer, type Tokenizer } from '../../src/core/tokens/tokenizer';

let tok: Tokenizer;
before(async () => {
  tok = await loadTokenizer('o200k_base');
});

const file = Array.from({ length: 200 }, (_, i) => `const value${i} = computeSomething(${i}); // line ${i + 1}`).join('\n');

describe('cursor window', () => {
  it('takes lines around the cursor within the prefix and suffix shares, cut at line boundaries', () => {
    const w = cursorWindowOfText('a.ts', file, 100, { prefixTokens: 300, suffixTokens: 150, tokenizer: tok });
    assert.ok(w.startLine < 100 && w.endLine > 100);
    assert.equal(w.tokens, tok.count(w.text));
    assert.ok(w.tokens <= 450);
    assert.equal(w.text, file.split('\n').slice(w.startLine - 1, w.endLine).join('\n'));
    assert.equal(w.cursorLine, 99);
    // More lines before the cursor than after (30% vs 15%).
    assert.ok(100 - w.startLine > w.endLine - 100);
  });

  it('always contains the cursor line, even with a zero budget', () => {
    const w = cursorWindowOfText('a.ts', file, 5, { prefixTokens: 0, suffixTokens: 0, tokenizer: tok });
    assert.equal(w.startLine, 5);
    assert.equal(w.endLine, 5);
  });

  it('weights query terms by distance to the cursor, nearest first', () => {
    const w = cursorWindowOfText('a.ts', 'function far() {}\n\n\n\n\nconst nearName = 1;\n', 6, { prefixTokens: 1000, suffixTokens: 1000, tokenizer: tok });
    assert.equal(w.nearIdentifiers[0], 'nearName');
    const near = w.queryTerms.find((t) => t.term === 'near')!;
    const far = w.queryTerms.find((t) => t.term === 'far')!;
    assert.ok(near.weight > far.weight);
    assert.ok(distanceWeight(0, false) > distanceWeight(8, false));
    assert.ok(distanceWeight(1, true) < distanceWeight(1, false));
  });

  it('can blank the cursor line (the eval hides the line not typed yet)', () => {
    const w = cursorWindowOfText('a.ts', 'a\nsecretCall()\nb', 2, { prefixTokens: 100, suffixTokens: 100, tokenizer: tok, blankCursorLine: true });
    assert.ok(!w.text.includes('secretCall'));
  });
});
