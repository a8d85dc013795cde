// The extension host's end of an engine: a worker thread that holds the engine
// (engineWorker.ts), called through EngineClient's methods. The index of a
// large workspace is hundreds of MiB of heap; on the host's thread its major
// collections made the editor's longest pauses: 57–166 ms per run at 100,000
// files on 2 cores (bench:load).
import { Worker } from 'node:worker_threads';
import { EngineError, type EngineOptions } from '../core/engine';
import { workerScriptPath } from '../core/assets';
import { withTimeout } from '../core/timeout';
import type { IndexProgress, IndexStats, RefreshOptions } from '../core/index/workspaceIndex';
import type { CursorPosition, EditorSignals } from '../core/types';
import type { EngineToHost, EngineWorkerData, HostToEngine, PlainMethod } from './engineProtocol';
import { EngineSession, type ComputedSummary, type EngineClient, type EngineInfo, type PanelFacts, type SessionComputeOptions } from './engineSession';

export interface EngineClientHooks {
  log: (msg: string) => void;
  /** The worker stopped on its own (a crash): calls in flight were rejected, and later ones are. */
  onExit?: (code: number) => void;
}

/**
 * How long dispose waits for the worker to finish saving the index before it is
 * ended: a 100,000-file save took over 10 s on 2 busy cores (bench:load). A save
 * cut off leaves the last whole cache in place.
 */
const DISPOSE_WAIT_MS = 60_000;

/**
 * Whether an engine whose worker crashed is started again: yes, unless it
 * crashed `max` times within `windowMs` (a workspace that kills it every time
 * would otherwise be re-indexed in a loop).
 */
export class RestartPolicy {
  private readonly crashes = new Map<string, number[]>();

