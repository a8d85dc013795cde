// Sample panel states for the dev preview and the webview unit tests. The numbers
// come from a toy Llama-3.1-8B-like model (32 layers, d = 4096, 8 KV heads x 128,
// bf16) on an H100-like GPU: plausible shapes, not the product's cost model.
import type { ContextReport, ReportItem } from '../../src/core/report';
import type { CandidateSource, ChunkKind } from '../../src/core/types';
import type { CandidateWindowRow, PanelState } from '../../src/shared/protocol';
import { PROTOCOL_VERSION } from '../../src/shared/protocol';

const LAYERS = 32;
const D = 4096;
const PARAMS = 8.03e9;
const KV_PER_TOKEN = 2 * LAYERS * 8 * 128 * 2;
const PEAK = 989e12 * 0.4;
const PRICE_IN = 0.2 / 1e6;
const WINDOW = 4096;

function pairs(n: number, w = Infinity): number {
  if (n <= w) return (n * (n + 1)) / 2;
  return (w * (w + 1)) / 2 + (n - w) * w;
}

interface ToyCost {
  attentionFlops: number;
  totalFlops: number;
  attentionShare: number;
  kvCacheBytes: number;
  ttftSeconds: number;
  priceUsd: number;
}

export function toyCost(n: number, w = Infinity): ToyCost {
  const attentionFlops = LAYERS * 4 * D * pairs(n, w);
  const linear = 2 * PARAMS * n;
  const totalFlops = attentionFlops + linear;
  return {
    attentionFlops,
    totalFlops,
    attentionShare: attentionFlops / totalFlops,
    kvCacheBytes: KV_PER_TOKEN * Math.min(n, w),
    ttftSeconds: Math.max(totalFlops / PEAK, (PARAMS * 2) / 3.35e12),
    priceUsd: n * PRICE_IN,
  };
}

function item(path: string, startLine: number, endLine: number, tokens: number, score: number, kind: ChunkKind, sources: CandidateSource[], selected: boolean, reason: string, pinned = false, evidence?: string[]): ReportItem {
  return { id: `${path}#${startLine}-${endLine}`, path, startLine, endLine, tokens, score, selected, reason, sources, kind, pinned, evidence };
}

export function sampleReport(): ContextReport {
  const items: ReportItem[] = [
    item('src/core/pack/packer.ts', 12, 88, 912, 0.94, 'function', ['definition', 'import'], true, 'selected', false, ['pack', 'budget']),
    item('src/core/cost/costModel.ts', 152, 240, 1240, 0.91, 'function', ['definition', 'bm25'], true, 'pinned', true, ['estimateCost']),
    item('src/core/report.ts', 1, 46, 388, 0.87, 'interface', ['import'], true, 'selected'),
    item('src/core/types.ts', 96, 118, 201, 0.81, 'interface', ['import', 'bm25'], true, 'selected', false, ['RankedChunk']),
    item('src/extension/statusBar.ts', 40, 97, 640, 0.74, 'class', ['open-tab', 'recent-edit'], true, 'selected'),
    item('src/core/tokens/tokenizer.ts', 20, 61, 455, 0.66, 'function', ['bm25', 'same-folder'], true, 'selected'),
    item('src/core/rank/stage2.ts', 1, 140, 2210, 0.63, 'members', ['bm25'], false, 'over budget'),
    item('src/core/index/workspaceIndex.ts', 200, 310, 1530, 0.58, 'class', ['recent-view'], false, 'over budget'),
    item('src/core/pack/packer.test-helpers.ts', 1, 30, 260, 0.55, 'declarations', ['same-folder'], false, 'redundant with src/core/pack/packer.ts#12-88'),
    item('src/<img src=x onerror=alert(1)>.ts', 1, 9, 80, 0.41, 'window', ['bm25'], false, 'excluded'),
    item('bench/corpus/a-very-long-directory-name/with/many/levels/that/keeps/going/file.ts', 300, 420, 1800, 0.33, 'window', ['bm25'], false, 'below threshold'),
  ];
  const cursor = { startLine: 180, endLine: 236, tokens: 1024 };
  const selected = items.filter((i) => i.selected);
  const selectedTokens = selected.reduce((a, i) => a + i.tokens, 0);
  const pinned = selected.filter((i) => i.pinned).reduce((a, i) => a + i.tokens, 0);
  const promptTokens = selectedTokens + cursor.tokens + 64;
  const c = toyCost(promptTokens);
  return {
    version: 1,
    root: '/home/dev/context-budget',
    file: 'src/extension/controller.ts',
    line: 204,
    column: 12,
    model: 'llama-3.1-8b',
    modelName: 'Llama 3.1 8B',
    encoding: 'o200k_base',
    hardware: 'H100 SXM 80GB',
    budget: 8192,
    budgetSplit: { contextLimit: 131072, reserve: 1024, promptOverhead: 0, overhead: 64, cursor: cursor.tokens, pinned, retrieved: selectedTokens - pinned },
    device: 'webgpu',
    cursor,
    items,
    totals: { selectedTokens, candidates: items.length, indexedFiles: 412, promptTokens },
    cost: {
      model: 'llama-3.1-8b',
      hardware: 'h100-sxm',
      inputTokens: promptTokens,
      outputTokens: 512,
      cachedInputTokens: 0,
      contextLimit: 131072,
      architectureKnown: true,
      linearFlops: c.totalFlops - c.attentionFlops,
      attentionFlops: c.attentionFlops,
      totalFlops: c.totalFlops,
      attentionShare: c.attentionShare,
      kvCacheBytes: c.kvCacheBytes,
      weightsBytes: PARAMS * 2,
      fitsInMemory: true,
      ttftSeconds: c.ttftSeconds,
      decodeSecondsPerToken: 1 / 142,
      decodeTokensPerSecond: 142,
      inputPriceUsd: c.priceUsd,
      cachedInputPriceUsd: 0,
      outputPriceUsd: 512 * 0.6e-6,
      priceUsd: c.priceUsd + 512 * 0.6e-6,
      notes: ['Batch size 1; multiply-add = 2 FLOPs.', 'TTFT is a roofline estimate at 40% of peak compute.'],
    },
    timings: { indexMs: 2, rankMs: 14, packMs: 1, totalMs: 19 },
  };
}

