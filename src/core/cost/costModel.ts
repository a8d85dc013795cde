// The attention cost model: what a context window of n input tokens and m output
// tokens costs in compute, memory, time and money, for a model on a piece of hardware.
//
// CONVENTION (the README states the same; every figure below follows from it):
// - FLOPs count a multiply-add as 2 FLOPs. Batch size 1, one request.
// - Linear (non-attention) prefill FLOPs = 2 x activeParams x n. activeParams is
//   the published/computed parameter count used per token (all parameters for a
//   dense model, shared + routed-active experts for MoE), embeddings included.
// - Attention prefill FLOPs, per layer: QK^T costs 2 x n_keys x d_qk and AV costs
//   2 x n_keys x d_v per query, where d_qk = heads x headDim and d_v = heads x
//   vHeadDim (= d_qk unless the model says otherwise, e.g. MLA). Summed over queries.
// - Causal masking counts the lower triangle INCLUDING the diagonal: query i
//   (1-based) sees i keys, so a dense layer sees n(n+1)/2 query-key pairs.
// - Sliding window w: query i sees min(i, w) keys (itself and the w-1 before it),
//   so a layer sees sum_{i=1..n} min(i, w) = w(w+1)/2 + (n - w) w pairs for n >= w.
//   Consequence: beyond the window the cost grows linearly. Doubling n from 16,384
//   to 32,768 with w = 4,096 multiplies it by 125,831,168 / 58,722,304 = 2.1428
//   (not exactly 2: the first w queries see fewer keys); the increment
//   F(2n) - F(n) = n x w pairs is exact. The shorthand n x min(n, w)
//   ignores that warm-up triangle.
// - Local/global models: layer l (0-based) is local (windowed) when
//   l mod (localLayers + globalLayers) < localLayers, else dense; layers are mixed
//   by count (Gemma 2: 21 local + 21 global of 42).
// - Dense causal attention therefore costs 2 (d_qk + d_v) n(n+1)/2 per layer:
//   doubling n multiplies it by 4 (2n+1)/(2n+2), i.e. 4 up to 1/(2n+2).
// - Worked figures for Llama-3.1-8B (32 layers, d = 4096, 8,030,261,248 params):
//     n = 8,192:   attention 17,594,333,528,064, linear 131,567,800,287,232,
//                  attention share 0.117954 (about 12%);
//     n = 131,072: attention 4,503,633,987,108,864, linear 2,105,084,804,595,712,
//                  attention share 0.681469 (the majority).
// - KV cache bytes = sum over layers of perLayerElements x kvBytesPerElement x
//   cached tokens, perLayerElements = kvHeads x (headDim + vHeadDim) (i.e. 2 x
//   kvHeads x headDim) unless the model caches something else (MLA's latent);
//   windowed layers cache at most w tokens. kvCacheBytes is the cache after the
//   request: n + m tokens. Llama-3.1-8B: 128 KiB/token, 1 GiB at 8,192 tokens.
// - Weights bytes = totalParams x bytesPerParam; fitsInMemory = weights + KV cache
//   <= the hardware's memory.
// - Time to first token (roofline) = max(totalFlops / (peakFlops x computeEfficiency),
//   (weightsBytes + KV written) / (memoryBandwidth x bandwidthEfficiency)).
//   computeEfficiency defaults to DEFAULT_COMPUTE_EFFICIENCY (0.4; overridable per
//   hardware profile and per request); bandwidthEfficiency defaults to 1 (the bound).
// - Decode, per output token: roofline of (2 x activeParams + attention for one
//   query) FLOPs against (activeParams x bytesPerParam + KV cache read) bytes; at
//   batch 1 the bytes win (memory-bound). Averaged over the m output steps (the
//   step at context n when m = 0). MoE reads only the active experts' weights.
// - Money: uncached input x input price + cached input x cached price (input price
//   when the provider has no discount) + output x output price, per 1M tokens;
//   tiered prices switch on the prompt length.
// - Hosted models with no public architecture get null for every
//   architecture-derived figure: never invented numbers.
// - cachedInputTokens change the price only; FLOPs and time are for the whole window.
import type { AttentionPattern, CostEstimate, CostRequest, HardwareProfile, ModelArchitecture, ModelProfile } from './types';

