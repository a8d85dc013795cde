// Chooses which ranked chunks go into the token budget. The cursor window is
// always in, pinned chunks next, then the stable layer (chunks chosen for the
// cursor's file as a whole, see `stableLayer`), then a 0/1 knapsack over the
// rest: value = relevance² (packValue), weight = the tokens the chunk costs in
// the rendered prompt.
//
// Solver: greedy by value per token (skipping what does not fit), the best
// single item, and an exact dynamic program over the densest candidates for the
// first DP_CAPACITY tokens; the best of the three wins. Each of the three only
// grows with the budget, so the chosen relevance never drops as the budget
// grows, and greedy+single alone is already within a factor 2 of the optimum.
import type { Chunk, PackedItem, RankedChunk } from '../types';

export interface PackInput {
  /** Candidates, best first. */
  ranked: readonly RankedChunk[];
  /** Total tokens for the packed context, cursor window included. */
  budget: number;
  cursorTokens: number;
  /** Chunk ids the user pinned (always selected when they fit at all). */
  pinned?: ReadonlySet<string>;
  /** Chunk ids or file paths the user excluded. */
  excluded?: ReadonlySet<string>;
  /** Candidates scoring below this are not considered. */
  minScore?: number;
  /** Tokens a chunk costs beyond its own text (its header and fences in the rendered prompt). */
  overheadTokens?: (chunk: Chunk) => number;
  /**
   * The ranking for the cursor's file as a whole (no cursor position) and the
   * tokens it may fill: its pack is kept ahead of the knapsack with reason
   * 'stable', so small cursor moves leave that part of the prompt unchanged.
   */
  stableLayer?: { ranked: readonly RankedChunk[]; budget: number };
}

/** Reasons of selected items: the knapsack's choice, a pin, or the stable layer. */
export function isKeptReason(reason: string): boolean {
  return reason === 'selected' || reason === 'pinned' || reason === 'stable';
}

export interface PackResult {
  /** One entry per candidate, in rank order (stable-layer chunks the ranking lacks come last). */
  items: PackedItem[];
  /** Sum of the selected chunks' own tokens. */
  selectedTokens: number;
  /** Tokens the selection costs including per-chunk overhead. */
  costTokens: number;
  /** What the knapsack maximised: the sum of packValue(score) over selected chunks. */
  relevance: number;
}

/**
 * What a chunk is worth to the knapsack: its relevance squared, so a few likely
 * chunks beat many marginal ones of the same total score. Chosen on the eval's
 * tune split (gold in a 2k budget 85.3% → 87.0%; report split numbers in the README).
 */
export function packValue(score: number): number {
  return score * score;
}

/** Candidates considered by the exact refinement, and its capacity. */
const DP_ITEMS = 160;
const DP_CAPACITY = 2048;
/** Two chunks of one file sharing at least this share of the smaller one's lines say the same thing. */
const OVERLAP_REDUNDANT = 0.5;

function overlapShare(a: Chunk, b: Chunk): number {
  if (a.path !== b.path) return 0;
  const lo = Math.max(a.startLine, b.startLine);
  const hi = Math.min(a.endLine, b.endLine);
  if (hi < lo) return 0;
  const smaller = Math.min(a.endLine - a.startLine, b.endLine - b.startLine) + 1;
  return (hi - lo + 1) / smaller;
}

/** Chunks already taken, looked up by text hash and by file (a linear scan is quadratic at 2,000 candidates). */
class KeptChunks {
  private readonly byHash = new Map<string, Chunk>();
  private readonly byPath = new Map<string, Chunk[]>();

  add(c: Chunk): void {
    if (!this.byHash.has(c.hash)) this.byHash.set(c.hash, c);
    const list = this.byPath.get(c.path);
    if (list) list.push(c);
    else this.byPath.set(c.path, [c]);
  }

  /** The first kept chunk `c` repeats: same text, or mostly the same lines of the same file. */
  redundantWith(c: Chunk): Chunk | undefined {
    const same = this.byHash.get(c.hash);
    if (same) return same;
    for (const k of this.byPath.get(c.path) ?? []) if (overlapShare(c, k) >= OVERLAP_REDUNDANT) return k;
    return undefined;
  }
}

/** Exact 0/1 knapsack (integer weights) — returns the chosen indices. */
export function knapsackExact(weights: readonly number[], values: readonly number[], capacity: number): number[] {
  const n = weights.length;
  const cap = Math.max(0, Math.floor(capacity));
  const best = new Float64Array(cap + 1);
  const take = new Uint8Array(n * (cap + 1));
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    const v = values[i];
    if (w > cap) continue;
    const row = i * (cap + 1);
    for (let c = cap; c >= w; c--) {
      const cand = best[c - w] + v;
      if (cand > best[c]) {
        best[c] = cand;
        take[row + c] = 1;
      }
    }
  }
  const chosen: number[] = [];
  let c = cap;
  for (let i = n - 1; i >= 0; i--) {
    if (take[i * (cap + 1) + c]) {
      chosen.push(i);
      c -= weights[i];
    }
  }
  return chosen.reverse();
}

/**
 * The stable layer: the file-level ranking packed on its own into its share of
 * the budget (pins count against it: they are stable too). Returns the chosen
 * candidates, pins left out, and the cursor ranking with any of them it lacks
 * appended, so every chunk that can be selected has an item.
 */
