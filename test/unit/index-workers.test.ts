import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CHUNK_OPTIONS } from '../../src/core/chunk/chunker';
import { Worker } from 'node:worker_threads';
import { HOLD_OFF_MAX_MS, IndexWorkerPool, waitWhileHostCollects, workerScript } from '../../src/core/index/indexWorkers';
import { WorkspaceIndex } from '../../src/core/index/workspaceIndex';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
after(() => w.cleanup());
const script = workerScript();

describe('index worker threads', { skip: !script && 'dist/indexWorker.js not built (npm test builds it)' }, () => {
  it('give the same index as in-process indexing', async () => {
    const inProcess = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 0 });
    const threaded = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 2 });
    // Chunks as plain data: term numbering inside an index depends on the order files arrived.
    const dump = (i: WorkspaceIndex) => [...i.files()].sort().map((f) => [f, JSON.parse(JSON.stringify(i.chunksOf(f)))]);
    assert.deepEqual(dump(threaded), dump(inProcess));
    assert.equal(threaded.stats().filesRead, 4);
  });

  it('restart a crashed worker and answer the job it was handling', async () => {
    const logs: string[] = [];
    const pool = new IndexWorkerPool(script!, { chunkOptions: DEFAULT_CHUNK_OPTIONS, maxBytes: 1 << 20, syntax: false, size: 1, log: (m) => logs.push(m) });
    try {
      const reply = await pool.run({ id: 1, path: 'src/math.ts', abs: join(w.root, 'src/math.ts'), crash: 'once' });
      assert.ok('record' in reply, JSON.stringify(reply));
      assert.equal(pool.restarts, 1);
      assert.match(logs.join('\n'), /restarting/);
      const again = await pool.run({ id: 2, path: 'README.md', abs: join(w.root, 'README.md') });
      assert.ok('record' in again);
    } finally {
      await pool.close();
    }
  });

  it('answer a job that kills a second worker with an error, and keep serving', async () => {
    const pool = new IndexWorkerPool(script!, { chunkOptions: DEFAULT_CHUNK_OPTIONS, maxBytes: 1 << 20, syntax: false, size: 1 });
    try {
      const reply = await pool.run({ id: 1, path: 'src/math.ts', abs: join(w.root, 'src/math.ts'), crash: 'always' });
      assert.ok('error' in reply, JSON.stringify(reply));
      assert.equal(pool.restarts, 2);
      assert.ok('record' in (await pool.run({ id: 2, path: 'README.md', abs: join(w.root, 'README.md') })));
    } finally {
      await pool.close();
    }
  });

  it('report a file that vanished as a counted skip', async () => {
    const pool = new IndexWorkerPool(script!, { chunkOptions: DEFAULT_CHUNK_OPTIONS, maxBytes: 1 << 20, syntax: false, size: 1 });
    try {
      const reply = await pool.run({ id: 1, path: 'gone.ts', abs: join(w.root, 'gone.ts') });
      assert.deepEqual(reply, { id: 1, skip: 'vanished' });
    } finally {
      await pool.close();
    }
  });
});

describe('workers hold off while the host collects its heap', () => {
  it('go on at once when no collection is under way', () => {
    const collecting = new Int32Array(new SharedArrayBuffer(4));
    assert.equal(waitWhileHostCollects(collecting), 0);
  });

  it('wait until the host says the collection ended', async () => {
    // [0]: collecting; [1]: set by this thread just before it waits.
    const shared = new Int32Array(new SharedArrayBuffer(8));
    shared[0] = 1;
    // Another thread ends the "collection" 100 ms after this one starts waiting, as the pool's GC observer would.
    const ender = new Worker(
      `const { workerData: s } = require('node:worker_threads');
       Atomics.wait(s, 1, 0);
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
       Atomics.store(s, 0, 0);
       Atomics.notify(s, 0);`,
      { eval: true, workerData: shared },
    );
    await new Promise((r) => ender.once('online', r));
    Atomics.store(shared, 1, 1);
    Atomics.notify(shared, 1);
    const waited = waitWhileHostCollects(shared);
    await new Promise((r) => ender.once('exit', r));
    assert.ok(waited >= 90 && waited < HOLD_OFF_MAX_MS, `waited ${waited} ms`);
    assert.equal(shared[0], 0);
  });

  it('never wait longer than HOLD_OFF_MAX_MS, even if the end is never signalled', () => {
    const collecting = new Int32Array(new SharedArrayBuffer(4));
    collecting[0] = 1;
    const waited = waitWhileHostCollects(collecting);
    assert.ok(waited >= HOLD_OFF_MAX_MS - 1 && waited < HOLD_OFF_MAX_MS + 1000, `waited ${waited} ms`);
  });
});