export const DEFAULT_COMPUTE_EFFICIENCY = 0.4;
export const DEFAULT_BANDWIDTH_EFFICIENCY = 1;

/** Query-key pairs of one causal layer: sum_{i=1..n} min(i, window). */
export function causalKeyPairs(n: number, window = Infinity): number {
  if (n <= 0) return 0;
  if (n <= window) return (n * (n + 1)) / 2;
  return (window * (window + 1)) / 2 + (n - window) * window;
}

/** Per-layer window (Infinity = global/dense) under a pattern. */
export function layerWindows(layers: number, pattern: AttentionPattern): number[] {
  const out: number[] = [];
  for (let l = 0; l < layers; l++) {
    if (pattern.kind === 'dense') out.push(Infinity);
    else if (pattern.kind === 'sliding') out.push(pattern.window);
    else out.push(l % (pattern.localLayers + pattern.globalLayers) < pattern.localLayers ? pattern.window : Infinity);
  }
  return out;
}

function dims(a: ModelArchitecture): { dQk: number; dV: number } {
  return { dQk: a.attentionHeads * a.headDim, dV: a.attentionHeads * (a.vHeadDim ?? a.headDim) };
}

/** Causal attention FLOPs of one prefill of n tokens (QK^T + AV, all layers). */
export function attentionFlops(a: ModelArchitecture, n: number, pattern: AttentionPattern = a.pattern): number {
  const { dQk, dV } = dims(a);
  let pairs = 0;
  for (const w of layerWindows(a.layers, pattern)) pairs += causalKeyPairs(n, w);
  return 2 * (dQk + dV) * pairs;
}

/** KV-cache bytes per token per layer (before any window cap). */
export function kvBytesPerTokenPerLayer(a: ModelArchitecture): number {
  const elements = a.kvCacheElementsPerLayer ?? a.kvHeads * (a.headDim + (a.vHeadDim ?? a.headDim));
  return elements * a.kvBytesPerElement;
}

/** KV-cache bytes holding `tokens` tokens (windowed layers keep at most w). */
export function kvCacheBytes(a: ModelArchitecture, tokens: number, pattern: AttentionPattern = a.pattern): number {
  const per = kvBytesPerTokenPerLayer(a);
  let total = 0;
  for (const w of layerWindows(a.layers, pattern)) total += per * Math.min(tokens, w);
  return total;
}

/** sum_{c=from..to} min(c, w), integers, from >= 0. */
function sumMin(from: number, to: number, w: number): number {
  if (to < from) return 0;
  const s = (k: number): number => (k <= 0 ? 0 : causalKeyPairs(k, w));
  return s(to) - s(from - 1);
}

