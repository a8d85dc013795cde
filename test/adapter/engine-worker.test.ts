// The engine in its worker thread (dist/engineWorker.js, built by npm test)
// answers as the same engine on this thread does, and its faults reach the host
// as clear errors: a worker that dies cancels the calls in flight.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { workerScriptPath } from '../../src/core/assets';
import { emptySignals } from '../../src/core/types';
import { openEngineClient, RestartPolicy, WorkerEngineClient } from '../../src/extension/engineClient';
import { EngineSession } from '../../src/extension/engineSession';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
const options = { root: w.root, settings: { model: 'llama-3.1-8b', hardware: 'h100-sxm', budget: 4096 }, index: { syntax: null }, ranker: { device: 'cpu' as const } };
const script = workerScriptPath('engineWorker.js');
const logs: string[] = [];
let remote: WorkerEngineClient;
let local: EngineSession;

before(async () => {
  assert.ok(script, 'npm test builds dist/engineWorker.js first');
  remote = await WorkerEngineClient.open(script, options, { log: (m) => logs.push(m) });
  local = await EngineSession.open(options);
  await local.refresh();
});
after(async () => {
  await remote.dispose();
  await local.dispose();
  w.cleanup();
});

describe('engine worker', () => {
  it('is what openEngineClient gives once the worker is built', async () => {
    const client = await openEngineClient(options, { log: () => undefined });
    try {
      assert.ok(client instanceof WorkerEngineClient);
    } finally {
      await client.dispose();
    }
  });

  it('indexes with progress and answers as the engine on this thread does', async () => {
    const progress: string[] = [];
    const stats = await remote.refresh({ onProgress: (p) => progress.push(p.phase) });
    assert.equal(stats.files, 4);
    assert.ok(stats.complete);
    assert.ok(progress.includes('done'), `progress phases: ${progress.join(',')}`);
    const pos = { path: 'src/main.ts', line: 4, column: 0 };
    const [a, b] = [await remote.compute(pos, emptySignals()), await local.compute(pos, emptySignals())];
    assert.equal(a.prompt.text, b.prompt.text);
    assert.equal(a.prompt.tokens, b.prompt.tokens);
    assert.deepEqual(
      a.report.items.map((i) => [i.id, i.selected, i.reason]),
      b.report.items.map((i) => [i.id, i.selected, i.reason]),
    );
    const info = await remote.info();
    assert.equal(info.model.id, 'llama-3.1-8b');
    assert.equal(info.index.files, 4);
    const facts = await remote.panelFacts(a.id, emptySignals(), true);
    assert.equal(facts.windows?.[0].kind, 'cursor');
    assert.equal(facts.cache?.totalTokens, a.prompt.tokens);
    const samples = await remote.samples(a.id);
    const counts = await remote.countTokens(samples);
    assert.deepEqual(counts, await local.countTokens(samples));
    assert.ok(counts.every((n) => n > 0));
  });

  it('applies calls in the order they were made: an overlay is in place for the compute after it', async () => {
    const overlay = SAMPLE_PROJECT['src/main.ts'] + '\nexport const unsavedMarker = 42;\n';
    const plain = await remote.compute({ path: 'src/main.ts', line: 7, column: 0 }, emptySignals());
    void remote.editorText('src/main.ts', overlay, false); // not awaited: the next call still sees it
    const edited = await remote.compute({ path: 'src/main.ts', line: 7, column: 0 }, emptySignals());
    assert.ok(!plain.prompt.text.includes('unsavedMarker'));
    assert.ok(edited.prompt.text.includes('unsavedMarker'));
    await remote.editorText('src/main.ts', undefined, false);
    assert.deepEqual(await remote.chunkIdsInLines('src/main.ts', 1, 1), (await local.chunkIdsInLines('src/main.ts', 1, 1)));
  });

  it('holds the editor text for queries, indexes it when asked (sent once), and goes back to the disk', async () => {
    const path = 'src/main.ts';
    const onDisk = await remote.chunkIdsInLines(path, 1, 10_000);
    const longer = SAMPLE_PROJECT[path] + '\n' + Array.from({ length: 130 }, (_, k) => `export const v${k} = ${k};`).join('\n');
    await remote.editorText(path, longer, false);
    assert.deepEqual(await remote.chunkIdsInLines(path, 1, 10_000), onDisk, 'held for queries, not indexed');
    await remote.reindexEditorText(path);
    const edited = await remote.chunkIdsInLines(path, 1, 10_000);
    assert.ok(edited.length > onDisk.length, edited.join(' '));
    await remote.editorText(path, undefined, true);
    assert.deepEqual(await remote.chunkIdsInLines(path, 1, 10_000), onDisk);
  });

  it('cancels a compute whose signal aborts, at once, and answers the next one', async () => {
    const abort = new AbortController();
    const call = remote.compute({ path: 'src/main.ts', line: 4, column: 0 }, emptySignals(), { signal: abort.signal });
    abort.abort();
    await assert.rejects(call, /^Error: cancelled$/);
    await assert.rejects(remote.compute({ path: 'src/main.ts', line: 4, column: 0 }, emptySignals(), { signal: abort.signal }), /cancelled/, 'an aborted signal fails before posting');
    // A refresh whose signal aborts still answers, with what it indexed so far.
    const stopRefresh = new AbortController();
    const partial = remote.refresh({ signal: stopRefresh.signal });
    stopRefresh.abort();
    assert.equal(typeof (await partial).complete, 'boolean');
    const next = await remote.compute({ path: 'src/main.ts', line: 4, column: 0 }, emptySignals());
    assert.ok(next.prompt.tokens > 0);
  });

  it('says why an engine cannot open (an unknown model), from the worker', async () => {
    await assert.rejects(WorkerEngineClient.open(script!, { ...options, settings: { model: 'no-such-model' } }, { log: () => undefined }), /unknown model 'no-such-model'/);
  });

  it('rejects the calls in flight when the worker dies, tells the host, and refuses later calls', async () => {
    let exitCode: number | undefined;
    const doomed = await WorkerEngineClient.open(script!, options, { log: () => undefined, onExit: (code) => (exitCode = code) });
    // Not in the middle of a model run: ending a thread inside ONNX Runtime's native run aborts the process
    // (the product avoids that by closing model workers between runs; a real crash of this worker could still hit one).
    while ((await doomed.info()).rankerDevice === 'starting') await new Promise((r) => setTimeout(r, 20));
    const inFlight = doomed.refresh();
    doomed.crashForTest();
    await assert.rejects(inFlight, /engine worker stopped \(exit code 3\)/);
    assert.equal(exitCode, 3);
    await assert.rejects(doomed.info(), /engine worker stopped/);
    await doomed.dispose(); // nothing left to end: no throw
  });

  it('ends the worker on dispose; later calls say so', async () => {
    const client = await WorkerEngineClient.open(script!, options, { log: () => undefined });
    await client.dispose();
    await assert.rejects(client.info(), /disposed/);
  });
});

describe('restarting a crashed engine', () => {
  it('starts it again until it crashed 3 times in 10 minutes, per folder, and forgets on reset', () => {
    let now = 0;
    const policy = new RestartPolicy(3, 10 * 60_000, () => now);
    assert.deepEqual(policy.crashed('a'), { restart: true, count: 1 });
    now += 60_000;
    assert.deepEqual(policy.crashed('a'), { restart: true, count: 2 });
    assert.deepEqual(policy.crashed('b'), { restart: true, count: 1 }, 'another folder counts apart');
    now += 60_000;
    assert.deepEqual(policy.crashed('a'), { restart: false, count: 3 });
    // Crashes older than the window no longer count.
    now += 10 * 60_000;
    assert.deepEqual(policy.crashed('a'), { restart: true, count: 1 });
    policy.crashed('a');
    policy.reset();
    assert.deepEqual(policy.crashed('a'), { restart: true, count: 1 });
  });
});