export function stableLayer(input: PackInput): { ranked: readonly RankedChunk[]; stable: Set<string> } {
  const layer = input.stableLayer;
  if (!layer || layer.budget <= 0 || layer.ranked.length === 0) return { ranked: input.ranked, stable: new Set() };
  const res = packChunks({ ...input, ranked: layer.ranked, budget: layer.budget, cursorTokens: 0, stableLayer: undefined });
  const chosen = res.items.filter((i) => i.reason === 'selected').map((i) => i.ranked);
  const present = new Set(input.ranked.map((r) => r.chunk.id));
  const missing = chosen.filter((r) => !present.has(r.chunk.id));
  return { ranked: missing.length ? [...input.ranked, ...missing] : input.ranked, stable: new Set(chosen.map((r) => r.chunk.id)) };
}

export function packChunks(input: PackInput): PackResult {
  const pinned = input.pinned ?? new Set<string>();
  const excluded = input.excluded ?? new Set<string>();
  const minScore = input.minScore ?? 0;
  const overhead = input.overheadTokens ?? (() => 0);
  const budget = Math.max(0, Math.floor(input.budget));
  const available = Math.max(0, budget - input.cursorTokens);
  const { ranked, stable } = stableLayer(input);

  // Reasons by place in the ranking, not by id: a chunk listed twice (the same
  // id) keeps its first place and the repeat is redundant with it.
  const reasons: Array<string | undefined> = new Array(ranked.length);
  const listed = new Set<string>();
  ranked.forEach((r, i) => {
    const c = r.chunk;
    if (listed.has(c.id)) reasons[i] = `redundant with ${c.id}`;
    else {
      listed.add(c.id);
      if (excluded.has(c.id) || excluded.has(c.path)) reasons[i] = 'excluded';
    }
  });
  const cost = (c: Chunk) => c.tokens + overhead(c);
  const kept: Chunk[] = [];
  let used = 0;

  // 1. Exclusions (above), then pinned chunks in rank order, then the stable layer.
  const keep = (ids: ReadonlySet<string>, reason: string) => {
    ranked.forEach((r, i) => {
      const c = r.chunk;
      if (!ids.has(c.id) || reasons[i] !== undefined) return;
      if (used + cost(c) <= available) {
        kept.push(c);
        used += cost(c);
        reasons[i] = reason;
      } else {
        reasons[i] = cost(c) > available ? 'too large' : 'over budget';
      }
    });
  };
  keep(pinned, 'pinned');
  keep(stable, 'stable');

  // 2. The knapsack pool: not excluded, above threshold, not redundant with a better candidate.
  const pool: RankedChunk[] = [];
  const poolPlaces: number[] = [];
  const poolChunks = new KeptChunks();
  for (const c of kept) poolChunks.add(c);
  ranked.forEach((r, i) => {
    const c = r.chunk;
    if (reasons[i] !== undefined) return;
    if (r.score < minScore) {
      reasons[i] = 'below threshold';
      return;
    }
    const dup = poolChunks.redundantWith(c);
    if (dup) {
      reasons[i] = `redundant with ${dup.id}`;
      return;
    }
    // Too-large candidates stay in the pool (they simply never fit) so the pool,
    // and with it the solver's answer, does not depend on the budget.
    pool.push(r);
    poolPlaces.push(i);
    poolChunks.add(c);
  });

  const capacity = available - used;
  const weights = pool.map((r) => cost(r.chunk));
  const values = pool.map((r) => packValue(r.score));
  const density = (i: number) => values[i] / Math.max(1, weights[i]);
  const order = pool.map((_, i) => i).sort((a, b) => density(b) - density(a) || a - b);

  const greedy: number[] = [];
  let room = capacity;
  for (const i of order) {
    if (weights[i] <= room) {
      greedy.push(i);
      room -= weights[i];
    }
  }
  const total = (set: number[]) => set.reduce((s, i) => s + values[i], 0);
  let chosen = greedy;
  let bestSingle = -1;
  for (let i = 0; i < pool.length; i++) if (weights[i] <= capacity && (bestSingle < 0 || values[i] > values[bestSingle])) bestSingle = i;
  if (bestSingle >= 0 && values[bestSingle] > total(chosen)) chosen = [bestSingle];
  const dpIdx = order.slice(0, DP_ITEMS);
  const dpPick = knapsackExact(dpIdx.map((i) => weights[i]), dpIdx.map((i) => values[i]), Math.min(capacity, DP_CAPACITY)).map((k) => dpIdx[k]);
  if (total(dpPick) > total(chosen) + 1e-12) chosen = dpPick;

  const chosenSet = new Set(chosen);
  pool.forEach((_, k) => (reasons[poolPlaces[k]] = chosenSet.has(k) ? 'selected' : weights[k] > available ? 'too large' : 'over budget'));

  let selectedTokens = 0;
  let costTokens = 0;
  let relevance = 0;
  const items: PackedItem[] = ranked.map((r, i) => {
    const reason = reasons[i] ?? 'over budget';
    const selected = isKeptReason(reason);
    if (selected) {
      selectedTokens += r.chunk.tokens;
      costTokens += cost(r.chunk);
      relevance += packValue(r.score);
    }
    return { ranked: r, selected, reason };
  });
  return { items, selectedTokens, costTokens, relevance };
}