export function weightsBytes(a: ModelArchitecture): number {
  return a.totalParams * a.bytesPerParam;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer (got ${v})`);
}

function describePattern(p: AttentionPattern): string {
  if (p.kind === 'dense') return 'dense causal attention';
  if (p.kind === 'sliding') return `sliding-window attention (w = ${p.window})`;
  return `local/global attention (${p.localLayers}:${p.globalLayers}, local window ${p.window})`;
}

function samePattern(a: AttentionPattern, b: AttentionPattern): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

interface PriceParts {
  inputPriceUsd: number | null;
  cachedInputPriceUsd: number | null;
  outputPriceUsd: number | null;
  priceUsd: number | null;
}

function priceOf(model: ModelProfile, n: number, k: number, m: number, notes: string[]): PriceParts {
  const p = model.price;
  if (!p) {
    notes.push('No list price for this model (self-hosted or unknown): price not estimated.');
    return { inputPriceUsd: null, cachedInputPriceUsd: null, outputPriceUsd: null, priceUsd: null };
  }
  let rates: { inputPerMTok: number; cachedInputPerMTok: number | null; outputPerMTok: number } = p;
  if (p.longContext && n > p.longContext.aboveInputTokens) {
    rates = p.longContext;
    notes.push(`Prompt above ${p.longContext.aboveInputTokens} tokens: long-context prices apply to the whole request.`);
  }
  if (k > 0 && rates.cachedInputPerMTok === null) notes.push('No cached-input discount for this model: cached tokens are charged at the input price.');
  const inputPriceUsd = ((n - k) * rates.inputPerMTok) / 1e6;
  const cachedInputPriceUsd = (k * (rates.cachedInputPerMTok ?? rates.inputPerMTok)) / 1e6;
  const outputPriceUsd = (m * rates.outputPerMTok) / 1e6;
  return { inputPriceUsd, cachedInputPriceUsd, outputPriceUsd, priceUsd: inputPriceUsd + cachedInputPriceUsd + outputPriceUsd };
}

/** Estimates what one request costs. Throws RangeError on invalid token counts. */
export function estimateCost(model: ModelProfile, hw: HardwareProfile, req: CostRequest): CostEstimate {
  const n = req.inputTokens;
  const m = req.outputTokens ?? 0;
  const k = req.cachedInputTokens ?? 0;
  checkCount('inputTokens', n);
  checkCount('outputTokens', m);
  checkCount('cachedInputTokens', k);
  if (k > n) throw new RangeError(`cachedInputTokens (${k}) must not exceed inputTokens (${n})`);
  const notes: string[] = [];
  if (n + m > model.contextLength) notes.push(`Input + output (${n + m} tokens) exceeds the model's context limit of ${model.contextLength} tokens.`);
  const price = priceOf(model, n, k, m, notes);
  const base: CostEstimate = {
    model: model.id,
    hardware: hw.id,
    inputTokens: n,
    outputTokens: m,
    cachedInputTokens: k,
    contextLimit: model.contextLength,
    architectureKnown: model.architecture !== null,
    linearFlops: null,
    attentionFlops: null,
    totalFlops: null,
    attentionShare: null,
    kvCacheBytes: null,
    weightsBytes: null,
    fitsInMemory: null,
    ttftSeconds: null,
    decodeSecondsPerToken: null,
    decodeTokensPerSecond: null,
    ...price,
    notes,
  };
  const a = model.architecture;
  if (!a) {
    notes.unshift('Architecture not public: compute, KV cache and time are not estimated (tokens, price and context limit only).');
    return base;
  }
  const pattern = req.pattern ?? a.pattern;
  if (req.pattern && !samePattern(req.pattern, a.pattern)) notes.push(`What-if: ${describePattern(pattern)} instead of the model's ${describePattern(a.pattern)}.`);
  const eff = req.computeEfficiency ?? hw.computeEfficiency ?? DEFAULT_COMPUTE_EFFICIENCY;
  if (!(eff > 0 && eff <= 1)) throw new RangeError(`computeEfficiency must be in (0, 1] (got ${eff})`);
  const beff = hw.bandwidthEfficiency ?? DEFAULT_BANDWIDTH_EFFICIENCY;
  const flopsPerSecond = hw.peakFlops * eff;
  const bytesPerSecond = hw.memoryBandwidth * beff;

  const linear = 2 * a.activeParams * n;
  const attention = attentionFlops(a, n, pattern);
  const total = linear + attention;
  const kvPrompt = kvCacheBytes(a, n, pattern);
  const kvFinal = kvCacheBytes(a, n + m, pattern);
  const weights = weightsBytes(a);
  const ttft = n === 0 ? 0 : Math.max(total / flopsPerSecond, (weights + kvPrompt) / bytesPerSecond);

  // Decode: steps at contexts c = n .. n+steps-1; each reads active weights + the cache
  // (c tokens, capped per layer) and attends one query to min(c+1, w) keys.
  const steps = Math.max(m, 1);
  const per = kvBytesPerTokenPerLayer(a);
  const { dQk, dV } = dims(a);
  let kvReadSum = 0;
  let keysSum = 0;
  for (const w of layerWindows(a.layers, pattern)) {
    kvReadSum += per * sumMin(n, n + steps - 1, w);
    keysSum += sumMin(n + 1, n + steps, w);
  }
  const decodeBytes = a.activeParams * a.bytesPerParam + kvReadSum / steps;
  const decodeFlops = 2 * a.activeParams + (2 * (dQk + dV) * keysSum) / steps;
  const decodeSeconds = Math.max(decodeFlops / flopsPerSecond, decodeBytes / bytesPerSecond);

  notes.push(`Compute efficiency ${eff} of peak (${(hw.peakFlops / 1e12).toPrecision(4)} TFLOP/s); decode is memory-bound at batch 1.`);
  if (a.experts) notes.push(`Mixture of experts: ${a.experts.active} of ${a.experts.total} experts per token; FLOPs and decode reads use the ${fmtParams(a.activeParams)} active parameters, memory holds all ${fmtParams(a.totalParams)}.`);
  if (hw.notes) notes.push(...hw.notes);
  return {
    ...base,
    linearFlops: linear,
    attentionFlops: attention,
    totalFlops: total,
    attentionShare: total === 0 ? 0 : attention / total,
    kvCacheBytes: kvFinal,
    weightsBytes: weights,
    fitsInMemory: weights + kvFinal <= hw.memoryBytes,
    ttftSeconds: ttft,
    decodeSecondsPerToken: decodeSeconds,
    decodeTokensPerSecond: 1 / decodeSeconds,
    notes,
  };
}

