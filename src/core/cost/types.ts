// The shapes the cost model produces. Field names are the CLI's JSON names.
// A hosted model whose architecture is not public has `architectureKnown: false`
// and null for every architecture-derived figure: never invented numbers.

export type AttentionPattern =
  | { kind: 'dense' }
  | { kind: 'sliding'; window: number }
  /** `localLayers` of every `localLayers + globalLayers` use a window, the rest are dense. */
  | { kind: 'local-global'; window: number; localLayers: number; globalLayers: number };

export interface CostEstimate {
  model: string;
  hardware: string;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  contextLimit: number;
  architectureKnown: boolean;
  /** Prefill: 2 x active params x n. */
  linearFlops: number | null;
  /** Prefill attention (QK^T and AV) under the model's pattern, causal. */
  attentionFlops: number | null;
  totalFlops: number | null;
  /** attentionFlops / totalFlops. */
  attentionShare: number | null;
  kvCacheBytes: number | null;
  weightsBytes: number | null;
  /** KV cache + weights fit the hardware's memory. */
  fitsInMemory: boolean | null;
  ttftSeconds: number | null;
  decodeSecondsPerToken: number | null;
  decodeTokensPerSecond: number | null;
  inputPriceUsd: number | null;
  cachedInputPriceUsd: number | null;
  outputPriceUsd: number | null;
  /** Input (uncached part) + cached input + output. */
  priceUsd: number | null;
  /** Assumptions and caveats, in words, for tooltips and the panel. */
  notes: string[];
}

export interface CostRequest {
  inputTokens: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  /** Evaluate under another attention pattern ("what if"). */
  pattern?: AttentionPattern;
}
