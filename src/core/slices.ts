// Long work on the thread that also serves the editor (indexing, saving or
// loading the index cache, a full BM25 or import-graph build, a query's stage 1)
// runs in slices: after about SLICE_MS of work it waits for a turn, so nothing
// stalls the extension host for long.
//
// Turns are handed out here, one per event-loop iteration: several jobs that
// each yield on their own (setImmediate) all resume in the same iteration, one
// slice after another, and the loop's timers and I/O wait for all of them
// (bench:load: 60–80 ms gaps made of several slices and a GC in a row). The
// slice is shared too: work that resumes on I/O (a worker's reply) counts from
// the start of the slice that ran last, so it yields at its first check when
// that slice is spent.
export const SLICE_MS = 12;

export type TurnPriority = 'query' | 'background';

const waiting: Record<TurnPriority, Array<() => void>> = { query: [], background: [] };
let scheduled = false;
/** When the slice running now began: the last turn handed out. */
let sliceStart = performance.now();

function handOutTurn(): void {
  scheduled = false;
  const next = waiting.query.shift() ?? waiting.background.shift();
  // Scheduled from inside an immediate, the next hand-out runs in the next iteration.
  if (waiting.query.length + waiting.background.length > 0) {
    scheduled = true;
    setImmediate(handOutTurn);
  }
  sliceStart = performance.now();
  next?.();
}

/**
 * The next turn: after pending timers and I/O, and after the turns of jobs that
 * asked first (a query's before background work's).
 */
export function nextTurn(priority: TurnPriority = 'background'): Promise<void> {
  return new Promise((resolve) => {
    waiting[priority].push(resolve);
    if (!scheduled) {
      scheduled = true;
      setImmediate(handOutTurn);
    }
  });
}

/** Whether this slice has run its SLICE_MS (whoever started it): then yield with `nextTurn()`. */
export function sliceSpent(): boolean {
  return performance.now() - sliceStart >= SLICE_MS;
}

/** Resolves at once, or on the next turn once the slice is spent. */
export function breathe(priority: TurnPriority = 'background'): Promise<void> {
  return sliceSpent() ? nextTurn(priority) : Promise.resolve();
}

/** A `breathe()` for one job, to hand to code that takes one. */
export function slicer(priority: TurnPriority = 'background'): () => Promise<void> {
  return () => breathe(priority);
}
