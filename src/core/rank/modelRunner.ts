// Runs the stage-2 model for the ranker: in a worker thread (modelWorker.ts),
// so that ONNX Runtime's start-up never holds the extension host's thread, or on
// the calling thread where no worker can start (the worker script not built).
//
// Faults: a worker that exits fails the scores in flight (the ranker answers
// those queries with stage 1) and is started again for the next query, up to
// MAX_RESTARTS times, on the provider it had settled on.
import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { assetPath } from '../assets';
import { nextTurn } from '../slices';
import type { ModelInputs, ModelMeta } from './model';
import { firstLine, openModel, scoreWith, type OpenedModel, type Ort, type RankerDevice, type Scores } from './modelSession';

export interface ModelWorkerInit {
  modelPath: string;
  meta: ModelMeta;
  device: RankerDevice;
  /** The provider an earlier start settled on: tried alone. */
  remembered?: string;
}

export type ModelRequest = { id: number; x: ModelInputs } | { id: number; op: 'crash' };

/** Id -1: the worker's start-up report (the provider it opened the model on, or why it could not). */
export type ModelReply =
  | { id: -1; device: string; failures: string[] }
  | { id: number; score: Float32Array; contrib: Float32Array }
  | { id: number; error: string };

export interface ModelRunnerOptions {
  modelPath: string;
  meta: ModelMeta;
  device: RankerDevice;
  remembered?: string;
  /** The worker script; default dist/modelWorker.js where built. */
  script?: string;
  /** 'this': score on the calling thread even where a worker could start. */
  thread?: 'worker' | 'this';
  log?: (msg: string) => void;
}

export interface ModelRunner {
  /** The execution provider that scores. */
  readonly device: string;
  /** Why the providers tried before it were skipped or failed. */
  readonly failures: readonly string[];
  /** Whether it runs in a worker thread. */
  readonly inWorker: boolean;
  score(x: ModelInputs): Promise<Scores>;
  release(): Promise<void>;
}

export const MAX_RESTARTS = 3;

function modelWorkerScript(): string | undefined {
  try {
    const p = assetPath('modelWorker.js');
    return existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Opens the model (in a worker where it can); throws, with the reason to show, when it cannot be used. */
export async function startModelRunner(opts: ModelRunnerOptions): Promise<ModelRunner> {
  const script = opts.thread === 'this' ? undefined : (opts.script ?? modelWorkerScript());
  if (script) {
    let runner: WorkerModelRunner | undefined;
    try {
      runner = new WorkerModelRunner(script, opts);
    } catch (err) {
      opts.log?.(`ranker: could not start the model worker (${firstLine((err as Error).message)}); scoring on this thread`);
    }
    if (runner) {
      await runner.started;
      return runner;
    }
  }
  return startInThread(opts);
}

async function startInThread(opts: ModelRunnerOptions): Promise<ModelRunner> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(opts.modelPath);
  } catch (err) {
    throw new Error(`ranker model unusable (${(err as Error).message})`);
  }
  let ort: Ort;
  try {
    // Loading ONNX Runtime's native module (≈20–30 ms) gets a turn of its own.
    await nextTurn();
    ort = await import('onnxruntime-node');
  } catch (err) {
    throw new Error(`ONNX Runtime failed to load (${firstLine((err as Error).message)})`);
  }
  const model: OpenedModel = await openModel(ort, bytes, opts.meta, opts.device, opts.remembered);
  const nf = opts.meta.features.length;
  return {
    device: model.device,
    failures: model.failures,
    inWorker: false,
    score: (x) => scoreWith(ort, model.session, x, nf),
    release: () => model.session.release(),
  };
}

interface Pending {
  resolve: (s: Scores) => void;
  reject: (err: Error) => void;
}

interface Live {
  worker: Worker;
  /** Resolves once the worker has opened the model; rejects with why it could not. */
  opened: Promise<void>;
}

