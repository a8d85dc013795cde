import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CHUNK_OPTIONS } from '../../src/core/chunk/chunker';
import { IndexWorkerPool, replyStrings, workerScript } from '../../src/core/index/indexWorkers';
import { WorkspaceIndex } from '../../src/core/index/workspaceIndex';
import { loadTokenizer } from '../../src/core/tokens/tokenizer';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
after(() => w.cleanup());
const script = workerScript();
/** The pool's piece counters start from nothing: every piece goes back to be counted. */
const pieces = async () => ({ pattern: (await loadTokenizer('o200k_base')).piecePattern, known: { text: [], tokens: [] } });

describe('index worker threads', { skip: !script && 'dist/indexWorker.js not built (npm test builds it)' }, () => {
  it('give the same index as in-process indexing', async () => {
    const inProcess = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 0 });
    const threaded = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 2 });
    // Chunks as plain data: term numbering inside an index depends on the order files arrived.
    const dump = (i: WorkspaceIndex) => [...i.files()].sort().map((f) => [f, JSON.parse(JSON.stringify(i.chunksOf(f)))]);
    assert.deepEqual(dump(threaded), dump(inProcess));
    assert.equal(threaded.stats().filesRead, 4);
  });

  it('sum the pieces they were taught, and send back each piece they do not know, once', async () => {
    const inProcess = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 0 });
    const tokenizer = await loadTokenizer('o200k_base');
    const pool = new IndexWorkerPool(script!, { chunkOptions: DEFAULT_CHUNK_OPTIONS, pieces: await pieces(), maxBytes: 1 << 20, syntax: false, size: 1 });
    try {
      const job = { path: 'src/math.ts', abs: join(w.root, 'src/math.ts') };
      const want = inProcess.chunksOf(job.path).map((c) => c.tokens);
      // Knowing nothing, a worker sums nothing: every piece comes back.
      const first = await pool.run({ id: 1, ...job });
      assert.ok('record' in first);
      const n = first.record.chunks.length;
      assert.equal(n, want.length);
      const unknown = replyStrings(first).slice(n);
      assert.equal(new Set(unknown).size, unknown.length);
      assert.deepEqual([...first.counts.subarray(0, n)], new Array(n).fill(0));
      const counts = await tokenizer.countPieces(unknown);
      const total = (i: number) => {
        let sum = first.counts[i];
        for (let k = 2 * n + (i ? first.counts[n + i - 1] : 0); k < 2 * n + first.counts[n + i]; k++) sum += counts[first.counts[k]];
        return sum;
      };
      assert.deepEqual(want.map((_, i) => total(i)), want);
      // Taught those pieces, it sums every chunk itself and has nothing to ask.
      pool.teach({ text: unknown, tokens: counts });
      const again = await pool.run({ id: 2, ...job });
      assert.ok('record' in again);
      assert.deepEqual([...again.counts.subarray(0, n)], want);
      assert.deepEqual(replyStrings(again).slice(n), []);
    } finally {
      await pool.close();
    }
  });

  it('restart a crashed worker and answer the job it was handling', async () => {
    const logs: string[] = [];
    const pool = new IndexWorkerPool(script!, { chunkOptions: DEFAULT_CHUNK_OPTIONS, pieces: await pieces(), maxBytes: 1 << 20, syntax: false, size: 1, log: (m) => logs.push(m) });
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
    const pool = new IndexWorkerPool(script!, { chunkOptions: DEFAULT_CHUNK_OPTIONS, pieces: await pieces(), maxBytes: 1 << 20, syntax: false, size: 1 });
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
    const pool = new IndexWorkerPool(script!, { chunkOptions: DEFAULT_CHUNK_OPTIONS, pieces: await pieces(), maxBytes: 1 << 20, syntax: false, size: 1 });
    try {
      const reply = await pool.run({ id: 1, path: 'gone.ts', abs: join(w.root, 'gone.ts') });
      assert.deepEqual(reply, { id: 1, skip: 'vanished' });
    } finally {
      await pool.close();
    }
  });
});
