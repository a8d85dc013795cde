// Chunk lists for the panel (pure; unit-tested in Node).
import type { ContextReport, ReportItem } from '../src/core/report';

export interface ChunkLists {
  /** Kept items in the order they are sent (the prompt's block order when the report has it). */
  selected: ReportItem[];
  /** Dropped items in rank order (best first). */
  dropped: ReportItem[];
}

/**
 * Splits the report's items (rank order, best first) into the send order the
 * prompt uses: pinned chunks, then retrieved ones by rank; the cursor window
 * itself goes last and is not an item. Stable for equal keys.
 */
export function sendOrder(report: Pick<ContextReport, 'items'> | null | undefined): ChunkLists {
  const selected: ReportItem[] = [];
  const pinned: ReportItem[] = [];
  const dropped: ReportItem[] = [];
  for (const it of report?.items ?? []) {
    if (!it.selected) dropped.push(it);
    else if (it.pinned) pinned.push(it);
    else selected.push(it);
  }
  const kept = [...pinned, ...selected];
  // The renderer's own order wins: items carry their block's position in the prompt.
  if (kept.length > 0 && kept.every((it) => typeof it.sendOrder === 'number')) {
    kept.sort((a, b) => (a.sendOrder as number) - (b.sendOrder as number));
  }
  return { selected: kept, dropped };
}

/** The source chips shown for an item, deduplicated, in a fixed order. */
const SOURCE_ORDER = ['pinned', 'definition', 'import', 'bm25', 'open-tab', 'recent-edit', 'recent-view', 'same-folder'];
export function sourceLabels(sources: readonly string[]): string[] {
  const uniq = [...new Set(sources)];
  return uniq.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
function rank(s: string): number {
  const i = SOURCE_ORDER.indexOf(s);
  return i < 0 ? SOURCE_ORDER.length : i;
}

/** True when an item was dropped because the user excluded it. */
export function isExcluded(item: Pick<ReportItem, 'selected' | 'reason'>): boolean {
  return !item.selected && item.reason === 'excluded';
}

/** A cheap signature of what a row shows, to skip DOM work when nothing changed. */
export function rowSignature(it: ReportItem, fileExcluded: boolean): string {
  return [it.path, it.startLine, it.endLine, it.tokens, it.score.toFixed(3), it.selected, it.pinned, it.reason, it.kind, it.sources.join(','), (it.evidence ?? []).join(','), fileExcluded].join('\u0001');
}
