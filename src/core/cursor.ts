// The cursor window — Copilot's prefix/suffix: lines before the cursor (the
// cursor's own line included) up to a prefix token share of the budget, and
// lines after it up to a suffix share, cut at line boundaries. Always sent.
import { identifiersIn, subtokens } from './chunk/identifiers';
import { splitLines } from './chunk/chunker';
import type { IndexView } from './index/indexView';
import type { Tokenizer } from './tokens/tokenizer';
import type { CursorWindow } from './types';

export interface CursorOptions {
  prefixTokens: number;
  suffixTokens: number;
  tokenizer: Tokenizer;
  /** Eval only: hide the cursor line's text (the line the user has not typed yet). */
  blankCursorLine?: boolean;
}

/**
 * Weight of a query term by its line distance to the cursor. Nearby names say
 * most about what comes next: 1 at the cursor, 1/2 at 8 lines, 1/5 at 32;
 * lines after the cursor count half.
 */
export function distanceWeight(linesAway: number, after: boolean): number {
  return (after ? 0.5 : 1) / (1 + Math.abs(linesAway) / 8);
}

export function cursorWindowOfText(path: string, text: string, line: number, opts: CursorOptions): CursorWindow {
  const lines = splitLines(text);
  if (opts.blankCursorLine && line >= 1 && line <= lines.length) lines[line - 1] = '';
  const cur = Math.min(Math.max(line, 1), Math.max(lines.length, 1)) - 1;
  // Line sizes only steer the cut (the joined text is counted exactly below), so
  // they may be estimates: a line's last piece alone is often one the index never
  // saw ("];\n" where the file has "];\n\n"), and a warm start should not build
  // the BPE tables for it.
  const lineTokens = (i: number) => opts.tokenizer.estimate(lines[i] + '\n');
  let start = cur;
  let used = lineTokens(cur);
  while (start > 0) {
    const t = lineTokens(start - 1);
    if (used + t > opts.prefixTokens) break;
    used += t;
    start--;
  }
  let end = cur;
  let usedAfter = 0;
  while (end < lines.length - 1) {
    const t = lineTokens(end + 1);
    if (usedAfter + t > opts.suffixTokens) break;
    usedAfter += t;
    end++;
  }
  // Per-line sums can differ slightly from the count of the joined text; trim until exact.
  const joined = () => lines.slice(start, end + 1).join('\n');
  let windowText = joined();
  let tokens = opts.tokenizer.count(windowText);
  while (tokens > opts.prefixTokens + opts.suffixTokens && (start < cur || end > cur)) {
    if (end > cur && (cur - start <= end - cur || start === cur)) end--;
    else start++;
    windowText = joined();
    tokens = opts.tokenizer.count(windowText);
  }

  const termWeights = new Map<string, number>();
  const near: Array<{ id: string; d: number }> = [];
  const seenIds = new Map<string, number>();
  for (let i = start; i <= end; i++) {
    const d = i - cur;
    const w = distanceWeight(d, d > 0);
    for (const id of identifiersIn(lines[i])) {
      const prev = seenIds.get(id);
      if (prev === undefined || Math.abs(d) < prev) seenIds.set(id, Math.abs(d));
      for (const t of subtokens(id)) termWeights.set(t, Math.max(termWeights.get(t) ?? 0, w));
    }
  }
  for (const [id, d] of seenIds) near.push({ id, d });
  near.sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1));
  const queryTerms = [...termWeights].map(([term, weight]) => ({ term, weight })).sort((a, b) => b.weight - a.weight || (a.term < b.term ? -1 : 1));

  return {
    path,
    startLine: start + 1,
    endLine: end + 1,
    tokens,
    text: windowText,
    queryTerms,
    nearIdentifiers: near.slice(0, 96).map((n) => n.id),
    cursorLine: cur,
  };
}

/**
 * The whole file as a query with no cursor position, for the stable layer of
 * the prompt: subtokens weighted by how often the file uses them, identifiers
 * most frequent first, so every line of the file gets the same answer. Never
 * sent itself (tokens 0).
 */
export function fileWindowOfText(path: string, text: string): CursorWindow {
  const lines = splitLines(text);
  const idCounts = new Map<string, number>();
  for (const line of lines) for (const id of identifiersIn(line)) idCounts.set(id, (idCounts.get(id) ?? 0) + 1);
  const termCounts = new Map<string, number>();
  for (const [id, n] of idCounts) for (const t of subtokens(id)) termCounts.set(t, (termCounts.get(t) ?? 0) + n);
  let most = 1;
  for (const n of termCounts.values()) most = Math.max(most, n);
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    path,
    startLine: 1,
    endLine: Math.max(1, lines.length),
    tokens: 0,
    text,
    // sqrt: a name used a hundred times says more about the file than one used once, not a hundred times more.
    queryTerms: [...termCounts].map(([term, n]) => ({ term, weight: Math.sqrt(n / most) })).sort((a, b) => b.weight - a.weight || byName(a.term, b.term)),
    nearIdentifiers: [...idCounts].sort((a, b) => b[1] - a[1] || byName(a[0], b[0])).slice(0, 96).map(([id]) => id),
    cursorLine: 0,
  };
}

export function cursorWindow(index: IndexView, pos: { path: string; line: number; column?: number }, opts: CursorOptions): CursorWindow {
  const text = index.fileText(pos.path);
  if (text === undefined) throw new Error(`cannot read ${pos.path}`);
  return cursorWindowOfText(pos.path, text, pos.line, opts);
}
