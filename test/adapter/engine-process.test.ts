// The engine in its own process (dist/engineProcess.js, built by npm test)
// answers as the same engine on this thread does, and its faults reach the host
// as clear errors: a process that dies cancels the calls in flight.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workerScriptPath } from '../../src/core/assets';
import { emptySignals } from '../../src/core/types';
import { ENGINE_PRIORITY, EngineProcessClient, openEngineClient, RestartPolicy } from '../../src/extension/engineClient';
import { EngineSession } from '../../src/extension/engineSession';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
const options = { root: w.root, settings: { model: 'llama-3.1-8b', hardware: 'h100-sxm', budget: 4096 }, index: { syntax: null }, ranker: { device: 'cpu' as const } };
const script = workerScriptPath('engineProcess.js');
const logs: string[] = [];
let remote: EngineProcessClient;
let local: EngineSession;

before(async () => {
  assert.ok(script, 'npm test builds dist/engineProcess.js first');
  remote = await EngineProcessClient.open(script, options, { log: (m) => logs.push(m) });
  local = await EngineSession.open(options);
  await local.refresh();
});
after(async () => {
  await remote.dispose();
  await local.dispose();
  w.cleanup();
});

describe('engine process', () => {
  it('is what openEngineClient gives once its script is built', async () => {
    const client = await openEngineClient(options, { log: () => undefined });
    try {
      assert.ok(client instanceof EngineProcessClient);
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

  it('says why an engine cannot open (an unknown model), from its process', async () => {
    await assert.rejects(EngineProcessClient.open(script!, { ...options, settings: { model: 'no-such-model' } }, { log: () => undefined }), /unknown model 'no-such-model'/);
  });

  it('rejects the calls in flight when the process dies, tells the host, and refuses later calls', async () => {
    let exit: [number | null, string | null] | undefined;
    const doomed = await EngineProcessClient.open(script!, options, { log: () => undefined, onExit: (code, signal) => (exit = [code, signal]) });
    const inFlight = doomed.refresh();
    doomed.crashForTest();
    await assert.rejects(inFlight, /engine process stopped \(exit code 3\)/);
    assert.deepEqual(exit, [3, null]);
    await assert.rejects(doomed.info(), /engine process stopped/);
    await doomed.dispose(); // nothing left to end: no throw
  });

  it('ends only the engine when its process is killed mid-compute', async () => {
    let signal: string | null = null;
    const logged: string[] = [];
    const doomed = await EngineProcessClient.open(script!, options, { log: (m) => logged.push(m), onExit: (_code, s) => (signal = s) });
    await doomed.refresh();
    const computing = doomed.compute({ path: 'src/main.ts', line: 4, column: 0 }, emptySignals());
    process.kill(doomed.pid!, 'SIGKILL');
    await assert.rejects(computing, /engine process stopped \(signal SIGKILL\)/);
    assert.equal(signal, 'SIGKILL');
    assert.ok(logged.some((m) => /engine process stopped \(signal SIGKILL\); \d+ call\(s\) in flight were cancelled/.test(m)), logged.join('\n'));
    // This process (the extension host) carries on: the shared engine still answers.
    assert.ok((await remote.info()).index.files > 0);
  });

  it('starts without its V8 flags when the runtime does not know one', async () => {
    const logged: string[] = [];
    const client = await EngineProcessClient.open(script!, options, { log: (m) => logged.push(m) }, { priority: ENGINE_PRIORITY, v8Flags: ['--no-such-v8-flag'] });
    try {
      assert.equal((await client.info()).model.id, 'llama-3.1-8b');
      assert.ok(logged.some((m) => m.includes('did not take its V8 flags (--no-such-v8-flag)')), logged.join('\n'));
      assert.ok(process.platform !== 'linux' || !readFileSync(`/proc/${client.pid}/cmdline`, 'utf8').includes('--no-such-v8-flag'), 'the running engine has no such flag');
    } finally {
      await client.dispose();
    }
  });

  it('ends the process on dispose; later calls say so', async () => {
    const client = await EngineProcessClient.open(script!, options, { log: () => undefined });
    const pid = client.pid!;
    await client.dispose();
    await assert.rejects(client.info(), /disposed/);
    assert.ok(!alive(pid), `process ${pid} still runs after dispose`);
  });

  it('runs below normal priority, so the editor gets a core first', async () => {
    if (process.platform === 'win32') return; // getPriority maps to priority classes there
    // Never above this process's own (a host that already runs niced keeps its value).
    const want = Math.max(ENGINE_PRIORITY, getPriority());
    assert.equal(getPriority(remote.pid!), want);
    if (process.platform !== 'linux') return;
    // Every thread: the nice value is per thread there, and V8's helpers start before the engine's code runs.
    const nices = readdirSync(`/proc/${remote.pid}/task`).map((tid) => Number(readFileSync(`/proc/${remote.pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]));
    assert.ok(nices.length > 4, `threads: ${nices.length}`);
    assert.deepEqual([...new Set(nices)], [want], `nice values of the engine's threads: ${nices.join(' ')}`);
  });

  it('ends itself when the extension host goes without disposing it, mid-index', async () => {
    // A host that starts indexing and exits (a killed window): the engine must stop, not index on and
    // save a cache for no one.
    const big = makeWorkspace(Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`m${i % 20}/f${i}.ts`, `export function f${i}(x: number) {\n  return x * ${i};\n}\n`.repeat(20)])));
    const cacheDir = join(big.root, '.cache');
    try {
      const host = spawnSync(process.execPath, ['--import', 'tsx', '-e', orphanHost(script!, big.root, cacheDir)], { encoding: 'utf8', timeout: 60_000 });
      const pid = Number(/engine pid (\d+)/.exec(host.stdout)?.[1]);
      assert.ok(pid > 0, `host output: ${host.stdout} ${host.stderr}`);
      const deadline = Date.now() + 20_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(!alive(pid), `engine process ${pid} outlived its host by 20 s`);
      const saved = existsSync(cacheDir) ? readdirSync(cacheDir).filter((f) => f.endsWith('.json')) : [];
      assert.deepEqual(saved, [], 'it stopped when the host went, before finishing the index and saving it');
    } finally {
      big.cleanup();
    }
  });
});

/** Whether process `pid` still runs (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

/** A script for a host process that opens an engine, starts indexing, prints the engine's pid and exits without disposing it. */
function orphanHost(scriptPath: string, root: string, cacheDir: string): string {
  const client = JSON.stringify(join(__dirname, '../../src/extension/engineClient.ts'));
  return `const { EngineProcessClient } = require(${client});
EngineProcessClient.open(${JSON.stringify(scriptPath)}, { root: ${JSON.stringify(root)}, index: { syntax: null, cacheDir: ${JSON.stringify(cacheDir)} }, ranker: { device: 'cpu' } }, { log: () => undefined })
  .then((c) => {
    let once = false;
    void c.refresh({ onProgress: () => { if (once) return; once = true; console.log('engine pid ' + c.pid); process.exit(0); } });
  }, (e) => { console.error(e); process.exit(1); });`;
}

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
