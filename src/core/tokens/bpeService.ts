// tiktoken's BPE in a worker thread, for the extension host: building the tables
// takes ≈150–300 ms, too long for an editor's event loop, and after that the
// main thread only ever needs counts of pieces it has not seen (a few per edit).
//
// Two ways to ask. Asynchronously (the index, counting new files): the request
// queues in the worker and the main thread goes on. Synchronously (counting
// inside a query, which is synchronous code): the main thread posts on a port of
// its own and blocks on a shared counter until the worker has answered on that
// port — a round trip of tens of microseconds once the tables are built.
//
// Faults: a worker that dies is replaced (up to MAX_RESTARTS times) and its
// queued requests sent again; a blocked caller sees the death through the shared
// state word (or a timeout for a worker that hangs) and counts that request on
// this thread instead. After the last restart everything counts on this thread,
// with one log line.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Bpe, EncodingName, LocalBpe } from './bpe';

/** Slots of the shared Int32Array: the worker's state, and a counter bumped with every synchronous answer. */
export const BPE_STATE = 0;
export const BPE_SEQ = 1;
export const BpeState = { Starting: 0, Ready: 1, Gone: 2 } as const;

export interface BpeInit {
  encoding: EncodingName;
  assetsDir?: string;
  syncPort: MessagePort;
  shared: Int32Array;
}

export type BpeRequest =
  | { id: number; op: 'count'; texts: readonly string[] }
  | { id: number; op: 'encode'; text: string }
  | { id: number; op: 'decode'; tokens: Uint32Array }
  /** Test hook: the worker exits. */
  | { id: number; op: 'crash' };

/** Id -1: the worker's start-up report (tables built, or why not). */
export type BpeResponse =
  | { id: number; ready: true; ms: number }
  | { id: number; counts: number[] }
  | { id: number; tokens: Uint32Array }
  | { id: number; text: string }
  | { id: number; error: string };

type RequestBody = BpeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface BpeServiceOptions {
  script: string;
  encoding: EncodingName;
  assetsDir?: string;
  log?: (msg: string) => void;
  /** How long a synchronous caller waits for a live worker before counting itself (it is then replaced). */
  syncTimeoutMs?: number;
}

const MAX_RESTARTS = 3;

interface Live {
  worker: Worker;
  port: MessagePort;
  shared: Int32Array;
}

export class BpeService implements Bpe {
  private live: Live | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { req: BpeRequest; resolve: (res: BpeResponse | undefined) => void }>();
  private closed = false;
  /** A worker has reported its tables once (restarts are logged as such). */
  private started = false;
  /** After the last restart (or a worker that cannot build its tables): every request counts on this thread. */
  private givenUp = false;
  private markReady!: (ok: boolean) => void;
  /** Resolves true once a worker has its tables, false when counting stays on this thread. */
  readonly ready: Promise<boolean> = new Promise((resolve) => (this.markReady = resolve));
  restarts = 0;
  /** Requests answered on this thread because no worker could (each may have built the tables here). */
  localAnswers = 0;
  syncCalls = 0;
  /** The longest one synchronous request blocked this thread (ms). */
  syncWaitMaxMs = 0;
  asyncCalls = 0;

