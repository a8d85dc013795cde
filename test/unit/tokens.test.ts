// The piece-by-piece counter must give exactly tiktoken's count. The reference
// is tiktoken encoding the whole text (`Tokenizer.encode`, which never goes
// through the piece counter). A second tiktoken instance cannot serve: the
// package keeps one WASM instance per process.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { onFastPath, pieceRegex, PieceCounter } from '../../src/core/tokens/pieces';
import { ENCODINGS, loadTokenizer, type EncodingName, type Tokenizer } from '../../src/core/tokens/tokenizer';
import { fuzzRuns } from '../helpers/fakeIndex';

const SEED = 20261127;
const ours = new Map<EncodingName, Tokenizer>();

before(async () => {
  for (const e of ENCODINGS) {
    ours.set(e, await loadTokenizer(e));
  }
});

function referenceCount(encoding: EncodingName, text: string): number {
  return ours.get(encoding)!.encode(text).length;
}

/** Every code point of the fast path, one by one. */
function* fastPathCodePoints(): Generator<string> {
  for (let cp = 0; cp <= 0x1faff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (onFastPath(c)) yield c;
  }
}

const CODE_PIECES = ['const', ' x', ' =', ' 42', ';\n', '\t', '    ', 'fooBar', '_baz', "'s", "'LL", '(', ')', '{\n', '}\n', ' // ', 'é', '日本', '🚀', '\u00a0', '\u2028', '\r\n', '12345', '...', '=>', '\n', '\n\n', '/', '//', '\n/', '\u0085', '\ufeff', 'ก', 'ع', '\u0898'];

describe('token counting piece by piece', () => {
  for (const encoding of ENCODINGS) {
    it(`${encoding}: every fast-path character, in letter, digit, space and apostrophe contexts, counts as tiktoken counts it`, () => {
      const counter = ours.get(encoding)!;
      const wrong: string[] = [];
      for (const c of fastPathCodePoints()) {
        const text = `a${c}b ${c} x1${c}2${c}'s A${c}a\n${c}\n${c}${c} `;
        if (counter.count(text) !== referenceCount(encoding, text)) wrong.push(c.codePointAt(0)!.toString(16));
      }
      assert.deepEqual(wrong.slice(0, 20), []);
    });

    it(`${encoding}: random text (code-like pieces and any code point, fast path or not) counts as tiktoken counts it`, () => {
      const counter = ours.get(encoding)!;
      const anyChar = fc.integer({ min: 0, max: 0x10ffff }).filter((cp) => cp < 0xd800 || cp > 0xdfff).map((cp) => String.fromCodePoint(cp));
      const text = fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CODE_PIECES) }, { weight: 1, arbitrary: anyChar }), { maxLength: 60 }).map((a) => a.join(''));
      fc.assert(
        fc.property(text, (t) => counter.count(t) === referenceCount(encoding, t)),
        { seed: SEED, numRuns: fuzzRuns(3000) },
      );
    });

    it(`${encoding}: this repository's sources count as tiktoken counts them`, () => {
      const counter = ours.get(encoding)!;
      for (const dir of ['src/core/tokens', 'src/core/pack', 'src/extension', 'webview']) {
        for (const name of readdirSync(dir)) {
          if (!/\.(ts|css)$/.test(name)) continue;
          const text = readFileSync(join(dir, name), 'utf8');
          assert.equal(counter.count(text), referenceCount(encoding, text), join(dir, name));
        }
      }
    });
  }

  it('characters assigned after the Rust regex tables leave the fast path, and are still counted exactly', () => {
    // U+1E6DE and U+11DE0 are letters/digits to Node 20.20 (Unicode 17) but not to tiktoken.
    for (const c of ['\u{1e6de}', '\u{11de0}', '\u0898', '\ufeff']) {
      assert.equal(onFastPath(`x${c}`), false);
      const text = `let a${c}b = 1${c}2;`;
      for (const e of ENCODINGS) assert.equal(ours.get(e)!.count(text), referenceCount(e, text));
    }
  });

  it('remembers pieces: a repeated text encodes nothing new', () => {
    let encoded = 0;
    const tok = ours.get('o200k_base')!;
    const counter = new PieceCounter(JSON.parse(readFileSync('node_modules/tiktoken/encoders/o200k_base.json', 'utf8')).pat_str as string, (texts) => {
      encoded += texts.length;
      return texts.map((t) => tok.encode(t).length);
    });
    const text = 'function add(a, b) {\n  return a + b;\n}\n';
    const n = counter.count(text);
    const first = encoded;
    assert.ok(first > 0);
    assert.equal(counter.count(text), n);
    assert.equal(encoded, first);
  });

  it('spells out case-insensitive groups, which Node 20 regexes lack', () => {
    const re = pieceRegex("(?i:'s|'t)|\\s+");
    assert.deepEqual("it'S 'T".match(re), ["'S", ' ', "'T"]);
  });
});
