// The cost-vs-context-length plot as an SVG string (pure; unit-tested in Node).
// Log-log axes, one polyline per series (dense vs sliding window), the current
// prompt and the budget marked, a legend and axis labels. No inline styles (the
// CSP forbids them): colours come from classes styled in panel.css with theme variables.
import type { CostCurvePoint, CostCurves, PlotMetric } from '../src/shared/protocol';
import { formatBudget, formatBytes, formatFlops, formatSeconds, formatTokens, formatUsd } from '../src/core/format';

export interface PlotOptions {
  width?: number;
  height?: number;
}

export const METRIC_LABELS: Record<PlotMetric, string> = {
  attentionFlops: 'Attention FLOPs (prefill)',
  totalFlops: 'Total FLOPs (prefill)',
  kvCacheBytes: 'KV cache',
  ttftSeconds: 'Time to first token',
  priceUsd: 'Input price',
};

export const METRIC_SHORT: Record<PlotMetric, string> = {
  attentionFlops: 'Attention',
  totalFlops: 'FLOPs',
  kvCacheBytes: 'KV cache',
  ttftSeconds: 'TTFT',
  priceUsd: 'Price',
};

export function formatMetric(metric: PlotMetric, v: number | null | undefined): string {
  switch (metric) {
    case 'attentionFlops':
    case 'totalFlops':
      return formatFlops(v);
    case 'kvCacheBytes':
      return formatBytes(v);
    case 'ttftSeconds':
      return formatSeconds(v);
    case 'priceUsd':
      return formatUsd(v);
  }
}

/** Escapes text for SVG/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Decade ticks covering [min, max] (both > 0): 10^floor(log min) .. 10^ceil(log max). */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [];
  let lo = Math.floor(Math.log10(Math.min(min, max)) + 1e-9);
  let hi = Math.ceil(Math.log10(Math.max(min, max)) - 1e-9);
  if (hi === lo) hi = lo + 1;
  if (hi - lo > 40) lo = hi - 40;
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) out.push(Number(`1e${e}`));
  return out;
}

/** Points of one series with a positive, finite value for the metric. */
export function seriesValues(points: readonly CostCurvePoint[], metric: PlotMetric): Array<{ tokens: number; value: number }> {
  const out: Array<{ tokens: number; value: number }> = [];
  for (const p of points) {
    const v = p[metric];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0 && Number.isFinite(p.tokens) && p.tokens > 0) out.push({ tokens: p.tokens, value: v });
  }
  out.sort((a, b) => a.tokens - b.tokens);
  return out;
}

/** Log-log interpolation of a series at `tokens` (undefined outside its range). */
export function interpolateLogLog(values: ReadonlyArray<{ tokens: number; value: number }>, tokens: number): number | undefined {
  if (values.length === 0 || !(tokens > 0)) return undefined;
  for (let i = 0; i < values.length; i++) {
    const b = values[i];
    if (b.tokens === tokens) return b.value;
    if (b.tokens > tokens) {
      if (i === 0) return undefined;
      const a = values[i - 1];
      const t = (Math.log(tokens) - Math.log(a.tokens)) / (Math.log(b.tokens) - Math.log(a.tokens));
      return Math.exp(Math.log(a.value) + t * (Math.log(b.value) - Math.log(a.value)));
    }
  }
  return undefined;
}

const SERIES_CLASS: Record<string, string> = { dense: 'series-dense', sliding: 'series-sliding', 'local-global': 'series-local-global', model: 'series-model' };

function seriesClass(s: { kind: string; native?: boolean }): string {
  return `${SERIES_CLASS[s.kind] ?? 'series-model'}${s.native ? ' is-native' : ''}`;
}

function seriesLabel(s: { label: string; native?: boolean }): string {
  return s.native ? `${s.label} (this model)` : s.label;
}

/** Whether any series has a plottable value for `metric`. */
export function hasPlotData(curves: CostCurves | null | undefined, metric: PlotMetric): boolean {
  return !!curves && curves.series.some((s) => seriesValues(s.points, metric).length > 0);
}

