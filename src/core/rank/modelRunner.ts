// Runs the ranker's ONNX models — the stage-2 model, and the user's embedding
// model when one is set — each in a worker thread of its own (modelWorker.ts),
// so that ONNX Runtime's start-up and a model's session never hold the extension
// host's thread; on the calling thread where no worker can start (the worker
// script not built).
//
// Faults: a worker that exits fails the requests in flight (the ranker answers
// those queries without that model) and is started again for the next request,
// up to MAX_RESTARTS times, on the provider it had settled on.
import { Worker } from 'node:worker_threads';
import { workerScriptPath } from '../assets';
import { withTimeout } from '../timeout';
import type { ModelInputs, ModelMeta } from './model';
import { firstLine, loadOrt, openModelFile, scoreWith, type RankerDevice, type Scores } from './modelSession';
import { loadUserModel, type UserModel } from './userModel';

export type ModelWorkerInit =
  | {
      kind: 'ranker';
      modelPath: string;
      meta: ModelMeta;
      device: RankerDevice;
      /** The provider an earlier start settled on: tried alone. */
      remembered?: string;
    }
  | { kind: 'user'; path: string };

export type ModelRequest = { id: number; x: ModelInputs } | { id: number; texts: readonly string[] } | { id: number; op: 'crash' | 'close' };

/**
 * How long close waits for the worker to end itself. Ended from outside while
 * inside ONNX Runtime's native run, the binding throws in C++ and the whole
 * process aborts (seen when the engine's worker thread, which had started it, exited mid-query), so
 * the worker ends on its own between runs and is terminated only if it hangs.
 */
const CLOSE_WAIT_MS = 5_000;

/** What a worker reports once its model is open (id -1). */
export type ModelOpened = { device: string; failures: string[] } | { description: string; dim: number };

/** Id -1: the worker's start-up report (its model open, or why it could not be). */
export type ModelReply =
  | ({ id: -1 } & ModelOpened)
  | { id: number; score: Float32Array; contrib: Float32Array }
  | { id: number; vectors: Float32Array[] }
  | { id: number; error: string };

type Answer = Exclude<ModelReply, { id: -1 } | { error: string }>;

/** Where a model runs, for both kinds. */
export interface ModelThreadOptions {
  /** The worker script; default dist/modelWorker.js where built. */
  script?: string;
  /** 'this': run on the calling thread even where a worker could start. */
  thread?: 'worker' | 'this';
  log?: (msg: string) => void;
}

export interface ModelRunnerOptions extends ModelThreadOptions {
  modelPath: string;
  meta: ModelMeta;
  device: RankerDevice;
  remembered?: string;
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

/** The worker behind each runner and user model that has one (for the test hook). */
const workers = new WeakMap<object, ModelWorker>();

/** A worker that died before it could say whether its model opens (out of memory, a crash in native code). */
class WorkerExited extends Error {}

interface Pending {
  resolve: (a: Answer) => void;
  reject: (err: Error) => void;
}

interface Live {
  worker: Worker;
  /** Resolves once the worker has opened its model; rejects with why it could not. */
  opened: Promise<ModelOpened>;
}

/** One model in a worker thread: requests in, answers out; restarted when it exits. */
class ModelWorker {
  private restarts = 0;
  private live: Live | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  /** Resolves with the first worker's report; rejects when it cannot open the model. */
  readonly started: Promise<ModelOpened>;

  constructor(
    private readonly script: string,
    private init: ModelWorkerInit,
    /** What the model is, in log lines ('the model worker', 'the user model worker'). */
    private readonly name: string,
    /** What the ranker does once the worker has exited too often ('ranking with stage 1'). */
    private readonly without: string,
    private readonly log?: (msg: string) => void,
  ) {
    this.live = this.spawn();
    this.started = this.live.opened;
  }

  /** The init of later starts (the ranker's: the provider the first one settled on). */
  restartWith(init: ModelWorkerInit): void {
    this.init = init;
  }

  private spawn(): Live {
    // The stage-2 worker's heap holds one query's inputs and outputs at a time (the
    // model and the runtime's buffers are native): small generations keep its RSS
    // down (a script scoring 200 queries of 300 candidates, 5 runs each: the
    // process grew 57–67 MiB with default generations, 54–58 MiB with these,
    // 37–43 MiB with the model on its own thread). A user model's tokenizer
    // vocabulary lives in its heap, and can be large: default limits there.
    const resourceLimits = this.init.kind === 'ranker' ? { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32 } : undefined;
    const worker = new Worker(this.script, { workerData: this.init, resourceLimits });
    // An idle worker must not keep a CLI run alive; one opening its model or with
    // requests in flight does (see track()).
    let settle!: { resolve: (o: ModelOpened) => void; reject: (err: Error) => void };
    const opened = new Promise<ModelOpened>((resolve, reject) => (settle = { resolve, reject }));
    opened.catch(() => undefined); // read by whoever awaits it; never an unhandled rejection
    const live: Live = { worker, opened };
    let open = false;
    worker.on('message', (reply: ModelReply) => {
      if (reply.id === -1) {
        if ('error' in reply) {
          settle.reject(new Error(reply.error));
          void worker.terminate();
        } else {
          open = true;
          settle.resolve(reply as ModelOpened);
          this.track();
        }
        return;
      }
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      this.track();
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve(reply as Answer);
    });
    worker.on('error', (err) => this.log?.(`ranker: ${this.name} error: ${firstLine(err.message)}`));
    worker.on('exit', (code) => {
      settle.reject(new WorkerExited(`${this.name} exited (code ${code}) before opening its model`));
      if (this.live !== live) return;
      this.live = undefined;
      if (this.closed) return;
      const why = new Error(`${this.name} exited (code ${code})`);
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
      if (open) this.log?.(`ranker: ${why.message}; ${this.restarts < MAX_RESTARTS ? 'starting it again for the next query' : `${this.without} from now on`}`);
    });
    return live;
  }

