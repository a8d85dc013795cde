// The turn scheduler (slices.ts): jobs that yield together resume one per
// event-loop iteration, so the loop's timers and I/O run between any two
// slices; a query's turn comes before background work's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextTurn, sliceSpent, slicer } from '../../src/core/slices';

/** Counts event-loop iterations: an immediate that re-queues itself runs once per iteration. */
function iterationCounter(): { readonly now: number; stop(): void } {
  let n = 0;
  let stopped = false;
  const tick = () => {
    n++;
    if (!stopped) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get now() {
      return n;
    },
    stop: () => (stopped = true),
  };
}

describe('turns', () => {
  it('waiters resume one per event-loop iteration, in the order they asked', async () => {
    const iter = iterationCounter();
    const resumed: Array<{ job: number; at: number }> = [];
    await Promise.all([0, 1, 2, 3].map(async (job) => {
      await nextTurn();
      resumed.push({ job, at: iter.now });
      await nextTurn();
      resumed.push({ job, at: iter.now });
    }));
    iter.stop();
    assert.deepEqual(resumed.map((r) => r.job), [0, 1, 2, 3, 0, 1, 2, 3]);
    const ats = resumed.map((r) => r.at);
    assert.equal(new Set(ats).size, ats.length, `two resumed in the same iteration: ${ats}`);
  });

  it("a query's turn comes before background work that asked first", async () => {
    const order: string[] = [];
    await Promise.all([
      nextTurn().then(() => order.push('background 1')),
      nextTurn().then(() => order.push('background 2')),
      nextTurn('query').then(() => order.push('query')),
    ]);
    // Turns are handed out on the next iteration: a query that asks in this one still goes first.
    assert.deepEqual(order, ['query', 'background 1', 'background 2']);
  });

  it('a slice is spent once its time has run, whoever runs in it: a job started then yields at its first check', async () => {
    await nextTurn();
    const end = performance.now() + 15;
    while (performance.now() < end);
    assert.equal(sliceSpent(), true);
    const breathe = slicer(); // a job started late in a spent slice yields at its first check
    let resumed = false;
    const p = breathe().then(() => (resumed = true));
    assert.equal(resumed, false);
    await p;
    assert.equal(resumed, true);
  });
});
