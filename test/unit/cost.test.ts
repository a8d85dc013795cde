// The attention cost model: the exact checks, the stated convention,
// hosted models, pricing arithmetic, curves and what-if comparisons.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  attentionFlops,
  causalKeyPairs,
  compareCurves,
  comparePatterns,
  costCurve,
  curveLengths,
  DEFAULT_COMPUTE_EFFICIENCY,
  estimateCost,
  kvBytesPerTokenPerLayer,
  kvCacheBytes,
  layerWindows,
  patternsFor,
  trimSaving,
} from '../../src/core/cost/costModel';
import { loadProfiles } from '../../src/core/cost/profiles';
import type { HardwareProfile, ModelProfile } from '../../src/core/cost/types';

const { models, hardware } = loadProfiles();
const model = (id: string): ModelProfile => {
  const m = models.get(id);
  assert.ok(m, `model ${id}`);
  return m;
};
const H100 = hardware.get('h100-sxm')!;
const KiB = 1024;
const GiB = 1024 ** 3;

test('Llama-3.1-8B KV cache: 128 KiB per token, 1 GiB at 8,192, 16 GiB at 131,072', () => {
  const m = model('llama-3.1-8b');
  const a = m.architecture!;
  assert.equal(a.layers, 32);
  assert.equal(a.kvHeads, 8);
  assert.equal(a.headDim, 128);
  assert.equal(a.kvBytesPerElement, 2);
  assert.equal(kvBytesPerTokenPerLayer(a) * a.layers, 128 * KiB);
  assert.equal(kvCacheBytes(a, 1), 128 * KiB);
  assert.equal(estimateCost(m, H100, { inputTokens: 8192 }).kvCacheBytes, 1 * GiB);
  assert.equal(estimateCost(m, H100, { inputTokens: 131072 }).kvCacheBytes, 16 * GiB);
});

test('Llama-3.1-70B KV cache: 320 KiB per token, 40 GiB at 131,072', () => {
  const m = model('llama-3.1-70b');
  assert.equal(kvCacheBytes(m.architecture!, 1), 320 * KiB);
  assert.equal(estimateCost(m, H100, { inputTokens: 131072 }).kvCacheBytes, 40 * GiB);
});

test('KV cache counts output tokens too (cache after the request)', () => {
  const m = model('llama-3.1-8b');
  assert.equal(estimateCost(m, H100, { inputTokens: 8000, outputTokens: 192 }).kvCacheBytes, 1 * GiB);
});

test('causal convention: query i sees i keys (lower triangle with the diagonal)', () => {
  assert.equal(causalKeyPairs(1), 1);
  assert.equal(causalKeyPairs(4), 10);
  assert.equal(causalKeyPairs(0), 0);
  // Brute-force sum of min(i, w) agrees with the closed form.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 5000 }), (n, w) => {
      let s = 0;
      for (let i = 1; i <= n; i++) s += Math.min(i, w);
      return causalKeyPairs(n, w) === s;
    }),
    { numRuns: 200 },
  );
});

test('dense causal attention FLOPs scale by 4(2n+1)/(2n+2), i.e. 4x, when n doubles', () => {
  const a = model('llama-3.1-8b').architecture!;
  for (const n of [1024, 8192, 16384, 65536]) {
    const r = attentionFlops(a, 2 * n) / attentionFlops(a, n);
    assert.equal(r, (4 * (2 * n + 1)) / (2 * n + 2));
    assert.ok(Math.abs(r - 4) < 4 / n);
  }
});

