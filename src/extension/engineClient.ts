// The extension host's end of an engine: a child process that holds the engine
// (engineProcess.ts), called through EngineClient's methods over its IPC
// channel. The index of a large workspace is hundreds of MiB of heap; on the
// host's thread its major collections made the editor's longest pauses: 57–166
// ms per run at 100,000 files on 2 cores (bench:load). In a worker thread they
// were gone, but the host still waited for a core (up to 59.5 ms), and a worker
// ended inside ONNX Runtime's native run aborts the whole process.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { EngineError, type EngineOptions } from '../core/engine';
import { workerScriptPath } from '../core/assets';
import { withTimeout } from '../core/timeout';
import type { IndexProgress, IndexStats, RefreshOptions } from '../core/index/workspaceIndex';
import type { CursorPosition, EditorSignals } from '../core/types';
import type { EngineToHost, HostToEngine, PlainMethod } from './engineProtocol';
import { EngineSession, type ComputedSummary, type EngineClient, type EngineInfo, type PanelFacts, type SessionComputeOptions } from './engineSession';

export interface EngineClientHooks {
  log: (msg: string) => void;
  /** The engine process stopped on its own (a crash, a kill): calls in flight were rejected, and later ones are. */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/**
 * How long dispose waits for the engine to finish saving the index before its
 * process is ended: a 100,000-file save took over 10 s on 2 busy cores
 * (bench:load). A save cut off leaves the last whole cache in place.
 */
const DISPOSE_WAIT_MS = 60_000;

/** How long an engine that was told to go gets to exit before it is killed. */
const EXIT_WAIT_MS = 5_000;

/**
 * The engine's nice value: below normal, so the editor's threads get a core
 * first while the engine indexes. In a separate process that costs the host
 * nothing; the same priority on worker threads of the host's own process made
 * its pauses longer, not shorter (it then waited on locks they held).
 */
export const ENGINE_PRIORITY = constants.priority.PRIORITY_BELOW_NORMAL;

/**
 * V8 flags of the engine process: its old generation may grow by half
 * between major collections (a fixed factor; V8's own goes up to 4×). bench:load at
 * 100,000 files, cold: the engine process's peak RSS 972 MiB → 777–848 MiB in
 * 3 runs (20%: 724–783 MiB in 7, but cursor moves 10–20% slower in bench
 * status; 50% is within its noise of none). A smaller young generation (8 MB
 * semi-spaces) saved nothing more.
 */
export const ENGINE_V8_FLAGS: readonly string[] = ['--heap-growing-percent=50'];

/** Node's exit code for a flag it does not know: a runtime whose V8 dropped one of ours. */
const BAD_OPTION_EXIT = 9;

/** How the engine's process runs (benchmarks try others). */
export interface EngineProcessOptions {
  /** Its nice value; undefined keeps the host's. */
  priority?: number;
  v8Flags?: readonly string[];
}

/**
 * Whether an engine whose process crashed is started again: yes, unless it
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
 * Opens an engine in a child process when its script is built (always, in the
 * extension), else on this thread (sources run without a build).
 */
export async function openEngineClient(options: Omit<EngineOptions, 'log'>, hooks: EngineClientHooks): Promise<EngineClient> {
  const script = workerScriptPath('engineProcess.js');
  if (!script) return EngineSession.open({ ...options, log: hooks.log });
  return EngineProcessClient.open(script, options, hooks);
}

export class EngineProcessClient implements EngineClient {
  private readonly pending = new Map<number, Pending>();
  private readonly behind = new Map<number, () => void>();
  private lastId = 0;
  /** Why calls fail from now on (set when the process exits or is disposed). */
  private stopped: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly hooks: EngineClientHooks,
  ) {}

