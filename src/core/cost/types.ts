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
  /** Overrides the hardware's compute efficiency (fraction of peak FLOP/s) for this estimate. */
  computeEfficiency?: number;
}

// ---- Profiles (added with the cost model; data comes from models.json / hardware.json / settings) ----

/** The tokenizers Context Budget ships. */
export type CostEncoding = 'o200k_base' | 'cl100k_base';

/** Architecture of an open-weights model, from its published config. */
export interface ModelArchitecture {
  layers: number;
  hiddenSize: number;
  attentionHeads: number;
  /** Key/value heads (GQA/MQA); equals attentionHeads for classic multi-head attention. */
  kvHeads: number;
  /** Query/key head dimension. */
  headDim: number;
  /** Value head dimension when it differs from headDim (e.g. MLA); defaults to headDim. */
  vHeadDim?: number;
  /** KV-cache elements per token per layer when the cache is not plain K and V (e.g. MLA's compressed latent). */
  kvCacheElementsPerLayer?: number;
  /** All parameters (weights memory). */
  totalParams: number;
  /** Parameters used per token (MoE: shared + routed-active); equals totalParams for dense models. */
  activeParams: number;
  /** Bytes per weight as served (2 = bf16/fp16). */
  bytesPerParam: number;
  /** Bytes per KV-cache element (2 = bf16/fp16). */
  kvBytesPerElement: number;
  pattern: AttentionPattern;
  /** MoE routing, when the model has experts. */
  experts?: { total: number; active: number; shared?: number };
}

/** USD per 1M tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  /** Cache-hit input price; null = the provider has no discount (input price applies). */
  cachedInputPerMTok: number | null;
  outputPerMTok: number;
  /** Tiered pricing: when the prompt exceeds `aboveInputTokens`, these rates apply to the whole request. */
  longContext?: { aboveInputTokens: number; inputPerMTok: number; cachedInputPerMTok: number | null; outputPerMTok: number };
}

export interface ModelProfile {
  id: string;
  name: string;
  /** Tokenizer used to count tokens for this model (an approximation for models with their own tokenizer). */
  encoding: CostEncoding;
  /** Maximum context window in tokens (input + output). */
  contextLength: number;
  maxOutputTokens?: number;
  /** null: the architecture is not public (hosted models). */
  architecture: ModelArchitecture | null;
  /** null: no list price (self-hosted open weights). */
  price: ModelPrice | null;
  /** Where each group of numbers comes from, with a date. */
  sources: Record<string, string>;
  notes?: string[];
  /** 'builtin' or 'user' (from settings). */
  origin?: 'builtin' | 'user';
}

export interface HardwareProfile {
  id: string;
  name: string;
  /** Peak dense bf16/fp16 FLOP/s (this-cpu: measured fp32 matmul FLOP/s). */
  peakFlops: number;
  /** Memory bandwidth, bytes/s. */
  memoryBandwidth: number;
  /** Memory available to weights + KV cache, bytes. */
  memoryBytes: number;
  /** Fraction of peak FLOP/s reached in prefill; defaults to DEFAULT_COMPUTE_EFFICIENCY. */
  computeEfficiency?: number;
  /** Fraction of peak bandwidth reached; defaults to DEFAULT_BANDWIDTH_EFFICIENCY. */
  bandwidthEfficiency?: number;
  sources: Record<string, string>;
  notes?: string[];
  /** True when the figures were measured on this machine (this-cpu probe). */
  measured?: boolean;
  origin?: 'builtin' | 'user' | 'probe';
}
