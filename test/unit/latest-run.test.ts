// Rapid cursor moves: many recomputes start, finish out of order, some fail; only
// the newest position's result may ever be shown, older ones are aborted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AskAgain, LatestRun } from '../../src/extension/latestRun';
import { fuzzRuns, rng } from '../helpers/fakeIndex';

/** What the controller does per recompute, with a fake compute of random latency. */
let newest = -1;
async function recompute(runs: LatestRun, position: number, latency: number, shown: number[], errors: number[], fail: boolean): Promise<void> {
  const run = runs.begin();
  newest = position;
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => (fail ? reject(new Error(`failed at ${position}`)) : resolve()), latency);
      run.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new Error('cancelled'));
      });
    });
    if (!run.isCurrent()) return;
    assert.equal(position, newest, 'a result for an older position was shown');
    shown.push(position);
  } catch {
    if (run.isCurrent() && !run.signal.aborted) {
      assert.equal(position, newest, 'an error for an older position was shown');
      errors.push(position);
    }
  }
}

describe('LatestRun (stale results never shown)', () => {
  it('of a burst of cursor moves with random latencies and failures, only the newest position ever shows, and the last one ends on screen', async () => {
    for (let trial = 0; trial < fuzzRuns(20); trial++) {
      const r = rng(trial + 1);
      const runs = new LatestRun();
      const shown: number[] = [];
      const errors: number[] = [];
      const all: Promise<void>[] = [];
      const n = 5 + Math.floor(r() * 30);
      for (let pos = 0; pos < n; pos++) {
        all.push(recompute(runs, pos, Math.floor(r() * 8), shown, errors, r() < 0.2));
        if (r() < 0.5) await new Promise((res) => setTimeout(res, Math.floor(r() * 3)));
      }
      await Promise.all(all);
      // Whatever showed was the newest position when it showed (asserted above); the final readout is the last position.
      const last = [...shown.map((p) => [p, 's']), ...errors.map((p) => [p, 'e'])].sort((x, y) => (x[0] as number) - (y[0] as number)).pop();
      assert.equal(last?.[0], n - 1, `trial ${trial}: shown ${shown} errors ${errors} of ${n}`);
      for (let i = 1; i < shown.length; i++) assert.ok(shown[i] > shown[i - 1], 'never goes back to an older position');
    }
  });

  it('begin() aborts the previous run; cancel() aborts the current one', () => {
    const runs = new LatestRun();
    const a = runs.begin();
    const b = runs.begin();
    assert.equal(a.signal.aborted, true);
    assert.equal(a.isCurrent(), false);
    assert.equal(b.isCurrent(), true);
    runs.cancel();
    assert.equal(b.signal.aborted, true);
  });
});

describe('asking again once a result that was behind can be current', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };
  const turns = () => new Promise((r) => setImmediate(r));

  it('asks again once, when the shown result is behind and what it waits on settles', async () => {
    let asked = 0;
    const ask = new AskAgain(() => asked++);
    const rebuild = deferred();
    ask.shown(rebuild.promise);
    ask.shown(rebuild.promise); // the same rebuild, shown twice
    await turns();
    assert.equal(asked, 0, 'not before the rebuild is done');
    rebuild.resolve();
    await turns();
    assert.equal(asked, 1);
  });

  it('does not ask again when a newer result was shown meanwhile, current or behind on something else', async () => {
    let asked = 0;
    const ask = new AskAgain(() => asked++);
    const first = deferred();
    ask.shown(first.promise);
    ask.shown(undefined); // a current result came
    first.resolve();
    await turns();
    assert.equal(asked, 0);
    const second = deferred();
    const third = deferred();
    ask.shown(second.promise);
    ask.shown(third.promise);
    second.resolve();
    await turns();
    assert.equal(asked, 0, 'the shown result waits on the third');
    third.resolve();
    await turns();
    assert.equal(asked, 1);
    const fourth = deferred();
    ask.shown(fourth.promise);
    ask.cancel(); // disposed
    fourth.resolve();
    await turns();
    assert.equal(asked, 1);
  });
});
