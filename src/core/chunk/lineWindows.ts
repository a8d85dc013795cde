// Line windows for files without a grammar: the Copilot/Cody convention of
// 60-line windows with a stride of 30, trimmed of blank lines at both ends.

export interface LineSpan {
  startLine: number; // 1-based inclusive
  endLine: number;
}

const isBlank = (line: string | undefined) => line === undefined || line.trim() === '';

/** Windows over lines[from..to] (0-based, inclusive); lines outside the range are not touched. */
export function lineWindows(lines: readonly string[], windowLines = 60, stride = 30, from = 0, to = lines.length - 1): LineSpan[] {
  const spans: LineSpan[] = [];
  if (windowLines < 1 || stride < 1) throw new Error('window and stride must be positive');
  for (let start = from; start <= to; start += stride) {
    let s = start;
    let e = Math.min(start + windowLines - 1, to);
    while (s <= e && isBlank(lines[s])) s++;
    while (e >= s && isBlank(lines[e])) e--;
    if (s <= e) {
      const last = spans[spans.length - 1];
      // A window entirely inside the previous one (after trimming) adds nothing.
      if (!last || e > last.endLine - 1) spans.push({ startLine: s + 1, endLine: e + 1 });
    }
    if (start + windowLines - 1 >= to) break;
  }
  return spans;
}