function row(kind: CandidateWindowRow['kind'], label: string, tokens: number, current = false): CandidateWindowRow {
  const c = toyCost(tokens);
  return { kind, label, tokens, attentionFlops: c.attentionFlops, attentionShare: c.attentionShare, kvCacheBytes: c.kvCacheBytes, ttftSeconds: c.ttftSeconds, priceUsd: c.priceUsd, fitsInMemory: c.kvCacheBytes + PARAMS * 2 <= 80e9, current };
}

export function sampleState(): PanelState {
  const report = sampleReport();
  const lengths: number[] = [];
  for (let t = 256; t < 131072; t *= 2) lengths.push(t);
  lengths.push(131072);
  return {
    version: PROTOCOL_VERSION,
    report,
    indexing: { files: 412, total: 412, done: true },
    index: { files: 412, chunks: 3981, tokens: 1_204_331, skipped: { 'too-large': 3, binary: 12, ignored: 240 }, encoding: 'o200k_base' },
    models: {
      choices: [
        { id: 'llama-3.1-8b', label: 'Llama 3.1 8B', detail: '128k context · o200k_base' },
        { id: 'gpt-4o', label: 'GPT-4o (hosted)', detail: 'architecture not public' },
        { id: 'gemma-2-9b', label: 'Gemma 2 9B', detail: 'local/global attention' },
      ],
      current: 'llama-3.1-8b',
    },
    hardware: {
      choices: [
        { id: 'h100-sxm', label: 'H100 SXM 80GB' },
        { id: 'rtx-4090', label: 'RTX 4090 24GB' },
        { id: 'm3-max', label: 'Apple M3 Max 64GB' },
      ],
      current: 'h100-sxm',
    },
    budget: { tokens: 8192, min: 256, max: 130048, step: 256 },
    curves: {
      model: 'Llama 3.1 8B',
      hardware: 'H100 SXM 80GB',
      architectureKnown: true,
      series: [
        { kind: 'dense', label: 'dense (causal)', native: true, points: lengths.map((t) => ({ tokens: t, ...toyCost(t) })) },
        { kind: 'sliding', label: `sliding window ${WINDOW.toLocaleString('en-US')}`, points: lengths.map((t) => ({ tokens: t, ...toyCost(t, WINDOW) })) },
      ],
      currentTokens: report.totals.promptTokens,
      budgetTokens: 8192,
      contextLimit: 131072,
    },
    windows: [
      row('cursor', 'Cursor window alone', 1024),
      row('packed', 'Packed @ 2k', 2048),
      row('packed', 'Packed @ 4k', 4096),
      row('packed', 'Packed @ 8k', report.totals.promptTokens, true),
      row('packed', 'Packed @ 16k', 16384),
      row('packed', 'Packed @ 32k', 32768),
      row('file', 'Whole file (controller.ts)', 5210),
      row('open-tabs', 'All open tabs (7)', 41_880),
      row('workspace', 'Whole workspace', 1_204_331),
    ],
    ranker: { device: 'webgpu', note: undefined },
    excludedPaths: [],
    messages: [{ level: 'warning', text: 'Prices are list prices from the model profile; check your provider.' }],
  };
}

/** The first seconds after opening a large workspace. */
export function indexingState(): PanelState {
  const s = sampleState();
  return { ...s, report: null, curves: null, windows: [], indexing: { files: 1834, total: 5000, done: false }, index: null, messages: [], ranker: { device: 'cpu', note: 'WebGPU unavailable (no Vulkan adapter): ranking on the CPU.' } };
}