test('sliding window 4,096: from 16k to 32k the cost grows linearly (exact pair counts)', () => {
  const a = model('mistral-7b').architecture!;
  assert.deepEqual(a.pattern, { kind: 'sliding', window: 4096 });
  const f16 = attentionFlops(a, 16384);
  const f32 = attentionFlops(a, 32768);
  const perPair = 32 * 2 * (4096 + 4096); // layers x 2 x (d_qk + d_v)
  // sum_{i<=n} min(i, 4096): 58,722,304 pairs at 16k, 125,831,168 at 32k.
  assert.equal(f16, perPair * 58_722_304);
  assert.equal(f32, perPair * 125_831_168);
  // The added 16,384 queries each see exactly 4,096 keys: the increment doubles with n ...
  assert.equal(f32 - f16, perPair * 16384 * 4096);
  assert.equal(attentionFlops(a, 65536) - f32, 2 * (f32 - f16));
  // ... and the ratio is 2.1428 (the first 4,096 queries see fewer keys), tending to 2.
  assert.ok(Math.abs(f32 / f16 - 2.142817) < 1e-6);
  assert.ok(Math.abs(attentionFlops(a, 2 ** 21) / attentionFlops(a, 2 ** 20) - 2) < 0.003);
  // Versus dense at 32k, far cheaper.
  assert.ok(f32 < attentionFlops(a, 32768, { kind: 'dense' }) / 3);
});

test('Llama-3.1-8B attention share: 0.117954 at 8,192 (about 12%), 0.681469 at 131,072 (majority)', () => {
  const m = model('llama-3.1-8b');
  const e8 = estimateCost(m, H100, { inputTokens: 8192 });
  assert.equal(e8.attentionFlops, 17_594_333_528_064);
  assert.equal(e8.linearFlops, 131_567_800_287_232);
  assert.equal(e8.totalFlops, 149_162_133_815_296);
  assert.ok(Math.abs(e8.attentionShare! - 0.117954) < 1e-6);
  const e128 = estimateCost(m, H100, { inputTokens: 131072 });
  assert.equal(e128.attentionFlops, 4_503_633_987_108_864);
  assert.ok(Math.abs(e128.attentionShare! - 0.681469) < 1e-6);
  assert.ok(e128.attentionShare! > 0.5);
});

test('Gemma 2 local/global: 21 local + 21 global layers; local layers cache at most 4,096 tokens', () => {
  const m = model('gemma-2-9b');
  const a = m.architecture!;
  const w = layerWindows(a.layers, a.pattern);
  assert.equal(w.filter((x) => x === 4096).length, 21);
  assert.equal(w.filter((x) => x === Infinity).length, 21);
  assert.equal(w[0], 4096); // even layers are local
  const perLayer = 2 * 8 * 256 * 2;
  assert.equal(kvCacheBytes(a, 8192), 21 * perLayer * 8192 + 21 * perLayer * 4096);
  const d = 2 * (16 * 256 + 16 * 256);
  assert.equal(attentionFlops(a, 8192), d * (21 * causalKeyPairs(8192) + 21 * causalKeyPairs(8192, 4096)));
  // Below the window the pattern does not matter.
  assert.equal(attentionFlops(a, 4096), attentionFlops(a, 4096, { kind: 'dense' }));
});

test('MLA (DeepSeek-Coder-V2-Lite): KV cache is the 576-element latent; MoE uses active params', () => {
  const m = model('deepseek-coder-v2-lite');
  const a = m.architecture!;
  assert.equal(kvCacheBytes(a, 1), 27 * 576 * 2);
  const e = estimateCost(m, H100, { inputTokens: 1000 });
  assert.equal(e.linearFlops, 2 * a.activeParams * 1000);
  assert.equal(e.attentionFlops, 27 * 2 * (16 * 192 + 16 * 128) * causalKeyPairs(1000));
  assert.equal(e.weightsBytes, a.totalParams * 2);
  assert.ok(e.notes.some((n) => /Mixture of experts/.test(n)));
});