  /** Keeps the process alive while requests are in flight, and only then (the opening counts: the worker starts referenced). */
  private track(): void {
    if (!this.live) return;
    if (this.pending.size > 0) this.live.worker.ref();
    else this.live.worker.unref();
  }

  async request(body: { x: ModelInputs } | { texts: readonly string[] }): Promise<Answer> {
    if (this.closed) throw new Error('the ranker was disposed');
    if (!this.live) {
      if (this.restarts >= MAX_RESTARTS) throw new Error(`${this.name} exited ${this.restarts + 1} times`);
      this.restarts++;
      this.live = this.spawn();
    }
    const live = this.live;
    await live.opened;
    const id = this.nextId++;
    return new Promise<Answer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.track();
      live.worker.postMessage({ id, ...body } as ModelRequest);
    });
  }

  /** Test hook: makes the worker exit as if it had crashed. */
  crash(): void {
    this.live?.worker.postMessage({ id: this.nextId++, op: 'crash' } satisfies ModelRequest);
  }

  async close(): Promise<void> {
    this.closed = true;
    const why = new Error('the ranker was disposed');
    for (const p of this.pending.values()) p.reject(why);
    this.pending.clear();
    const live = this.live;
    this.live = undefined;
    if (!live) return;
    const exited = new Promise<void>((resolve) => live.worker.once('exit', () => resolve()));
    live.worker.ref(); // waited for (an idle worker is unreferenced, and the timeout's timer is too)
    live.worker.postMessage({ id: this.nextId++, op: 'close' } satisfies ModelRequest);
    await withTimeout(exited, CLOSE_WAIT_MS).catch(() => live.worker.terminate());
  }
}

/**
 * Starts a worker on `init` and waits for its model to open. Undefined: no
 * worker here (none built, `thread: 'this'`, or one that could not start or died
 * before it reported), and the caller opens the model on this thread. Throws
 * with the worker's reason when the model itself is unusable.
 */
async function openInWorker(init: ModelWorkerInit, opts: ModelThreadOptions): Promise<{ worker: ModelWorker; opened: ModelOpened } | undefined> {
  const script = opts.thread === 'this' ? undefined : (opts.script ?? workerScriptPath('modelWorker.js'));
  if (!script) return undefined;
  const [name, without] = init.kind === 'ranker' ? ['the model worker', 'ranking with stage 1'] : ['the user model worker', 'ranking with the built-in model'];
  let worker: ModelWorker;
  try {
    worker = new ModelWorker(script, init, name, without, opts.log);
  } catch (err) {
    opts.log?.(`ranker: could not start ${name} (${firstLine((err as Error).message)}); running its model on this thread`);
    return undefined;
  }
  try {
    return { worker, opened: await worker.started };
  } catch (err) {
    if (!(err instanceof WorkerExited)) throw err;
    opts.log?.(`ranker: ${err.message}; running it on this thread`);
    return undefined;
  }
}

/** Opens the stage-2 model (in a worker where it can); throws, with the reason to show, when it cannot be used. */
export async function startModelRunner(opts: ModelRunnerOptions): Promise<ModelRunner> {
  const init: ModelWorkerInit = { kind: 'ranker', modelPath: opts.modelPath, meta: opts.meta, device: opts.device, remembered: opts.remembered };
  const started = await openInWorker(init, opts);
  if (!started) return startInThread(opts);
  const { worker, opened } = started;
  if (!('device' in opened)) throw new Error('the model worker opened another kind of model');
  // A restarted worker goes straight to the provider this one settled on.
  worker.restartWith({ ...init, remembered: opened.device });
  const runner: ModelRunner = {
    device: opened.device,
    failures: opened.failures,
    inWorker: true,
    score: async (x) => {
      const a = await worker.request({ x });
      if (!('score' in a)) throw new Error('the model worker answered with no scores');
      return a;
    },
    release: () => worker.close(),
  };
  workers.set(runner, worker);
  return runner;
}

async function startInThread(opts: ModelRunnerOptions): Promise<ModelRunner> {
  const model = await openModelFile(opts.modelPath, opts.meta, opts.device, opts.remembered);
  const nf = opts.meta.features.length;
  return {
    device: model.device,
    failures: model.failures,
    inWorker: false,
    score: (x) => scoreWith(model.ort, model.session, x, nf),
    release: () => model.session.release(),
  };
}

/** The user's embedding model (userModel.ts), in a worker where it can; throws with a clear message when it is unusable. */
export async function startUserModel(path: string, opts: ModelThreadOptions = {}): Promise<UserModel & { readonly inWorker: boolean }> {
  const started = await openInWorker({ kind: 'user', path }, opts);
  if (!started) return Object.assign(await loadUserModel(await loadOrt(), path), { inWorker: false });
  const { worker, opened } = started;
  if (!('dim' in opened)) throw new Error('the user model worker opened another kind of model');
  const model = {
    dim: opened.dim,
    description: opened.description,
    inWorker: true,
    embed: async (texts: readonly string[]) => {
      const a = await worker.request({ texts });
      if (!('vectors' in a)) throw new Error('the user model worker answered with no vectors');
      return a.vectors;
    },
    dispose: () => worker.close(),
  };
  workers.set(model, worker);
  return model;
}

/** Test hook: makes a model's worker exit as if it had crashed (false when it runs on this thread). */
export function crashModelWorker(model: ModelRunner | UserModel): boolean {
  const worker = workers.get(model);
  worker?.crash();
  return worker !== undefined;
}
