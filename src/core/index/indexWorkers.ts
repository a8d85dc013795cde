// A small pool of index workers. Jobs are files; replies are file records or
// skip reasons. A worker that dies is replaced and its jobs are sent again
// (once); a job that kills a second worker is answered with an error, and the
// index then reads that file on the main thread.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { assetPath } from '../assets';
import type { ChunkOptions } from '../chunk/chunker';
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
 * A file's record, and the strings the main thread needs to finish it, as UTF-8
 * bytes back to back (`lengths` in UTF-16 units): for chunk i of n, its text
 * (the main thread counts its tokens) is string i and its subtokens joined by
 * spaces (its `uses` come empty) string n + i; the rest are seams, text between
 * chunks to learn pieces from. Sent as strings, each reply's ≈13 KB outlived
 * the young generation on the main thread (a heap profile of 30,000 files:
 * 400 MB of them) and filled the old one with garbage; bytes are moved, and
 * the strings made from them die young.
 */
export type WorkerReply = ({ id: number; record: FileRecord; strings: Uint8Array; lengths: number[] } | { id: number; skip: SkipReason } | { id: number; error: string }) & {
  /** How long the worker held off before this file (see waitWhileHostCollects). */
  heldOffMs?: number;
};

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
  maxBytes: number;
  syntax: boolean;
  size?: number;
  assetsDir?: string;
  log?: (msg: string) => void;
}

/** The bundled worker script, or undefined when it is not built (then indexing runs in-process). */
export function workerScript(): string | undefined {
  try {
    const p = assetPath('indexWorker.js');
    return existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

interface Slot {
  worker: Worker;
  inflight: Map<number, WorkerJob>;
}

const IN_FLIGHT_PER_WORKER = 4;

/** The longest a worker holds off at a time: should the end of a collection go unseen, indexing goes on. */
export const HOLD_OFF_MAX_MS = 500;

/**
 * In a worker, before each file: waits while the host's heap has a major
 * collection under way (`collecting[0]` is 1 from the start of marking to the
 * end of its pause), at most HOLD_OFF_MAX_MS. Returns the ms waited.
 *
 * V8 marks on helper threads (four in Node) at the same priority as the
 * extension host's thread; with the workers running too, that thread waited
 * for a core: at 100,000 files on 2 cores, every event-loop stall over 30 ms
 * fell inside a major collection (bench:load: one of 70 ms, 49 of it queued),
 * while they took 2% of the time. A worker that waits gives a core back and
 * sends no reply to be read meanwhile, and the marking ends sooner.
 */
export function waitWhileHostCollects(collecting: Int32Array): number {
  if (Atomics.load(collecting, 0) === 0) return 0;
  const start = performance.now();
  let waited = 0;
  while (Atomics.load(collecting, 0) !== 0 && waited < HOLD_OFF_MAX_MS) {
    Atomics.wait(collecting, 0, 1, HOLD_OFF_MAX_MS - waited);
    waited = performance.now() - start;
  }
  return waited;
}

export class IndexWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (r: WorkerReply) => void; retried: boolean }>();
  private closed = false;
  /** 1 while this thread's heap has a major collection under way (see waitWhileHostCollects). */
  private readonly collecting = new Int32Array(new SharedArrayBuffer(4));
  private readonly gcWatch = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      // An incremental-marking entry comes when marking starts; the major one at the end of its pause.
      if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) this.setCollecting(1);
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.setCollecting(0);
    }
  });
  restarts = 0;
  /** Times workers held off for a collection here, and ms in all (summed over workers). */
  readonly heldOff = { times: 0, ms: 0 };

  constructor(
    private readonly script: string,
    private readonly opts: PoolOptions,
  ) {
    const n = opts.size ?? Math.max(1, Math.min(4, cpus().length));
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
    this.gcWatch.observe({ entryTypes: ['gc'] });
  }

  private setCollecting(v: 0 | 1): void {
    Atomics.store(this.collecting, 0, v);
    if (v === 0) Atomics.notify(this.collecting, 0);
  }

  private spawn(): Slot {
    // Workers keep normal CPU priority. At nice 10 (tried) they were starved on
    // 2 cores while holding locks that the extension host's thread then waited
    // for (glibc's allocator, V8's collector): bench:load at 100,000 files had
    // 75–98 ms stalls with that thread asleep on a lock in 4 of 9 runs (perf
    // sched traces); at normal priority 1 of 8, 46–56 ms, inside a GC pause.
    const worker = new Worker(this.script, {
      // Parsing makes garbage by the megabyte; small generations collect it early
      // (bench: peak RSS of a cold index 560 → 475 MB, same time). A dense 1 MB
      // file chunks within 40 MB of old space; a worker that still runs out dies
      // and its file is indexed on the main thread.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 },
      workerData: { chunkOptions: this.opts.chunkOptions, maxBytes: this.opts.maxBytes, assetsDir: this.opts.assetsDir, syntax: this.opts.syntax, collecting: this.collecting },
    });
    const slot: Slot = { worker, inflight: new Map() };
    worker.on('message', (reply: WorkerReply) => {
      slot.inflight.delete(reply.id);
      if (reply.heldOffMs) {
        this.heldOff.times++;
        this.heldOff.ms += reply.heldOffMs;
      }
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
    this.gcWatch.disconnect();
    this.setCollecting(0);
    for (const [id, w] of this.waiting) w.resolve({ id, error: 'pool closed' });
    this.waiting.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
