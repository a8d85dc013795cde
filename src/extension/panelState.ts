// The panel's PanelState: cost curves for the plot and the candidate-windows
// table that makes the quadratic cliff visible (computed by the engine session,
// next to the ranking), then the state put together from the session's plain
// answers. No VS Code API here (tested in plain Node).
import { costCurve, curveLengths, estimateCost, patternsFor } from '../core/cost/costModel';
import { loadProfiles } from '../core/cost/profiles';
import type { AttentionPattern } from '../core/cost/types';
import type { ComputedContext, ContextEngine } from '../core/engine';
import type { EditorSignals } from '../core/types';
import { emptyPanelState, type CandidateWindowRow, type CostCurves, type PanelMessage, type PanelState } from '../shared/protocol';
import type { ComputedSummary, EngineInfo, PanelFacts } from './engineSession';

export const PACKED_WINDOW_BUDGETS = [2048, 4096, 8192, 16384, 32768];

export interface PanelInputs {
  engine: EngineInfo | undefined;
  computed: Pick<ComputedSummary, 'report'> | undefined;
  /** The session's curves, windows and cache card for `computed`. */
  facts?: PanelFacts;
  indexing: PanelState['indexing'];
  messages: PanelMessage[];
  excludedPaths: string[];
  busy: boolean;
}

/** Tokens of a file counted from non-overlapping chunks (line windows overlap by their stride). */
export function fileTokens(engine: ContextEngine, path: string): number {
  let total = 0;
  let coveredTo = 0;
  for (const c of engine.index.chunksOf(path)) {
    if (c.startLine > coveredTo) {
      total += c.tokens;
      coveredTo = c.endLine;
    }
  }
  return total;
}

function row(engine: ContextEngine, kind: CandidateWindowRow['kind'], label: string, tokens: number, current = false): CandidateWindowRow {
  const e = estimateCost(engine.model, engine.hardware, { inputTokens: tokens, outputTokens: engine.settings.outputTokens });
  return {
    kind,
    label,
    tokens,
    attentionFlops: e.attentionFlops,
    attentionShare: e.attentionShare,
    kvCacheBytes: e.kvCacheBytes,
    ttftSeconds: e.ttftSeconds,
    priceUsd: e.priceUsd,
    fitsInMemory: e.fitsInMemory,
    current,
  };
}

export function candidateWindows(engine: ContextEngine, computed: ComputedContext, signals: EditorSignals): CandidateWindowRow[] {
  const r = computed.report;
  const rows: CandidateWindowRow[] = [row(engine, 'cursor', 'Cursor window alone', r.cursor.tokens)];
  for (const b of PACKED_WINDOW_BUDGETS) {
    if (b > engine.model.contextLength) break;
    const packed = b === r.budget ? computed.prompt : engine.packAt(computed, b, signals);
    rows.push(row(engine, 'packed', `Packed @ ${b / 1024}k`, packed.tokens, b === r.budget));
  }
  rows.push(row(engine, 'file', `Whole file (${r.file})`, fileTokens(engine, r.file)));
  const tabs = [...new Set([r.file, ...signals.openTabs])];
  rows.push(row(engine, 'open-tabs', `All open tabs (${tabs.length})`, tabs.reduce((s, p) => s + fileTokens(engine, p), 0)));
  let workspace = 0;
  for (const p of engine.index.files()) workspace += fileTokens(engine, p);
  rows.push(row(engine, 'workspace', `Whole workspace (${engine.index.fileCount()} files)`, workspace));
  return rows;
}

export function costCurves(engine: ContextEngine, currentTokens: number, budgetTokens: number): CostCurves {
  const model = engine.model;
  const lengths = curveLengths(model.contextLength, currentTokens);
  const patterns = patternsFor(model);
  const series: CostCurves['series'] = [];
  const dense = patterns.find((p) => p.pattern.kind === 'dense');
  const sliding = patterns.find((p) => p.pattern.kind === 'sliding');
  const native = patterns.find((p) => p.native);
  const add = (kind: 'dense' | 'sliding' | 'model', label: string, pattern?: AttentionPattern) =>
    series.push({ kind, label, points: costCurve(model, engine.hardware, lengths, pattern) });
  if (dense) add('dense', `Dense attention${dense.native ? ' (this model)' : ''}`, dense.pattern);
  if (sliding) add('sliding', `Sliding window ${sliding.pattern.kind === 'sliding' ? sliding.pattern.window.toLocaleString('en-US') : ''}${sliding.native ? ' (this model)' : ''}`, sliding.pattern);
  if (native && native.pattern.kind === 'local-global') add('model', `${native.label} (this model)`, native.pattern);
  if (patterns.length === 0) add('model', model.name); // hosted: price only
  return {
    model: model.id,
    hardware: engine.hardware.id,
    architectureKnown: model.architecture !== null,
    series,
    currentTokens,
    budgetTokens,
    contextLimit: model.contextLength,
  };
}

export function buildPanelState(inp: PanelInputs, userModels?: unknown, userHardware?: unknown): PanelState {
  const state = emptyPanelState();
  const profiles = loadProfiles(userModels, userHardware);
  state.models = {
    choices: [...profiles.models.values()].map((m) => ({ id: m.id, label: m.name, detail: `${Math.round(m.contextLength / 1024)}k context · ${m.encoding}${m.architecture ? '' : ' · architecture not public'}` })),
    current: inp.engine?.model.id ?? '',
  };
  state.hardware = {
    choices: [...profiles.hardware.values()].map((h) => ({ id: h.id, label: h.name })),
    current: inp.engine?.hardware.id ?? '',
  };
  state.indexing = inp.indexing;
  state.messages = inp.messages;
  state.excludedPaths = inp.excludedPaths;
  state.busy = inp.busy;
  const engine = inp.engine;
  if (engine) {
    state.index = { ...engine.index, encoding: engine.encoding };
    state.budget = { tokens: engine.budget.tokens, min: 256, max: Math.max(256, engine.budget.max), step: 256 };
    state.ranker = { device: engine.rankerDevice };
  }
  const computed = inp.computed;
  if (engine && computed) {
    state.report = computed.report;
    state.budget.tokens = computed.report.budget;
    state.ranker = { device: computed.report.device, note: computed.report.rankerNote };
    if (inp.facts?.curves) state.curves = inp.facts.curves;
    if (inp.facts?.windows) state.windows = inp.facts.windows;
    if (inp.facts?.cache) state.cache = inp.facts.cache;
  }
  return state;
}