  constructor(
    readonly max = 3,
    readonly windowMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a crash of `key`'s engine: `restart` false once it crashed too often; `count` within the window. */
  crashed(key: string): { restart: boolean; count: number } {
    const t = this.now();
    const recent = [...(this.crashes.get(key) ?? []).filter((at) => t - at < this.windowMs), t];
    this.crashes.set(key, recent);
    return { restart: recent.length < this.max, count: recent.length };
  }

  /** Forgets every crash (new settings, a rebuilt index). */
  reset(): void {
    this.crashes.clear();
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: (p: IndexProgress) => void;
}

/**
 * Opens an engine in a worker when the worker script is built (always, in the
 * extension), else on this thread (sources run without a build).
 */
export async function openEngineClient(options: Omit<EngineOptions, 'log'>, hooks: EngineClientHooks): Promise<EngineClient> {
  const script = workerScriptPath('engineWorker.js');
  if (!script) return EngineSession.open({ ...options, log: hooks.log });
  return WorkerEngineClient.open(script, options, hooks);
}

export class WorkerEngineClient implements EngineClient {
  private readonly pending = new Map<number, Pending>();
  private readonly behind = new Map<number, () => void>();
  private lastId = 0;
  /** Why calls fail from now on (set when the worker exits or is disposed). */
  private stopped: string | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly hooks: EngineClientHooks,
  ) {}

  /** Starts the worker and waits for its engine to open; an engine that cannot open (an unknown model) rejects with its message. */
  static open(script: string, options: Omit<EngineOptions, 'log'>, hooks: EngineClientHooks): Promise<WorkerEngineClient> {
    const data: EngineWorkerData = { options };
    const worker = new Worker(script, { workerData: data });
    const client = new WorkerEngineClient(worker, hooks);
    return new Promise((resolve, reject) => {
      let opened = false;
      worker.on('message', (m: EngineToHost) => {
        if ('opened' in m) {
          opened = true;
          resolve(client);
        } else if ('openFailed' in m) {
          client.stopped = m.openFailed;
          void worker.terminate();
          reject(new EngineError(m.openFailed));
        } else client.receive(m);
      });
      worker.on('error', (err) => hooks.log(`engine worker error: ${err.message}`));
      worker.on('exit', (code) => {
        if (!opened) reject(new EngineError(client.stopped ?? `the engine worker stopped (exit code ${code}) before its engine opened`));
        else client.exited(code);
      });
    });
  }

  private receive(m: EngineToHost): void {
    if ('log' in m) this.hooks.log(m.log);
    else if ('settled' in m) {
      this.behind.get(m.settled)?.();
      this.behind.delete(m.settled);
    } else if ('id' in m) {
      const p = this.pending.get(m.id);
      if (!p) return;
      if ('progress' in m) p.onProgress?.(m.progress);
      else {
        this.pending.delete(m.id);
        if ('error' in m) p.reject(new EngineError(m.error));
        else if (m.behind) p.resolve({ ...(m.ok as object), behind: new Promise<void>((r) => this.behind.set(m.id, r)) });
        else p.resolve(m.ok);
      }
    }
  }

  private exited(code: number): void {
    if (this.stopped) return; // disposed
    this.stopped = `the engine worker stopped (exit code ${code})`;
    this.hooks.log(`${this.stopped}; ${this.pending.size} call(s) in flight were cancelled`);
    for (const p of this.pending.values()) p.reject(new EngineError(this.stopped));
    this.pending.clear();
    this.behind.clear(); // as after a failed rebuild: never settles
    this.hooks.onExit?.(code);
  }

  /**
   * Posts a call. Its signal's abort is sent on to the worker; with
   * `rejectOnAbort` the call also fails at once with 'cancelled' (a compute:
   * its late answer is dropped), else it waits for the worker's answer (a
   * refresh answers with what it indexed so far).
   */
  private call<T>(method: PlainMethod | 'refresh' | 'compute', args: unknown[], extra: { signal?: AbortSignal; rejectOnAbort?: boolean; onProgress?: (p: IndexProgress) => void } = {}): Promise<T> {
    if (this.stopped) return Promise.reject(new EngineError(this.stopped));
    const signal = extra.signal;
    if (signal?.aborted && extra.rejectOnAbort) return Promise.reject(new EngineError('cancelled'));
    const id = ++this.lastId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: extra.onProgress });
      this.post({ id, method, args });
      if (!signal) return;
      const cancel = () => {
        this.post({ cancel: id });
        if (extra.rejectOnAbort && this.pending.delete(id)) reject(new EngineError('cancelled'));
      };
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });
  }

  private post(m: HostToEngine): void {
    this.worker.postMessage(m);
  }

  info(): Promise<EngineInfo> {
    return this.call('info', []);
  }
  updateSettings(patch: Parameters<EngineClient['updateSettings']>[0]): Promise<boolean> {
    return this.call('updateSettings', [patch]);
  }
  refresh(opts: RefreshOptions = {}): Promise<IndexStats> {
    return this.call('refresh', [], opts);
  }
  compute(pos: CursorPosition, signals: EditorSignals, opts: SessionComputeOptions & { signal?: AbortSignal } = {}): Promise<ComputedSummary> {
    const { signal, ...rest } = opts;
    return this.call('compute', [pos, signals, rest], { signal, rejectOnAbort: true });
  }
  panelFacts(id: number, signals: EditorSignals, withWindows: boolean): Promise<PanelFacts> {
    return this.call('panelFacts', [id, signals, withWindows]);
  }
  editorText(path: string, text: string | undefined, reindex: boolean): Promise<void> {
    return this.call('editorText', [path, text, reindex]);
  }
  reindexEditorText(path: string): Promise<void> {
    return this.call('reindexEditorText', [path]);
  }
  updateFile(path: string): Promise<void> {
    return this.call('updateFile', [path]);
  }
  removeFile(path: string): Promise<void> {
    return this.call('removeFile', [path]);
  }
  renameFile(from: string, to: string): Promise<void> {
    return this.call('renameFile', [from, to]);
  }
  ignoreRulesChanged(dir: string): Promise<void> {
    return this.call('ignoreRulesChanged', [dir]);
  }
  save(): Promise<void> {
    return this.call('save', []);
  }
  chunkIdsInLines(path: string, from: number, to: number): Promise<string[]> {
    return this.call('chunkIdsInLines', [path, from, to]);
  }
  samples(id: number): Promise<string[]> {
    return this.call('samples', [id]);
  }
  countTokens(texts: string[]): Promise<number[]> {
    return this.call('countTokens', [texts]);
  }

  /** Lets the engine flush its index, then ends the worker. */
  async dispose(): Promise<void> {
    if (this.stopped) return;
    await withTimeout(this.call<void>('dispose', []), DISPOSE_WAIT_MS).catch((err: unknown) => this.hooks.log(`engine dispose: ${err instanceof Error ? err.message : String(err)}`));
    this.stopped = 'the engine was disposed';
    for (const p of this.pending.values()) p.reject(new EngineError(this.stopped));
    this.pending.clear();
    await this.worker.terminate();
  }

  /** Fault injection for tests: the worker exits as if it had crashed. */
  crashForTest(): void {
    this.post({ crash: true });
  }
}