/**
 * Builds the plot. Returns a complete `<svg>` element as a string; every piece of
 * text is escaped. With no plottable data it returns an SVG that says why.
 */
export function buildPlotSvg(curves: CostCurves | null | undefined, metric: PlotMetric, opts: PlotOptions = {}): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 300;
  const m = { left: 78, right: 16, top: 14, bottom: 44 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const title = `${METRIC_LABELS[metric]} vs context length${curves ? ` — ${curves.model} on ${curves.hardware}` : ''}`;
  const open = `<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="plot-title plot-desc" preserveAspectRatio="xMidYMid meet">`;
  const head = `<title id="plot-title">${escapeXml(title)}</title>`;

  const series = (curves?.series ?? []).map((s) => ({ s, values: seriesValues(s.points, metric) })).filter((x) => x.values.length > 0);
  if (!curves || series.length === 0) {
    const why = !curves
      ? 'No cost curves yet.'
      : curves.architectureKnown || metric === 'priceUsd'
        ? `No ${METRIC_SHORT[metric].toLowerCase()} data for this model and hardware.`
        : 'Architecture not public: only the price can be plotted.';
    return `${open}${head}<desc id="plot-desc">${escapeXml(why)}</desc><rect class="plot-frame" x="1" y="1" width="${W - 2}" height="${H - 2}"/><text class="plot-empty" x="${W / 2}" y="${H / 2}" dy="0.32em" text-anchor="middle">${escapeXml(why)}</text></svg>`;
  }

  let xMin = Infinity;
  let xMax = 0;
  let yMin = Infinity;
  let yMax = 0;
  for (const { values } of series) {
    for (const v of values) {
      xMin = Math.min(xMin, v.tokens);
      xMax = Math.max(xMax, v.tokens);
      yMin = Math.min(yMin, v.value);
      yMax = Math.max(yMax, v.value);
    }
  }
  const xt = logTicks(xMin, xMax);
  const yt = logTicks(yMin, yMax);
  const lx0 = Math.log10(xt[0]);
  const lx1 = Math.log10(xt[xt.length - 1]);
  const ly0 = Math.log10(yt[0]);
  const ly1 = Math.log10(yt[yt.length - 1]);
  const X = (t: number) => m.left + ((Math.log10(t) - lx0) / (lx1 - lx0)) * pw;
  const Y = (v: number) => m.top + ph - ((Math.log10(v) - ly0) / (ly1 - ly0)) * ph;
  const inX = (t: number) => t > 0 && Math.log10(t) >= lx0 - 1e-9 && Math.log10(t) <= lx1 + 1e-9;
  const f = (n: number) => n.toFixed(1);

  const parts: string[] = [open, head];
  const descBits = series.map(({ s, values }) => `${seriesLabel(s)}: ${formatMetric(metric, values[0].value)} at ${formatTokens(values[0].tokens)} tokens to ${formatMetric(metric, values[values.length - 1].value)} at ${formatTokens(values[values.length - 1].tokens)} tokens`);
  parts.push(`<desc id="plot-desc">${escapeXml(`Log-log axes. ${descBits.join('; ')}. Current prompt ${formatTokens(curves.currentTokens)} tokens, budget ${formatTokens(curves.budgetTokens)} tokens.`)}</desc>`);

  // Grid and ticks.
  parts.push('<g class="plot-grid" aria-hidden="true">');
  const xEvery = xt.length > 8 ? 2 : 1;
  xt.forEach((t, i) => {
    const x = f(X(t));
    parts.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}"/>`);
    if (i % xEvery === 0) parts.push(`<text class="tick" x="${x}" y="${m.top + ph + 14}" text-anchor="middle">${escapeXml(formatTokens(t))}</text>`);
  });
  const yEvery = yt.length > 7 ? Math.ceil(yt.length / 6) : 1;
  yt.forEach((v, i) => {
    const y = f(Y(v));
    parts.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}"/>`);
    if (i % yEvery === 0) parts.push(`<text class="tick" x="${m.left - 6}" y="${y}" dy="0.32em" text-anchor="end">${escapeXml(formatMetric(metric, v))}</text>`);
  });
  parts.push('</g>');
  parts.push(`<rect class="plot-frame" x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/>`);

  // Axis labels.
  parts.push(`<text class="axis-label" x="${m.left + pw / 2}" y="${H - 6}" text-anchor="middle">Context length (tokens, log scale)</text>`);
  parts.push(`<text class="axis-label" transform="translate(12 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(`${METRIC_LABELS[metric]} (log)`)}</text>`);

  // Markers: context limit, budget, current prompt.
  const markers: Array<{ cls: string; t: number; label: string }> = [];
  if (inX(curves.contextLimit)) markers.push({ cls: 'marker-limit', t: curves.contextLimit, label: `limit ${formatBudget(curves.contextLimit)}` });
  if (inX(curves.budgetTokens)) markers.push({ cls: 'marker-budget', t: curves.budgetTokens, label: `budget ${formatBudget(curves.budgetTokens)}` });
  if (inX(curves.currentTokens)) markers.push({ cls: 'marker-current', t: curves.currentTokens, label: `now ${formatTokens(curves.currentTokens)}` });
  let lastLabelX = -Infinity;
  let row = 0;
  for (const mk of [...markers].sort((a, b) => a.t - b.t)) {
    const x = X(mk.t);
    row = x - lastLabelX < 70 ? row + 1 : 0;
    lastLabelX = x;
    const anchor = x > m.left + pw - 60 ? 'end' : 'start';
    const dx = anchor === 'end' ? -4 : 4;
    parts.push(`<g class="marker ${mk.cls}"><line x1="${f(x)}" y1="${m.top}" x2="${f(x)}" y2="${m.top + ph}"/><text x="${f(x + dx)}" y="${m.top + ph - 6 - row * 13}" text-anchor="${anchor}">${escapeXml(mk.label)}</text></g>`);
  }

  // Series.
  for (const { s, values } of series) {
    const cls = seriesClass(s);
    const d = values.map((v, i) => `${i === 0 ? 'M' : 'L'}${f(X(v.tokens))} ${f(Y(v.value))}`).join(' ');
    parts.push(`<path class="series ${cls}" d="${d}"><title>${escapeXml(seriesLabel(s))}</title></path>`);
    const at = interpolateLogLog(values, curves.currentTokens);
    if (at !== undefined) {
      parts.push(`<circle class="dot ${cls}" cx="${f(X(curves.currentTokens))}" cy="${f(Y(at))}" r="3.5"><title>${escapeXml(`${seriesLabel(s)}: ${formatMetric(metric, at)} at ${formatTokens(curves.currentTokens)} tokens`)}</title></circle>`);
    }
  }

  // Legend (top-left, inside the frame).
  const legend = [
    ...series.map(({ s }) => ({ cls: `series ${seriesClass(s)}`, label: seriesLabel(s) })),
    ...markers.map((mk) => ({ cls: `marker ${mk.cls}`, label: mk.cls === 'marker-current' ? 'Current prompt' : mk.cls === 'marker-budget' ? 'Budget' : 'Context limit' })),
  ];
  const lw = Math.min(220, Math.max(...legend.map((l) => l.label.length)) * 6.2 + 36);
  parts.push(`<g class="legend"><rect class="legend-box" x="${m.left + 8}" y="${m.top + 8}" width="${f(lw)}" height="${legend.length * 15 + 8}"/>`);
  legend.forEach((l, i) => {
    const y = m.top + 8 + 12 + i * 15;
    parts.push(`<g class="${l.cls}"><line x1="${m.left + 16}" y1="${y - 4}" x2="${m.left + 38}" y2="${y - 4}"/></g><text x="${m.left + 44}" y="${y}">${escapeXml(l.label)}</text>`);
  });
  parts.push('</g></svg>');
  return parts.join('');
}