  constructor(
    private readonly opts: BpeServiceOptions,
    /** This thread's encoder, for when no worker answers (its tables are built only if that happens). */
    private readonly local: LocalBpe,
  ) {
    try {
      this.live = this.spawn();
    } catch (err) {
      this.giveUp(`could not start the tokenizer worker (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /** Whether requests go to a worker (false after giving up). */
  get usingWorker(): boolean {
    return !this.givenUp && this.live !== undefined;
  }

  private spawn(): Live {
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const { port1, port2 } = new MessageChannel();
    const init: BpeInit = { encoding: this.opts.encoding, assetsDir: this.opts.assetsDir, syncPort: port2, shared };
    const worker = new Worker(this.opts.script, { workerData: init, transferList: [port2] });
    const live: Live = { worker, port: port1, shared };
    // An idle worker must not keep a CLI run alive; one with requests in flight does (see track()).
    worker.unref();
    worker.on('message', (res: BpeResponse) => {
      if (res.id === -1) {
        if ('ready' in res) {
          if (!this.started) this.opts.log?.(`tokenizer: ${this.opts.encoding} BPE tables built in a worker thread in ${Math.round(res.ms)} ms`);
          this.started = true;
          this.markReady(true);
        }
        else if ('error' in res) this.giveUp(`the tokenizer worker could not build its tables (${res.error})`);
        return;
      }
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      this.track();
      p.resolve(res);
    });
    worker.on('error', (err) => this.opts.log?.(`tokenizer worker error: ${err.message}`));
    worker.on('exit', (code) => {
      if (this.closed || this.live !== live) return;
      this.live = undefined;
      if (this.givenUp) return;
      if (this.restarts >= MAX_RESTARTS) {
        this.giveUp(`the tokenizer worker exited (code ${code}) ${this.restarts + 1} times`);
        return;
      }
      this.restarts++;
      this.opts.log?.(`tokenizer worker exited (code ${code}); restarting it and resending ${this.pending.size} request(s)`);
      try {
        this.live = this.spawn();
      } catch (err) {
        this.giveUp(`could not restart the tokenizer worker (${err instanceof Error ? err.message : String(err)})`);
        return;
      }
      for (const { req } of this.pending.values()) this.live.worker.postMessage(req);
    });
    return live;
  }

  private giveUp(why: string): void {
    if (this.givenUp) return;
    this.givenUp = true;
    this.opts.log?.(`${why}: counting new pieces on the extension host's thread from now on`);
    this.markReady(false);
    for (const p of this.pending.values()) p.resolve(undefined);
    this.pending.clear();
    const live = this.live;
    this.live = undefined;
    void live?.worker.terminate();
  }

  /** Keeps the process alive while asynchronous requests are in flight, and only then. */
  private track(): void {
    if (this.live) {
      if (this.pending.size > 0) this.live.worker.ref();
      else this.live.worker.unref();
    }
  }

  private requestAsync(body: RequestBody): Promise<BpeResponse | undefined> {
    const live = this.live;
    if (this.givenUp || !live) return Promise.resolve(undefined);
    const req = { ...body, id: this.nextId++ } as BpeRequest;
    this.asyncCalls++;
    return new Promise((resolve) => {
      this.pending.set(req.id, { req, resolve });
      this.track();
      live.worker.postMessage(req);
    });
  }

  /** Blocks until the worker answers; undefined when it cannot (the caller counts on this thread). */
  private requestSync(body: RequestBody): BpeResponse | undefined {
    const live = this.live;
    if (this.givenUp || !live || Atomics.load(live.shared, BPE_STATE) === BpeState.Gone) return undefined;
    const req = { ...body, id: this.nextId++ } as BpeRequest;
    this.syncCalls++;
    live.port.postMessage(req);
    const asked = performance.now();
    try {
      return this.awaitSync(live, req.id, asked + (this.opts.syncTimeoutMs ?? 5000));
    } finally {
      this.syncWaitMaxMs = Math.max(this.syncWaitMaxMs, performance.now() - asked);
    }
  }

  private awaitSync(live: Live, id: number, deadline: number): BpeResponse | undefined {
    for (;;) {
      // Read the counter before looking at the port: an answer posted after the look bumps it, and the wait returns at once.
      const seq = Atomics.load(live.shared, BPE_SEQ);
      const got = receiveMessageOnPort(live.port) as { message: BpeResponse } | undefined;
      if (got) {
        if (got.message.id === id) return got.message;
        continue; // an answer nobody waits for any more
      }
      if (Atomics.load(live.shared, BPE_STATE) === BpeState.Gone) return undefined;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.opts.log?.(`the tokenizer worker did not answer within ${this.opts.syncTimeoutMs ?? 5000} ms; replacing it`);
        void live.worker.terminate(); // its exit restarts it
        return undefined;
      }
      Atomics.wait(live.shared, BPE_SEQ, seq, Math.min(left, 100));
    }
  }

  private answeredHere(): LocalBpe {
    this.localAnswers++;
    return this.local;
  }

  countEach(texts: readonly string[]): number[] {
    const res = this.requestSync({ op: 'count', texts });
    return res && 'counts' in res ? res.counts : this.answeredHere().countEach(texts);
  }

  encode(text: string): Uint32Array {
    const res = this.requestSync({ op: 'encode', text });
    return res && 'tokens' in res ? res.tokens : this.answeredHere().encode(text);
  }

  decode(tokens: Uint32Array): string {
    const res = this.requestSync({ op: 'decode', tokens });
    return res && 'text' in res ? res.text : this.answeredHere().decode(tokens);
  }

  async countEachAsync(texts: readonly string[]): Promise<number[]> {
    const res = await this.requestAsync({ op: 'count', texts });
    return res && 'counts' in res ? res.counts : this.answeredHere().countEach(texts);
  }

  async encodeAsync(text: string): Promise<Uint32Array> {
    const res = await this.requestAsync({ op: 'encode', text });
    return res && 'tokens' in res ? res.tokens : this.answeredHere().encode(text);
  }

  async decodeAsync(tokens: Uint32Array): Promise<string> {
    const res = await this.requestAsync({ op: 'decode', tokens });
    return res && 'text' in res ? res.text : this.answeredHere().decode(tokens);
  }

  /** Test hook: makes the worker exit as if it had crashed. */
  crashWorker(): void {
    this.live?.worker.postMessage({ id: this.nextId++, op: 'crash' } satisfies BpeRequest);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.resolve(undefined);
    this.pending.clear();
    this.markReady(false);
    const live = this.live;
    this.live = undefined;
    await live?.worker.terminate();
  }
}
