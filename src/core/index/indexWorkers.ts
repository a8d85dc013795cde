// A small pool of index workers. Jobs are files; replies are file records or
// skip reasons. A worker that dies is replaced and its jobs are sent again
// (once); a job that kills a second worker is answered with an error, and the
// index then reads that file on the main thread.
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScriptPath } from '../assets';
import type { ChunkOptions } from '../chunk/chunker';
import type { PieceTable } from '../tokens/pieces';
import type { SkipReason } from '../types';
import type { FileRecord } from './workspaceIndex';

export interface WorkerJob {
  id: number;
  path: string;
  abs: string;
  /** Test hook: make the worker exit while handling this job (once, or every time it is sent). */
  crash?: 'once' | 'always';
}

/**
 * A file's record, and what the main thread needs to finish it. `strings`:
 * UTF-8 bytes back to back (`lengths` in UTF-16 units): for chunk i of n, its
 * subtokens joined by spaces (its `uses` come empty) are string i; the strings
 * after those are the pieces that the worker's piece counter did not know
 * (pieces of the chunks, of their last lines, and of the seams between chunks),
 * each once. `counts`: for chunk i, the sum of its known pieces' counts
 * (counts[i]), and where its run of unknown pieces ends (counts[n + i]) in the
 * list from 2n on, which names them by their place among the unknown strings.
 * The main thread adds the counts of those pieces (its own, or tiktoken's for
 * new ones) and teaches them to the workers: it never decodes or splits the
 * chunks' text, which was a third of its CPU time while indexing (perf of
 * bench:load at 100,000 files). Bytes are moved, not copied, and the strings
 * made from them die young.
 */
export type WorkerReply =
  | { id: number; record: FileRecord; strings: Uint8Array; lengths: number[]; counts: Int32Array }
  | { id: number; skip: SkipReason }
  | { id: number; error: string };

/** Pieces and counts the main thread sends to every worker: what their piece counters then know. */
export interface WorkerLesson {
  learn: PieceTable;
}

/** What a worker's piece counter starts from: the encoding's pre-tokenizer pattern and the pieces known so far. */
export interface WorkerPieces {
  pattern: string;
  known: PieceTable;
}

const utf8 = new TextDecoder();

/** The strings of a reply (see WorkerReply). */
export function replyStrings(reply: { strings: Uint8Array; lengths: number[] }): string[] {
  const all = utf8.decode(reply.strings);
  const out: string[] = [];
  let at = 0;
  for (const n of reply.lengths) {
    out.push(all.slice(at, at + n));
    at += n;
  }
  return out;
}

export interface PoolOptions {
  chunkOptions: ChunkOptions;
  pieces: WorkerPieces;
  maxBytes: number;
  syntax: boolean;
  size?: number;
  assetsDir?: string;
  log?: (msg: string) => void;
}

/** The bundled worker script, or undefined when it is not built (then indexing runs in-process). */
export function workerScript(): string | undefined {
  return workerScriptPath('indexWorker.js');
}

interface Slot {
  worker: Worker;
  inflight: Map<number, WorkerJob>;
}

const IN_FLIGHT_PER_WORKER = 4;

export class IndexWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (r: WorkerReply) => void; retried: boolean }>();
  private closed = false;
  restarts = 0;

  constructor(
    private readonly script: string,
    private readonly opts: PoolOptions,
  ) {
    const n = opts.size ?? Math.max(1, Math.min(4, cpus().length));
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    // Workers take the priority of the thread that starts them: in the
    // extension, the engine process's, below normal (engineClient.ts). Lowered
    // inside the extension host's own process instead (tried twice), they were
    // starved on 2 cores while holding locks that the host's thread then waited
    // for (glibc's allocator, V8's collector): 64–98 ms stalls with that thread
    // asleep on a lock (bench:load, perf sched traces).
    const worker = new Worker(this.script, {
      // Parsing makes garbage by the megabyte; small generations collect it early
      // (bench: peak RSS of a cold index 560 → 475 MB, same time). A dense 1 MB
      // file chunks within 40 MB of old space; a worker that still runs out dies
      // and its file is indexed on the main thread.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 },
      workerData: { chunkOptions: this.opts.chunkOptions, maxBytes: this.opts.maxBytes, assetsDir: this.opts.assetsDir, syntax: this.opts.syntax, pieces: this.opts.pieces },
    });
    const slot: Slot = { worker, inflight: new Map() };
    worker.on('message', (reply: WorkerReply) => {
      slot.inflight.delete(reply.id);
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      w?.resolve(reply);
    });
    worker.on('error', (err) => this.opts.log?.(`index worker error: ${err.message}`));
    worker.on('exit', (code) => {
      if (this.closed) return;
      this.restarts++;
      this.opts.log?.(`index worker exited (code ${code}); restarting it and resending ${slot.inflight.size} file(s)`);
      const orphans = [...slot.inflight.values()];
      const i = this.slots.indexOf(slot);
      const fresh = this.spawn();
      if (i >= 0) this.slots[i] = fresh;
      for (const job of orphans) {
        const w = this.waiting.get(job.id);
        if (!w) continue;
        if (w.retried) {
          this.waiting.delete(job.id);
          w.resolve({ id: job.id, error: 'an index worker died twice on this file' });
        } else {
          w.retried = true;
          this.send(fresh, { ...job, crash: job.crash === 'once' ? undefined : job.crash });
        }
      }
    });
    return slot;
  }

  private send(slot: Slot, job: WorkerJob): void {
    slot.inflight.set(job.id, job);
    slot.worker.postMessage(job);
  }

  /** Teaches every worker these pieces' counts (a worker restarted later starts from `pieces` again and learns them anew). */
  teach(table: PieceTable): void {
    if (this.closed || table.text.length === 0) return;
    const lesson: WorkerLesson = { learn: table };
    for (const slot of this.slots) slot.worker.postMessage(lesson);
  }

  /** Room for another job right now (callers keep at most this many in flight). */
  get capacity(): number {
    return this.slots.length * IN_FLIGHT_PER_WORKER;
  }

  run(job: WorkerJob): Promise<WorkerReply> {
    if (this.closed) return Promise.resolve({ id: job.id, error: 'pool closed' });
    const slot = this.slots.reduce((a, b) => (b.inflight.size < a.inflight.size ? b : a));
    return new Promise((resolve) => {
      this.waiting.set(job.id, { resolve, retried: false });
      this.send(slot, job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, w] of this.waiting) w.resolve({ id, error: 'pool closed' });
    this.waiting.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
