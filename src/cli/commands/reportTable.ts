// The human-readable report: one screen that says what goes in, what stays out and what it costs.
import type { IndexStats } from '../../core/index/workspaceIndex';
import type { ContextReport, ReportItem } from '../../core/report';
import { formatBytes, formatFlops, formatSeconds, formatPrice, formatTokens } from '../../core/format';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

function row(i: ReportItem, n: number, withReason: boolean): string {
  const where = `${i.path}:${i.startLine}-${i.endLine}`;
  const src = i.sources.join(',');
  return `  ${lpad(String(n), 3)}  ${lpad(String(i.tokens), 6)}  ${i.score.toFixed(3)}  ${pad(where, 52)}  ${pad(i.kind, 12)} ${pad(src, 22)}${withReason ? ` ${i.reason}` : ''}`;
}

export function formatReport(r: ContextReport, stats?: IndexStats, maxDropped = 15): string {
  const out: string[] = [];
  const c = r.cost;
  const used = r.totals.promptTokens;
  out.push(`Context Budget — ${r.file}:${r.line} · ${r.modelName} (${r.encoding}) · ${r.hardware} · ranker: ${r.device}${r.rankerNote ? ` (${r.rankerNote})` : ''}`);
  out.push('');
  out.push(
    `Budget ${formatTokens(r.budget)} tokens (context ${formatTokens(r.budgetSplit.contextLimit)} − reserve ${formatTokens(r.budgetSplit.reserve)}` +
      `${r.budgetSplit.promptOverhead ? ` − prompt overhead ${formatTokens(r.budgetSplit.promptOverhead)}` : ''})`,
  );
  out.push(
    `Prompt ${formatTokens(used)} tokens exact (${((100 * used) / Math.max(1, r.budget)).toFixed(0)}%): cursor ${formatTokens(r.budgetSplit.cursor)} (lines ${r.cursor.startLine}-${r.cursor.endLine})` +
      ` + pinned ${formatTokens(r.budgetSplit.pinned)} + retrieved ${formatTokens(r.budgetSplit.retrieved)} + headers ${formatTokens(r.budgetSplit.overhead)}`,
  );
  if (c.architectureKnown) {
    out.push(
      `Cost   ${formatFlops(c.totalFlops)} prefill (attention ${formatFlops(c.attentionFlops)}, ${((c.attentionShare ?? 0) * 100).toFixed(1)}%) · KV cache ${formatBytes(c.kvCacheBytes)}` +
        ` · TTFT ${formatSeconds(c.ttftSeconds)} · ${c.decodeTokensPerSecond?.toFixed(0) ?? '?'} tok/s · ${formatPrice(c.priceUsd)}`,
    );
  } else {
    out.push(`Cost   ${formatPrice(c.priceUsd)} for ${formatTokens(c.inputTokens)} in + ${formatTokens(c.outputTokens)} out (architecture not public: no FLOPs, KV cache or latency estimates)`);
  }
  const selected = r.items.filter((i) => i.selected);
  const dropped = r.items.filter((i) => !i.selected);
  out.push('');
  out.push(`Selected (${selected.length})`);
  out.push(`  ${lpad('#', 3)}  ${lpad('tokens', 6)}  score  ${pad('path:lines', 52)}  ${pad('kind', 12)} source`);
  selected.forEach((i) => out.push(row(i, r.items.indexOf(i) + 1, false)));
  out.push('');
  out.push(`Dropped (${dropped.length}${dropped.length > maxDropped ? `, top ${maxDropped} shown` : ''})`);
  dropped.slice(0, maxDropped).forEach((i) => out.push(row(i, r.items.indexOf(i) + 1, true)));
  out.push('');
  const skipped = stats ? Object.entries(stats.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none' : '';
  out.push(
    `Index  ${r.totals.indexedFiles} files${stats ? `, ${stats.chunks} chunks, ${formatTokens(stats.tokens)} tokens; skipped: ${skipped}` : ''}` +
      ` · rank ${r.timings.rankMs.toFixed(0)} ms, pack ${r.timings.packMs.toFixed(0)} ms`,
  );
  return out.join('\n') + '\n';
}