test('hosted models: architecture-derived figures are null, never numbers; price is set', () => {
  for (const id of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'claude-sonnet-4', 'claude-3.5-haiku', 'gemini-2.5-pro', 'gemini-2.5-flash']) {
    const m = model(id);
    assert.equal(m.architecture, null, id);
    const e = estimateCost(m, H100, { inputTokens: 5000, outputTokens: 100 });
    assert.equal(e.architectureKnown, false);
    for (const k of ['linearFlops', 'attentionFlops', 'totalFlops', 'attentionShare', 'kvCacheBytes', 'weightsBytes', 'fitsInMemory', 'ttftSeconds', 'decodeSecondsPerToken', 'decodeTokensPerSecond'] as const) {
      assert.equal(e[k], null, `${id}.${k}`);
    }
    assert.equal(typeof e.priceUsd, 'number', id);
    assert.ok(e.priceUsd! > 0);
    assert.deepEqual(patternsFor(m), []);
  }
});

test('open models without a list price give null prices', () => {
  const e = estimateCost(model('codestral-22b'), H100, { inputTokens: 1000, outputTokens: 10 });
  assert.equal(e.priceUsd, null);
  assert.equal(e.inputPriceUsd, null);
  assert.equal(typeof e.totalFlops, 'number');
});

test('pricing arithmetic: uncached input + cached input + output', () => {
  const m = model('gpt-4o'); // $2.50 / $1.25 cached / $10 per 1M
  const e = estimateCost(m, H100, { inputTokens: 100_000, cachedInputTokens: 40_000, outputTokens: 2_000 });
  assert.equal(e.inputPriceUsd, (60_000 * 2.5) / 1e6);
  assert.equal(e.cachedInputPriceUsd, (40_000 * 1.25) / 1e6);
  assert.equal(e.outputPriceUsd, (2_000 * 10) / 1e6);
  assert.ok(Math.abs(e.priceUsd! - (0.15 + 0.05 + 0.02)) < 1e-12);
});

test('pricing: Gemini 2.5 Pro switches to long-context rates above 200k prompt tokens', () => {
  const m = model('gemini-2.5-pro');
  const low = estimateCost(m, H100, { inputTokens: 200_000, outputTokens: 1000 });
  assert.ok(Math.abs(low.priceUsd! - (200_000 * 1.25 + 1000 * 10) / 1e6) < 1e-12);
  const high = estimateCost(m, H100, { inputTokens: 200_001, outputTokens: 1000 });
  assert.ok(Math.abs(high.priceUsd! - (200_001 * 2.5 + 1000 * 15) / 1e6) < 1e-12);
  assert.ok(high.notes.some((n) => /long-context/.test(n)));
});

test('pricing: no cached discount charges cached tokens at the input price, with a note', () => {
  const m: ModelProfile = { ...model('gpt-4o'), price: { inputPerMTok: 1, cachedInputPerMTok: null, outputPerMTok: 2 } };
  const e = estimateCost(m, H100, { inputTokens: 1_000_000, cachedInputTokens: 500_000 });
  assert.equal(e.cachedInputPriceUsd, 0.5);
  assert.equal(e.priceUsd, 1);
  assert.ok(e.notes.some((n) => /No cached-input discount/.test(n)));
});

test('roofline TTFT and memory-bound decode follow the stated formulas', () => {
  const m = model('llama-3.1-8b');
  const a = m.architecture!;
  const e = estimateCost(m, H100, { inputTokens: 8192 });
  const compute = e.totalFlops! / (H100.peakFlops * DEFAULT_COMPUTE_EFFICIENCY);
  const memory = (a.totalParams * 2 + GiB) / H100.memoryBandwidth;
  assert.equal(e.ttftSeconds, Math.max(compute, memory));
  assert.ok(compute > memory); // prefill of 8k tokens is compute-bound on an H100
  // Decode with m = 0: the next step at context 8,192 reads weights + the 1 GiB cache.
  assert.ok(Math.abs(e.decodeSecondsPerToken! - (a.activeParams * 2 + GiB) / H100.memoryBandwidth) < 1e-12);
  assert.ok(Math.abs(e.decodeTokensPerSecond! * e.decodeSecondsPerToken! - 1) < 1e-12);
  // Overridable efficiency: halving it doubles the compute-bound TTFT.
  const e2 = estimateCost(m, H100, { inputTokens: 8192, computeEfficiency: DEFAULT_COMPUTE_EFFICIENCY / 2 });
  assert.ok(Math.abs(e2.ttftSeconds! / e.ttftSeconds! - 2) < 1e-9);
  const hw: HardwareProfile = { ...H100, computeEfficiency: 0.8 };
  assert.ok(Math.abs(estimateCost(m, hw, { inputTokens: 8192 }).ttftSeconds! - e.totalFlops! / (H100.peakFlops * 0.8)) < 1e-12);
});

