// The cost-vs-context-length SVG (pure string building).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CostCurves } from '../../src/shared/protocol';
import { PLOT_METRICS } from '../../src/shared/protocol';
import { buildPlotSvg, escapeXml, hasPlotData, interpolateLogLog, logTicks, seriesValues } from '../../webview/plot';
import { sampleState } from '../../webview/dev/sampleState';

const curves = (): CostCurves => sampleState().curves!;

/** Every `<tag ...>` opened is closed (or self-closed), in order. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
}

function pathPoints(svg: string, cls: string): Array<[number, number]> {
  const m = new RegExp(`<path class="series ${cls}[^"]*" d="([^"]+)"`).exec(svg);
  assert.ok(m, `no path for ${cls}`);
  return m[1].split(/[ML]/).filter(Boolean).map((p) => p.trim().split(' ').map(Number) as [number, number]);
}

describe('webview plot', () => {
  it('draws dense and sliding-window series with a legend, axis labels and markers', () => {
    const svg = buildPlotSvg(curves(), 'attentionFlops');
    assert.match(svg, /^<svg [^>]*role="img"/);
    assert.match(svg, /class="series series-dense is-native"/);
    assert.match(svg, /class="series series-sliding"/);
    assert.match(svg, /Context length \(tokens, log scale\)/);
    assert.match(svg, /Attention FLOPs \(prefill\) \(log\)/);
    assert.match(svg, /class="marker marker-current"/);
    assert.match(svg, /class="marker marker-budget"/);
    assert.match(svg, /class="marker marker-limit"/);
    assert.match(svg, />budget 8k</);
    assert.match(svg, />limit 128k</);
    assert.match(svg, />dense \(causal\) \(this model\)</);
    assert.match(svg, />Current prompt</);
    assert.match(svg, /<title id="plot-title">/);
    assert.match(svg, /<desc id="plot-desc">Log-log axes\./);
    assertBalanced(svg);
  });

  it('uses no inline styles or scripts (the CSP forbids them)', () => {
    for (const m of PLOT_METRICS) {
      const svg = buildPlotSvg(curves(), m);
      assert.doesNotMatch(svg, /style=|<style|<script|on[a-z]+=|javascript:/i, m);
    }
  });

  it('escapes every host-provided string', () => {
    const c = curves();
    c.model = '<script>alert(1)</script>';
    c.hardware = '"quoted" & <b>';
    c.series[0].label = '<img src=x onerror=alert(1)>';
    const svg = buildPlotSvg(c, 'attentionFlops');
    assert.doesNotMatch(svg, /<script|<img|<b>/);
    assert.match(svg, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(svg, /&quot;quoted&quot; &amp; &lt;b&gt;/);
    assertBalanced(svg);
  });

  it('maps log-log: the dense curve gets steeper than the sliding window beyond the window', () => {
    const svg = buildPlotSvg(curves(), 'attentionFlops', { width: 640, height: 300 });
    const dense = pathPoints(svg, 'series-dense');
    const sliding = pathPoints(svg, 'series-sliding');
    assert.equal(dense.length, sliding.length);
    // x increases, y decreases (up the screen) along each curve.
    for (let i = 1; i < dense.length; i++) {
      assert.ok(dense[i][0] > dense[i - 1][0]);
      assert.ok(dense[i][1] < dense[i - 1][1]);
    }
    // Below the window the curves coincide; at the end dense is far above (smaller y).
    assert.equal(dense[0][1], sliding[0][1]);
    assert.ok(dense[dense.length - 1][1] < sliding[sliding.length - 1][1] - 20);
    // Dense attention is ~quadratic: equal steps in log x give ~2x the steps in log y of the linear part.
    const n = dense.length;
    const slopeEnd = (dense[n - 2][1] - dense[n - 1][1]) / (dense[n - 1][0] - dense[n - 2][0]);
    const slideEnd = (sliding[n - 2][1] - sliding[n - 1][1]) / (sliding[n - 1][0] - sliding[n - 2][0]);
    assert.ok(slopeEnd > 1.7 * slideEnd, `${slopeEnd} vs ${slideEnd}`);
    for (const [x, y] of [...dense, ...sliding]) {
      assert.ok(x >= 0 && x <= 640 && y >= 0 && y <= 300, `${x},${y} outside the view box`);
    }
  });

  it('says why when there is nothing to plot', () => {
    assert.match(buildPlotSvg(null, 'ttftSeconds'), /No cost curves yet\./);
    const c = curves();
    c.architectureKnown = false;
    for (const s of c.series) for (const p of s.points) p.attentionFlops = null;
    assert.equal(hasPlotData(c, 'attentionFlops'), false);
    assert.equal(hasPlotData(c, 'priceUsd'), true);
    const svg = buildPlotSvg(c, 'attentionFlops');
    assert.match(svg, /Architecture not public: only the price can be plotted\./);
    assert.doesNotMatch(svg, /<path/);
    assertBalanced(svg);
    assert.match(buildPlotSvg(c, 'priceUsd'), /<path class="series/);
  });

  it('skips null, zero and non-finite points', () => {
    const v = seriesValues(
      [
        { tokens: 100, totalFlops: 1, attentionFlops: null, kvCacheBytes: 0, ttftSeconds: NaN, priceUsd: 1 },
        { tokens: 0, totalFlops: 1, attentionFlops: 1, kvCacheBytes: 1, ttftSeconds: 1, priceUsd: 1 },
        { tokens: 200, totalFlops: 2, attentionFlops: 4, kvCacheBytes: 2, ttftSeconds: 2, priceUsd: 2 },
      ],
      'attentionFlops',
    );
    assert.deepEqual(v, [{ tokens: 200, value: 4 }]);
  });

  it('log ticks cover the range in whole decades', () => {
    assert.deepEqual(logTicks(256, 131072), [100, 1000, 10000, 100000, 1000000]);
    assert.deepEqual(logTicks(1000, 1000), [1000, 10000]);
    assert.deepEqual(logTicks(0.002, 0.3), [0.001, 0.01, 0.1, 1]);
    assert.deepEqual(logTicks(0, 10), []);
    assert.deepEqual(logTicks(NaN, 10), []);
  });

  it('interpolates in log-log space and not outside the data', () => {
    const vals = [
      { tokens: 1000, value: 1e6 },
      { tokens: 4000, value: 16e6 },
    ];
    assert.ok(Math.abs(interpolateLogLog(vals, 2000)! - 4e6) < 1);
    assert.equal(interpolateLogLog(vals, 1000), 1e6);
    assert.equal(interpolateLogLog(vals, 500), undefined);
    assert.equal(interpolateLogLog(vals, 8000), undefined);
  });

  it('escapeXml covers the five special characters', () => {
    assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