function fmtParams(p: number): string {
  return `${(p / 1e9).toFixed(1)}B`;
}

// ---- Curves and what-if comparisons for the panel ----

export interface CostCurvePoint {
  tokens: number;
  linearFlops: number | null;
  attentionFlops: number | null;
  totalFlops: number | null;
  attentionShare: number | null;
  kvCacheBytes: number | null;
  ttftSeconds: number | null;
  priceUsd: number | null;
}

/** Cost vs context length (input tokens, no output) under the model's pattern or `pattern`. */
export function costCurve(model: ModelProfile, hw: HardwareProfile, lengths: number[], pattern?: AttentionPattern): CostCurvePoint[] {
  return lengths.map((tokens) => {
    const e = estimateCost(model, hw, { inputTokens: tokens, pattern });
    return {
      tokens,
      linearFlops: e.linearFlops,
      attentionFlops: e.attentionFlops,
      totalFlops: e.totalFlops,
      attentionShare: e.attentionShare,
      kvCacheBytes: e.kvCacheBytes,
      ttftSeconds: e.ttftSeconds,
      priceUsd: e.priceUsd,
    };
  });
}

/**
 * Lengths for a plot: powers of two from 256 up to the context limit, plus the
 * limit itself and the current window (so the panel can mark it).
 */
export function curveLengths(contextLimit: number, current?: number): number[] {
  const set = new Set<number>();
  for (let t = 256; t < contextLimit; t *= 2) set.add(t);
  set.add(contextLimit);
  if (current !== undefined && current > 0) set.add(Math.round(current));
  return [...set].sort((x, y) => x - y);
}

export interface PatternOption {
  /** Stable key: 'dense', 'sliding-4096', 'local-global-1-1-4096'. */
  id: string;
  label: string;
  pattern: AttentionPattern;
  /** The model's own pattern. */
  native: boolean;
}

function patternId(p: AttentionPattern): string {
  if (p.kind === 'dense') return 'dense';
  if (p.kind === 'sliding') return `sliding-${p.window}`;
  return `local-global-${p.localLayers}-${p.globalLayers}-${p.window}`;
}