class WorkerModelRunner implements ModelRunner {
  readonly inWorker = true;
  device = '';
  failures: string[] = [];
  restarts = 0;
  private live: Live | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  readonly started: Promise<void>;

  constructor(
    private readonly script: string,
    private readonly opts: ModelRunnerOptions,
  ) {
    this.live = this.spawn(opts.remembered);
    this.started = this.live.opened;
  }

  private spawn(remembered: string | undefined): Live {
    const init: ModelWorkerInit = { modelPath: this.opts.modelPath, meta: this.opts.meta, device: this.opts.device, remembered };
    // Its heap holds one query's inputs and outputs at a time (the model and the
    // runtime's buffers are native): small generations keep its RSS down (a
    // script scoring 200 queries of 300 candidates, 5 runs each: the process grew
    // 57–67 MiB with default generations, 54–58 MiB with these, 37–43 MiB with
    // the model on its own thread).
    const worker = new Worker(this.script, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32 } });
    // An idle worker must not keep a CLI run alive; one with scores in flight does.
    worker.unref();
    let settle!: { resolve: () => void; reject: (err: Error) => void };
    const opened = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    opened.catch(() => undefined); // read by whoever awaits it; never an unhandled rejection
    const live: Live = { worker, opened };
    worker.on('message', (reply: ModelReply) => {
      if (reply.id === -1) {
        if ('device' in reply) {
          this.device = reply.device;
          this.failures = reply.failures;
          settle.resolve();
        } else if ('error' in reply) {
          settle.reject(new Error(reply.error));
          void worker.terminate();
        }
        return;
      }
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      this.track();
      if ('error' in reply) p.reject(new Error(reply.error));
      else if ('score' in reply) p.resolve({ score: reply.score, contrib: reply.contrib });
    });
    worker.on('error', (err) => this.opts.log?.(`ranker: model worker error: ${firstLine(err.message)}`));
    worker.on('exit', (code) => {
      settle.reject(new Error(`the model worker exited (code ${code}) before opening the model`));
      if (this.live !== live) return;
      this.live = undefined;
      if (this.closed) return;
      const why = new Error(`the model worker exited (code ${code})`);
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
      if (this.device) this.opts.log?.(`ranker: ${why.message}; ${this.restarts < MAX_RESTARTS ? 'starting it again for the next query' : 'ranking with stage 1 from now on'}`);
    });
    return live;
  }

  /** Keeps the process alive while scores are in flight, and only then. */
  private track(): void {
    if (!this.live) return;
    if (this.pending.size > 0) this.live.worker.ref();
    else this.live.worker.unref();
  }

  async score(x: ModelInputs): Promise<Scores> {
    if (this.closed) throw new Error('the ranker was disposed');
    if (!this.live) {
      if (this.restarts >= MAX_RESTARTS) throw new Error(`the model worker exited ${this.restarts + 1} times`);
      this.restarts++;
      this.live = this.spawn(this.device);
    }
    const live = this.live;
    await live.opened;
    const id = this.nextId++;
    return new Promise<Scores>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.track();
      live.worker.postMessage({ id, x } satisfies ModelRequest);
    });
  }

  /** Test hook: makes the worker exit as if it had crashed. */
  crash(): void {
    this.live?.worker.postMessage({ id: this.nextId++, op: 'crash' } satisfies ModelRequest);
  }

  async release(): Promise<void> {
    this.closed = true;
    const why = new Error('the ranker was disposed');
    for (const p of this.pending.values()) p.reject(why);
    this.pending.clear();
    const live = this.live;
    this.live = undefined;
    await live?.worker.terminate();
  }
}

/** Test hook: makes a worker-backed runner's worker exit as if it had crashed (false when it has none). */
export function crashModelWorker(runner: ModelRunner): boolean {
  if (!(runner instanceof WorkerModelRunner)) return false;
  runner.crash();
  return true;
}
