// Long work on the thread that also serves the editor (saving or loading the
// index cache, a full BM25 or import-graph build) runs in slices: after about
// SLICE_MS of work it waits for the next event-loop turn, so nothing stalls the
// extension host for long.
export const SLICE_MS = 12;

/** The next event-loop turn (after pending I/O and timers). */
export function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A `breathe()` for one job: resolves at once, or on the next turn once SLICE_MS of work has passed since the last one. */
export function slicer(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < SLICE_MS) return;
    await nextTurn();
    last = performance.now();
  };
}
