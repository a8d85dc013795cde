// Counting tokens piece by piece. tiktoken first cuts text into pieces with its
// encoding's regex, then BPE-encodes every piece on its own, so a text's count
// is the sum of its pieces' counts. Code repeats the same pieces ("const", " =",
// "\n\t") endlessly: splitting with V8's regex and remembering each piece's count
// turns tiktoken's 4–6 MB/s into tens of MB/s, and tiktoken still encodes every
// piece it has not seen. Exact: test/unit/tokens.test.ts checks the split against
// tiktoken's own count on every character of the fast-path set and on corpora.

import { SubstringMap } from '../substringMap';

/**
 * The encoding's pre-tokenizer pattern as a JavaScript regex. Node 20 has no
 * inline `(?i:...)` groups, so those are spelled out per letter; `\s` becomes
 * White_Space, which is what tiktoken's Rust regex means by `\s` (JS's `\s`
 * also takes U+FEFF).
 */
export function pieceRegex(patStr: string): RegExp {
  const source = patStr
    .replace(/\(\?i:([^)]*)\)/g, (_, body: string) => `(?:${body.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`)})`)
    .replace(/\\s/g, '\\p{White_Space}')
    .replace(/\\S/g, '\\P{White_Space}');
  return new RegExp(source, 'gu');
}

/**
 * Characters outside the fast path. Node's Unicode tables (17.0 in Node 20.20)
 * are newer than those compiled into tiktoken's Rust regex, so a character
 * assigned since is a letter or digit to one side and unassigned to the other.
 * The fast path takes only blocks whose letters, marks, digits and spaces were
 * settled long ago: Latin, Greek, Cyrillic, Armenian, Hebrew, punctuation and
 * symbols, CJK, kana, Hangul, variation selectors, fullwidth forms and emoji.
 * A text with anything else is counted by tiktoken whole.
 */
const OUTSIDE_FAST_PATH =
  /[^\u0000-\u05ff\u2000-\u2bff\u2e00-\u2e7f\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\ufe00-\ufe0f\uff00-\uffef\u{1f000}-\u{1faff}]/u;

/** White space as tiktoken's pattern means it, and as JavaScript does (U+FEFF): never cut before either. */
const SPACE = /[\s\p{White_Space}]/u;

export function onFastPath(text: string): boolean {
  return !OUTSIDE_FAST_PATH.test(text);
}

/** Pieces and their counts as two parallel arrays (compact in JSON). */
export interface PieceTable {
  text: string[];
  tokens: number[];
}

/**
 * BPE merging in tiktoken is quadratic in the length of one pre-tokenizer piece:
 * 100,000 letters without a break take 14 s, a 1 MB run minutes. Real code has no
 * piece anywhere near this long, so text is cut inside runs of one character class
 * (letters and other non-ASCII, ASCII punctuation, whitespace) longer than this and
 * the parts are encoded apart. Counts stay exact for real code; a pathological run
 * may count a token more per cut.
 */
export const MAX_RUN = 256;

function runClass(c: number): number {
  if (c >= 48 && c <= 57) return 0; // digits: pieces of at most 3
  if (c === 32 || (c >= 9 && c <= 13)) return 1;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 128) return 2;
  return 3;
}

/** The text cut inside over-long runs, or undefined when it has none (the common case). */
export function splitLongRuns(text: string): string[] | undefined {
  if (text.length <= MAX_RUN) return undefined;
  let cuts: number[] | undefined;
  let cls = -1;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const k = runClass(c);
    if (k !== cls || k === 0) {
      cls = k;
      run = 1;
    } else if (++run > MAX_RUN && !(c >= 0xdc00 && c <= 0xdfff)) {
      // Never between the halves of a surrogate pair.
      (cuts ??= []).push(i);
      run = 1;
    }
  }
  if (!cuts) return undefined;
  const parts: string[] = [];
  let from = 0;
  for (const at of cuts) {
    parts.push(text.slice(from, at));
    from = at;
  }
  parts.push(text.slice(from));
  return parts;
}

/** Enough for the distinct pieces of a large repository; cleared, not grown, past it. */
const MAX_REMEMBERED = 400_000;

export class PieceCounter {
  /** Piece → its token count, looked up where the piece lies in the text (no string cut per piece). */
  private readonly counts = new SubstringMap();
  private readonly sticky: RegExp;
  /** Pieces that had to be encoded, and texts that left the fast path (for benchmarks). */
  misses = 0;
  slowTexts = 0;

  constructor(
    patStr: string,
    /** tiktoken's count of each of several pieces (or whole texts off the fast path): one call per counted text. */
    private readonly encodeCounts: (texts: readonly string[]) => number[],
  ) {
    // test() with the sticky flag matches exactly at lastIndex and builds no
    // match array: one string per piece is all the garbage (this runs over every
    // byte of the workspace on the main thread).
    this.sticky = new RegExp(pieceRegex(patStr).source, 'uy');
  }

  count(text: string): number {
    const missing: string[] = [];
    const n = this.sumKnown(text, missing);
    return missing.length === 0 ? n : n + this.countMissing(missing);
  }

  /**
   * The sum of the remembered counts of `text`'s pieces; pieces not remembered
   * (and parts off the fast path, counted whole) are pushed to `missing`, one
   * entry per occurrence, for `countMissing` or `learnCounts`.
   */
  sumKnown(text: string, missing: string[]): number {
    return onFastPath(text) ? this.sumPieces(text, missing) : this.sumMixed(text, missing);
  }

  /** The remembered count of one piece (or whole text off the fast path), or undefined. */
  known(piece: string): number | undefined {
    return this.counts.get(piece);
  }

  /** Encodes the missing pieces (each distinct one once, in one call), remembers them, and returns their sum. */
  countMissing(missing: readonly string[]): number {
    const unique = missing.length === 1 ? missing : [...new Set(missing)];
    const byPiece = this.learnCounts(unique, this.encodeCounts(unique));
    let n = 0;
    for (const m of missing) n += byPiece.get(m)!;
    return n;
  }

  /** Remembers counts encoded elsewhere (distinct pieces); returns them by piece. */
  learnCounts(unique: readonly string[], counts: readonly number[]): Map<string, number> {
    const byPiece = new Map<string, number>();
    for (let i = 0; i < unique.length; i++) {
      const piece = unique[i];
      byPiece.set(piece, counts[i]);
      if (this.counts.has(piece)) continue;
      this.misses++;
      if (this.counts.size >= MAX_REMEMBERED) this.counts.clear();
      this.counts.set(piece, counts[i]);
    }
    return byPiece;
  }

  /**
   * Text with characters off the fast path: cut where no piece can straddle —
   * after a line break, before a character that is neither white space (which
   * joins runs of line breaks) nor '/' (which a punctuation piece takes along
   * after its line break) — then count fast-path parts piece by piece and the
   * rest, one remembered part at a time, whole.
   */
  private sumMixed(text: string, missing: string[]): number {
    let n = 0;
    let from = 0;
    for (let i = text.indexOf('\n'); i >= 0 && i + 1 < text.length; i = text.indexOf('\n', i + 1)) {
      const next = text.charCodeAt(i + 1);
      if (next === 0x2f || SPACE.test(text[i + 1])) continue;
      n += this.sumPart(text.slice(from, i + 1), missing);
      from = i + 1;
    }
    return n + this.sumPart(text.slice(from), missing);
  }

  private sumPart(part: string, missing: string[]): number {
    if (onFastPath(part)) return this.sumPieces(part, missing);
    const c = this.counts.get(part);
    if (c !== undefined) return c;
    this.slowTexts++;
    missing.push(part);
    return 0;
  }

  /** Sums the remembered counts over the pieces of `text`, which tile it; the pattern never fails to match, but a tail it left would be counted whole. */
  private sumPieces(text: string, missing: string[]): number {
    const re = this.sticky;
    const counts = this.counts;
    let n = 0;
    let at = 0;
    re.lastIndex = 0;
    while (at < text.length) {
      if (!re.test(text)) {
        missing.push(text.slice(at));
        return n;
      }
      const end = re.lastIndex;
      const c = counts.get(text, at, end);
      if (c === undefined) missing.push(text.slice(at, end));
      else n += c;
      at = end;
    }
    return n;
  }

  /**
   * The count when every piece is known; an unknown piece is estimated (one
   * token per three UTF-16 units, at least one) instead of encoded. For sizing
   * decisions that an exact count confirms afterwards.
   */
  estimate(text: string): number {
    const guess = (t: string) => Math.ceil(t.length / 3);
    if (!onFastPath(text)) return guess(text);
    const unknown = this.scratch;
    unknown.length = 0;
    let n = this.sumPieces(text, unknown);
    for (const piece of unknown) n += guess(piece);
    return n;
  }

  /** For `estimate`, which runs per line and never re-enters. */
  private readonly scratch: string[] = [];

  get remembered(): number {
    return this.counts.size;
  }

  /** The remembered pieces, for the persisted index: a warm start then builds no BPE tables. */
  table(): PieceTable {
    return { text: [...this.counts.keys()], tokens: [...this.counts.values()] };
  }

  learn(table: PieceTable): void {
    const n = Math.min(table.text.length, MAX_REMEMBERED - this.counts.size);
    for (let i = 0; i < n; i++) this.counts.set(table.text[i], table.tokens[i]);
  }
}

/**
 * `counter.sumKnown` of `text` cut in over-long runs first (see splitLongRuns),
 * as the tokenizer counts: pieces not remembered go to `missing`.
 */
export function sumKnownPieces(counter: PieceCounter, text: string, missing: string[]): number {
  const parts = splitLongRuns(text);
  if (!parts) return counter.sumKnown(text, missing);
  let n = 0;
  for (const p of parts) n += counter.sumKnown(p, missing);
  return n;
}