function patternLabel(p: AttentionPattern): string {
  if (p.kind === 'dense') return 'dense (causal)';
  if (p.kind === 'sliding') return `sliding window ${p.window.toLocaleString('en-US')}`;
  return `local/global ${p.localLayers}:${p.globalLayers}, window ${p.window.toLocaleString('en-US')}`;
}

/** Window used for what-if patterns of a model without one of its own. */
export const WHAT_IF_WINDOW = 4096;

/** The model's own pattern first, then dense / sliding / local-global alternatives. [] for hosted models. */
export function patternsFor(model: ModelProfile): PatternOption[] {
  const a = model.architecture;
  if (!a) return [];
  const own = a.pattern;
  const w = own.kind === 'dense' ? WHAT_IF_WINDOW : own.window;
  const candidates: AttentionPattern[] = [own, { kind: 'dense' }, { kind: 'sliding', window: w }, { kind: 'local-global', window: w, localLayers: 1, globalLayers: 1 }];
  const seen = new Set<string>();
  const out: PatternOption[] = [];
  for (const p of candidates) {
    const id = patternId(p);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ id, label: patternLabel(p), pattern: p, native: out.length === 0 });
  }
  return out;
}

export interface PatternCurve extends PatternOption {
  points: CostCurvePoint[];
}

/** One curve per pattern (default: patternsFor(model)) over the same lengths. */
export function compareCurves(model: ModelProfile, hw: HardwareProfile, lengths: number[], patterns: PatternOption[] = patternsFor(model)): PatternCurve[] {
  return patterns.map((p) => ({ ...p, points: costCurve(model, hw, lengths, p.pattern) }));
}

export interface PatternComparison extends PatternOption {
  estimate: CostEstimate;
  /** attentionFlops under this pattern / under the model's own pattern (null when that is 0). */
  attentionVsNative: number | null;
}

/** "What if" for the same window: the request under each pattern. */
export function comparePatterns(model: ModelProfile, hw: HardwareProfile, req: CostRequest): PatternComparison[] {
  const opts = patternsFor(model);
  const estimates = opts.map((p) => estimateCost(model, hw, { ...req, pattern: p.pattern }));
  const native = estimates[0]?.attentionFlops ?? 0;
  return opts.map((p, i) => ({
    ...p,
    estimate: estimates[i],
    attentionVsNative: native > 0 && estimates[i].attentionFlops !== null ? estimates[i].attentionFlops / native : null,
  }));
}

export interface TrimSaving {
  full: CostEstimate;
  trimmed: CostEstimate;
  /** full - trimmed, per figure (null where not estimated). */
  saved: {
    inputTokens: number;
    totalFlops: number | null;
    attentionFlops: number | null;
    kvCacheBytes: number | null;
    ttftSeconds: number | null;
    priceUsd: number | null;
  };
}

/** The saving from trimming the window to `budgetTokens` (the packer's choice). */
export function trimSaving(model: ModelProfile, hw: HardwareProfile, req: CostRequest, budgetTokens: number): TrimSaving {
  checkCount('budgetTokens', budgetTokens);
  const full = estimateCost(model, hw, req);
  const n = Math.min(req.inputTokens, budgetTokens);
  const trimmed = estimateCost(model, hw, { ...req, inputTokens: n, cachedInputTokens: Math.min(req.cachedInputTokens ?? 0, n) });
  const diff = (x: number | null, y: number | null): number | null => (x === null || y === null ? null : x - y);
  return {
    full,
    trimmed,
    saved: {
      inputTokens: full.inputTokens - trimmed.inputTokens,
      totalFlops: diff(full.totalFlops, trimmed.totalFlops),
      attentionFlops: diff(full.attentionFlops, trimmed.attentionFlops),
      kvCacheBytes: diff(full.kvCacheBytes, trimmed.kvCacheBytes),
      ttftSeconds: diff(full.ttftSeconds, trimmed.ttftSeconds),
      priceUsd: diff(full.priceUsd, trimmed.priceUsd),
    },
  };
}
