// The budget bar's segments (pure; unit-tested in Node).
import type { ContextReport } from '../src/core/report';

export type SegmentKey = 'overhead' | 'cursor' | 'pinned' | 'retrieved' | 'free' | 'reserve';

export interface BudgetSegment {
  key: SegmentKey;
  label: string;
  tokens: number;
  /** Share of the whole bar, in [0, 1]; the fractions sum to 1 (or all 0 for an empty bar). */
  fraction: number;
}

export interface BudgetBarModel {
  segments: BudgetSegment[];
  /** Tokens the packed prompt uses (overhead + cursor + pinned + retrieved). */
  used: number;
  budget: number;
  reserve: number;
  /** Tokens over the budget (0 when within). */
  over: number;
  /** used / budget (may exceed 1). */
  usedShare: number;
  /** Where the budget ends on the bar, in [0, 1]. */
  budgetMark: number;
}

const LABELS: Record<SegmentKey, string> = {
  overhead: 'Headers & fences',
  cursor: 'Cursor window',
  pinned: 'Pinned',
  retrieved: 'Retrieved',
  free: 'Free',
  reserve: 'Output reserve',
};

function nonNeg(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * Segments for a bar `max(budget, used) + reserve` wide: overhead, cursor, pinned,
 * retrieved, free (budget left), then the output reserve. `budget` may differ from
 * the report's (the slider previews a new budget before the host re-packs).
 */
export function budgetBar(split: ContextReport['budgetSplit'] | null | undefined, budget: number): BudgetBarModel {
  const s = split ?? { contextLimit: 0, reserve: 0, promptOverhead: 0, overhead: 0, cursor: 0, pinned: 0, retrieved: 0 };
  const b = nonNeg(budget);
  const parts: Array<[SegmentKey, number]> = [
    ['overhead', nonNeg(s.overhead)],
    ['cursor', nonNeg(s.cursor)],
    ['pinned', nonNeg(s.pinned)],
    ['retrieved', nonNeg(s.retrieved)],
  ];
  const used = parts.reduce((a, [, t]) => a + t, 0);
  const reserve = nonNeg(s.reserve);
  const free = Math.max(0, b - used);
  parts.push(['free', free], ['reserve', reserve]);
  const total = Math.max(b, used) + reserve;
  const segments = parts.map(([key, tokens]) => ({ key, label: LABELS[key], tokens, fraction: total > 0 ? tokens / total : 0 }));
  return {
    segments,
    used,
    budget: b,
    reserve,
    over: Math.max(0, used - b),
    usedShare: b > 0 ? used / b : used > 0 ? Infinity : 0,
    budgetMark: total > 0 ? b / total : 0,
  };
}

/** 'ok' below warnAt, 'warn' from warnAt of the budget, 'over' above it. */
export function budgetLevel(usedShare: number, warnAt = 0.8): 'ok' | 'warn' | 'over' {
  if (usedShare > 1) return 'over';
  if (usedShare >= warnAt) return 'warn';
  return 'ok';
}

/** Slider positions run 0..SLIDER_STEPS; the mapping to tokens is logarithmic so small budgets stay pickable. */
export const SLIDER_STEPS = 1000;

/** Tokens for a slider position, snapped to `step` and clamped to [min, max]. */
export function sliderToTokens(pos: number, min: number, max: number, step: number): number {
  const lo = Math.max(1, min);
  const hi = Math.max(lo, max);
  const p = Math.min(SLIDER_STEPS, Math.max(0, Number.isFinite(pos) ? pos : 0)) / SLIDER_STEPS;
  const raw = Math.exp(Math.log(lo) + p * (Math.log(hi) - Math.log(lo)));
  const st = step > 0 ? step : 1;
  const snapped = Math.round(raw / st) * st;
  return Math.min(hi, Math.max(lo, snapped));
}

/** The slider position for a token budget (inverse of sliderToTokens, before snapping). */
export function tokensToSlider(tokens: number, min: number, max: number): number {
  const lo = Math.max(1, min);
  const hi = Math.max(lo, max);
  if (hi === lo) return 0;
  const t = Math.min(hi, Math.max(lo, Number.isFinite(tokens) ? tokens : lo));
  return Math.round(((Math.log(t) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * SLIDER_STEPS);
}

/**
 * The next budget for a key press on the slider: arrows move ~10% (at least one
 * step), PageUp/PageDown double / halve, Home/End jump to the bounds. Undefined for other keys.
 */
export function keyStepTokens(key: string, tokens: number, min: number, max: number, step: number): number | undefined {
  const st = step > 0 ? step : 1;
  const clamp = (t: number) => Math.min(max, Math.max(min, t));
  const snapUp = (t: number) => Math.ceil(t / st) * st;
  const snapDown = (t: number) => Math.floor(t / st) * st;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowUp':
      return clamp(Math.max(tokens + st, snapUp(tokens * 1.1)));
    case 'ArrowLeft':
    case 'ArrowDown':
      return clamp(Math.min(tokens - st, snapDown(tokens / 1.1)));
    case 'PageUp':
      return clamp(snapUp(tokens * 2));
    case 'PageDown':
      return clamp(snapDown(tokens / 2));
    case 'Home':
      return min;
    case 'End':
      return max;
    default:
      return undefined;
  }
}

/**
 * Throttle with a trailing call, for live slider updates: the first value goes
 * out at once, then at most one per `ms`, and the last value always goes out.
 * Repeated equal values are sent once.
 */
export function liveSender<T>(send: (v: T) => void, ms: number, timers: { set: (fn: () => void, ms: number) => unknown; clear: (h: unknown) => void; now: () => number }) {
  let last: T | undefined;
  let lastAt = -Infinity;
  let pending: { v: T } | undefined;
  let handle: unknown;
  const fire = (v: T) => {
    pending = undefined;
    handle = undefined;
    lastAt = timers.now();
    if (v === last) return;
    last = v;
    send(v);
  };
  return {
    push(v: T): void {
      const wait = lastAt + ms - timers.now();
      if (handle === undefined && wait <= 0) {
        fire(v);
        return;
      }
      pending = { v };
      if (handle === undefined) handle = timers.set(() => pending && fire(pending.v), Math.max(0, wait));
    },
    /** Whether a value is waiting to go out. */
    get busy(): boolean {
      return handle !== undefined;
    },
    /** Forget the last sent value (e.g. the host moved the budget elsewhere). */
    reset(v?: T): void {
      last = v;
    },
    cancel(): void {
      if (handle !== undefined) timers.clear(handle);
      handle = undefined;
      pending = undefined;
    },
  };
}