test('decode averages the KV read over the output steps', () => {
  const m = model('llama-3.1-8b');
  const a = m.architecture!;
  const e = estimateCost(m, H100, { inputTokens: 1000, outputTokens: 101 });
  // contexts 1000..1100, mean 1050 tokens of 128 KiB
  const bytes = a.activeParams * 2 + 1050 * 128 * KiB;
  assert.ok(Math.abs(e.decodeSecondsPerToken! - bytes / H100.memoryBandwidth) < 1e-12);
});

test('fits in memory: 70B bf16 fits an H100 only without a long cache; never an L4', () => {
  const m = model('llama-3.1-70b');
  const l4 = hardware.get('l4')!;
  assert.equal(estimateCost(m, l4, { inputTokens: 10 }).fitsInMemory, false);
  // 141 GB of weights exceed 80 GB
  assert.equal(estimateCost(m, H100, { inputTokens: 10 }).fitsInMemory, false);
  const small = model('llama-3.1-8b');
  assert.equal(estimateCost(small, H100, { inputTokens: 8192 }).fitsInMemory, true);
  assert.equal(estimateCost(small, l4, { inputTokens: 131072 }).fitsInMemory, false);
});

test('context limit overflow is noted; invalid counts throw RangeError', () => {
  const m = model('gemma-2-9b');
  assert.ok(estimateCost(m, H100, { inputTokens: 9000 }).notes.some((n) => /exceeds the model's context limit/.test(n)));
  assert.throws(() => estimateCost(m, H100, { inputTokens: -1 }), RangeError);
  assert.throws(() => estimateCost(m, H100, { inputTokens: 1.5 }), RangeError);
  assert.throws(() => estimateCost(m, H100, { inputTokens: 10, cachedInputTokens: 11 }), RangeError);
  assert.throws(() => estimateCost(m, H100, { inputTokens: 10, computeEfficiency: 0 }), RangeError);
  const zero = estimateCost(m, H100, { inputTokens: 0 });
  assert.equal(zero.totalFlops, 0);
  assert.equal(zero.ttftSeconds, 0);
});

test('curves: every figure is monotone non-decreasing in n, for every built-in model', () => {
  for (const m of models.values()) {
    const pts = costCurve(m, H100, curveLengths(m.contextLength, 5000));
    for (let i = 1; i < pts.length; i++) {
      const [p, q] = [pts[i - 1], pts[i]];
      assert.ok(q.tokens > p.tokens);
      for (const k of ['totalFlops', 'attentionFlops', 'kvCacheBytes', 'ttftSeconds', 'priceUsd'] as const) {
        if (p[k] === null) assert.equal(q[k], null);
        else assert.ok(q[k]! >= p[k]!, `${m.id} ${k} at ${q.tokens}`);
      }
    }
  }
  // Attention share grows with n for a dense model.
  const shares = costCurve(model('llama-3.1-8b'), H100, [1024, 8192, 65536]).map((p) => p.attentionShare!);
  assert.ok(shares[0] < shares[1] && shares[1] < shares[2]);
});

test('curveLengths: powers of two up to the limit, plus the limit and the current window', () => {
  assert.deepEqual(curveLengths(4096, 3000), [256, 512, 1024, 2048, 3000, 4096]);
  assert.deepEqual(curveLengths(1000), [256, 512, 1000]);
});

test('patternsFor and what-if comparisons for the same window', () => {
  const m = model('llama-3.1-8b');
  const opts = patternsFor(m);
  assert.deepEqual(opts.map((o) => o.id), ['dense', 'sliding-4096', 'local-global-1-1-4096']);
  assert.equal(opts[0].native, true);
  assert.deepEqual(patternsFor(model('gemma-2-9b')).map((o) => o.id), ['local-global-1-1-4096', 'dense', 'sliding-4096']);
  const cmp = comparePatterns(m, H100, { inputTokens: 32768 });
  assert.equal(cmp[0].attentionVsNative, 1);
  const sliding = cmp.find((c) => c.id === 'sliding-4096')!;
  assert.equal(sliding.estimate.attentionFlops, attentionFlops(m.architecture!, 32768, { kind: 'sliding', window: 4096 }));
  assert.ok(sliding.attentionVsNative! < 0.3);
  assert.equal(sliding.estimate.kvCacheBytes, 4096 * 128 * KiB);
  const lg = cmp.find((c) => c.id === 'local-global-1-1-4096')!;
  assert.ok(lg.attentionVsNative! > sliding.attentionVsNative! && lg.attentionVsNative! < 1);
  assert.ok(sliding.estimate.notes.some((n) => /What-if/.test(n)));
  const curves = compareCurves(m, H100, [1024, 8192, 32768]);
  assert.equal(curves.length, 3);
  assert.equal(curves[1].points[2].attentionFlops, sliding.estimate.attentionFlops);
});

test('trimSaving: trimming to the packer budget saves the difference', () => {
  const m = model('llama-3.1-8b');
  const s = trimSaving(m, H100, { inputTokens: 20000, cachedInputTokens: 15000 }, 8192);
  assert.equal(s.trimmed.inputTokens, 8192);
  assert.equal(s.trimmed.cachedInputTokens, 8192);
  assert.equal(s.saved.inputTokens, 20000 - 8192);
  assert.equal(s.saved.kvCacheBytes, (20000 - 8192) * 128 * KiB);
  assert.equal(s.saved.totalFlops, s.full.totalFlops! - s.trimmed.totalFlops!);
  assert.equal(s.saved.priceUsd, null);
  const hosted = trimSaving(model('gpt-4o'), H100, { inputTokens: 20000 }, 8192);
  assert.equal(hosted.saved.totalFlops, null);
  assert.ok(Math.abs(hosted.saved.priceUsd! - (11808 * 2.5) / 1e6) < 1e-12);
  // No trim when the window is already within budget.
  assert.equal(trimSaving(m, H100, { inputTokens: 100 }, 8192).saved.totalFlops, 0);
});

test('MoE decode at batch 1 reads only the active experts; memory holds all of them', () => {
  const m = model('mixtral-8x7b');
  const a = m.architecture!;
  assert.ok(a.activeParams < a.totalParams / 3);
  const e = estimateCost(m, H100, { inputTokens: 4096 });
  const kv = 4096 * kvBytesPerTokenPerLayer(a) * a.layers;
  assert.ok(Math.abs(e.decodeSecondsPerToken! - (a.activeParams * 2 + kv) / H100.memoryBandwidth) < 1e-12);
  assert.equal(e.weightsBytes, a.totalParams * 2);
  assert.equal(e.fitsInMemory, false); // 93 GB of bf16 weights > 80 GB
});

test('bench growth-exponent fit recovers known power laws', async () => {
  const { logLogSlope } = await import('../../bench/cost.bench');
  const xs = [512, 1024, 2048, 4096];
  assert.ok(Math.abs(logLogSlope(xs, xs.map((x) => 3 * x * x)) - 2) < 1e-12);
  assert.ok(Math.abs(logLogSlope(xs, xs.map((x) => x ** 1.5)) - 1.5) < 1e-12);
});
