// What the status bar item says. Pure: the text, tooltip markdown and severity
// come from a report, so they are tested without VS Code.
import { formatBytes, formatFlops, formatSeconds, formatPrice, formatTokens } from '../core/format';
import type { ContextReport } from '../core/report';

export type Severity = 'normal' | 'warning' | 'error';

export interface StatusView {
  text: string;
  /** Screen-reader label with the exact figures (the visible text rounds them). */
  ariaLabel: string;
  tooltip: string;
  severity: Severity;
}

export function statusSeverity(used: number, budget: number, warnAt: number, errorAt: number): Severity {
  if (budget <= 0) return used > 0 ? 'error' : 'normal';
  const share = used / budget;
  if (share > errorAt) return 'error';
  if (share >= warnAt) return 'warning';
  return 'normal';
}

export function statusView(r: ContextReport, thresholds: { warnAt: number; errorAt: number }): StatusView {
  const c = r.cost;
  const used = r.totals.promptTokens;
  const parts = [`$(symbol-ruler) ${formatTokens(used)} / ${formatTokens(r.budget)}`];
  if (c.attentionShare !== null) parts.push(`${Math.round(c.attentionShare * 100)}% attn`);
  parts.push(formatPrice(c.priceUsd));
  const s = r.budgetSplit;
  const lines = [
    `**Context Budget** — ${escapeMd(r.modelName)} (\`${r.encoding}\`) on ${escapeMd(r.hardware)}`,
    '',
    `| | tokens |`,
    `|---|---:|`,
    `| Cursor window (lines ${r.cursor.startLine}–${r.cursor.endLine}) | ${s.cursor.toLocaleString('en-US')} |`,
    `| Pinned | ${s.pinned.toLocaleString('en-US')} |`,
    `| Retrieved (${r.items.filter((i) => i.selected).length} chunks) | ${s.retrieved.toLocaleString('en-US')} |`,
    `| **Prompt (exact)** | **${used.toLocaleString('en-US')}** of ${r.budget.toLocaleString('en-US')} |`,
    `| Reserve for output | ${s.reserve.toLocaleString('en-US')} |`,
    `| Context limit | ${s.contextLimit.toLocaleString('en-US')} |`,
    '',
  ];
  if (c.architectureKnown) {
    lines.push(
      `Attention ${formatFlops(c.attentionFlops)} (${((c.attentionShare ?? 0) * 100).toFixed(1)}% of ${formatFlops(c.totalFlops)}) · KV cache ${formatBytes(c.kvCacheBytes)}`,
      '',
      `Time to first token ≈ ${formatSeconds(c.ttftSeconds)} · decode ≈ ${c.decodeTokensPerSecond?.toFixed(0) ?? '–'} tok/s · ${formatPrice(c.priceUsd)}`,
    );
  } else {
    lines.push(`Price ${formatPrice(c.priceUsd)} for ${c.inputTokens.toLocaleString('en-US')} in + ${c.outputTokens.toLocaleString('en-US')} out. Architecture not public: no FLOPs or latency.`);
  }
  lines.push('', `Ranker: ${r.device}${r.rankerNote ? ` — ${escapeMd(r.rankerNote)}` : ''}`, '', 'Click to open the budget panel.');
  const ariaLabel =
    `Context Budget: prompt ${used} of ${r.budget} tokens, cursor window ${r.cursor.tokens} tokens (lines ${r.cursor.startLine} to ${r.cursor.endLine})` +
    `${c.attentionShare !== null ? `, attention ${Math.round(c.attentionShare * 100)} percent of prefill` : ''}${c.priceUsd !== null ? `, ${formatPrice(c.priceUsd)}` : ''}`;
  return { text: parts.join(' · '), ariaLabel, tooltip: lines.join('\n'), severity: statusSeverity(used, r.budget, thresholds.warnAt, thresholds.errorAt) };
}

export function escapeMd(s: string): string {
  return s.replace(/([\\`*_{}[\]()#+\-.!|<>])/g, '\\$1');
}