  /** The engine process's id (benchmarks read its memory; tests end it). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Starts the engine's process and waits for its engine to open; an engine that
   * cannot open (an unknown model) rejects with its message.
   */
  static open(script: string, options: Omit<EngineOptions, 'log'>, hooks: EngineClientHooks, run: EngineProcessOptions = { priority: ENGINE_PRIORITY, v8Flags: ENGINE_V8_FLAGS }): Promise<EngineProcessClient> {
    const { priority, v8Flags = [] } = run;
    const child = fork(script, [], {
      serialization: 'advanced',
      // Our V8 flags only, not the host's (an inspector port it already holds, its heap limit).
      execArgv: [...v8Flags],
      // Under VS Code's Electron the same binary runs as plain Node, as language servers do.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const client = new EngineProcessClient(child, hooks);
    // Native code writes its last words there ("terminate called after ...", out of memory).
    for (const stream of [child.stdout, child.stderr]) forwardLines(stream, (line) => hooks.log(`engine process: ${line}`));
    return new Promise((resolve, reject) => {
      let opened = false;
      child.on('message', (m: EngineToHost) => {
        if ('opened' in m) {
          opened = true;
          resolve(client);
        } else if ('openFailed' in m) {
          client.stopped = m.openFailed;
          void client.end();
          reject(new EngineError(m.openFailed));
        } else client.receive(m);
      });
      child.on('error', (err) => {
        hooks.log(`engine process error: ${err.message}`);
        if (!opened) reject(new EngineError(`the engine process did not start: ${err.message}`));
      });
      child.on('exit', (code, signal) => {
        if (opened) return client.exited(code, signal);
        if (code === BAD_OPTION_EXIT && v8Flags.length) {
          // The flags only tune memory: an engine without them beats none.
          hooks.log(`the engine process did not take its V8 flags (${v8Flags.join(' ')}); starting it without them`);
          return resolve(EngineProcessClient.open(script, options, hooks, { priority, v8Flags: [] }));
        }
        reject(new EngineError(client.stopped ?? `${stoppedBecause(code, signal)} before its engine opened`));
      });
      client.post({ start: { options, priority } });
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

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopped) return; // disposed
    this.stopped = stoppedBecause(code, signal);
    this.hooks.log(`${this.stopped}; ${this.pending.size} call(s) in flight were cancelled`);
    for (const p of this.pending.values()) p.reject(new EngineError(this.stopped));
    this.pending.clear();
    this.behind.clear(); // as after a failed rebuild: never settles
    this.hooks.onExit?.(code, signal);
  }

  /**
   * Posts a call. Its signal's abort is sent on to the engine; with
   * `rejectOnAbort` the call also fails at once with 'cancelled' (a compute:
   * its late answer is dropped), else it waits for the engine's answer (a
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
    // A channel already closed reports through 'error' and 'exit'; the calls in flight are rejected there.
    if (this.child.connected) this.child.send(m);
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

  /** Lets the engine flush its index, then ends its process. */
  async dispose(): Promise<void> {
    if (this.stopped) return;
    await withTimeout(this.call<void>('dispose', []), DISPOSE_WAIT_MS).catch((err: unknown) => this.hooks.log(`engine dispose: ${err instanceof Error ? err.message : String(err)}`));
    this.stopped = 'the engine was disposed';
    for (const p of this.pending.values()) p.reject(new EngineError(this.stopped));
    this.pending.clear();
    await this.end();
  }

  /** Closes the channel, on which the engine exits by itself; kills it if it has not within EXIT_WAIT_MS. */
  private async end(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    if (child.connected) child.disconnect();
    await withTimeout(exited, EXIT_WAIT_MS).catch(() => {
      this.hooks.log(`the engine process did not exit within ${EXIT_WAIT_MS / 1000} s; killing it`);
      child.kill('SIGKILL');
    });
  }

  /** Fault injection for tests: the engine process exits as if it had crashed. */
  crashForTest(): void {
    this.post({ crash: true });
  }
}

function stoppedBecause(code: number | null, signal: NodeJS.Signals | null): string {
  return `the engine process stopped (${signal ? `signal ${signal}` : `exit code ${code}`})`;
}

/** Calls `onLine` with each line `stream` carries. */
function forwardLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}
