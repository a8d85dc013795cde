// Child process entry (bundled to dist/engineProcess.js): one folder's engine —
// index, BM25, ranker, packer, and the worker threads they start — lives here,
// apart from the extension host. Its large heap is collected here, it runs at
// below-normal priority so the editor gets a core first, and a native crash
// (ONNX Runtime, out of memory) ends this process, not the extension host.
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { IndexProgress } from '../core/index/workspaceIndex';
import type { EngineCall, EngineToHost, HostToEngine } from './engineProtocol';
import { EngineSession, type ComputedSummary } from './engineSession';

/** Progress crosses at most this often (the last of a phase always does). */
const PROGRESS_EVERY_MS = 100;

const post = (m: EngineToHost) => {
  // Once the host is gone there is no one to tell (and 'disconnect' ends this process).
  if (process.connected) process.send!(m);
};
const aborts = new Map<number, AbortController>();
let opening: Promise<EngineSession> | undefined;

// As in the extension host, a stray error is logged, not fatal: it would end the
// engine and the index it holds.
const describe = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));
process.on('unhandledRejection', (reason) => post({ log: `unhandled rejection in the engine: ${describe(reason)}` }));
process.on('uncaughtException', (err) => post({ log: `uncaught exception in the engine: ${describe(err)}` }));
// The extension host ended (closed window, crash, kill): an engine left behind would index on for no one.
process.on('disconnect', () => process.exit(0));

function start(msg: Extract<HostToEngine, { start: unknown }>): void {
  // Never raised: a host that already runs below it keeps its own.
  if (msg.start.priority !== undefined && getPriority() < msg.start.priority) lowerPriority(msg.start.priority);
  opening = EngineSession.open({ ...msg.start.options, log: (m) => post({ log: m }) });
  opening.then(
    () => post({ opened: true }),
    (err: unknown) => post({ openFailed: err instanceof Error ? err.message : String(err) }),
  );
}

/**
 * Lowers this process's priority: this thread's, which the engine's worker
 * threads inherit as they start, and on Linux, where the nice value is per
 * thread, also the threads already running (V8's collector helpers, started
 * with the process: 24.5 s of CPU at normal priority in a 100,000-file index).
 */
function lowerPriority(priority: number): void {
  try {
    setPriority(priority);
    if (process.platform === 'linux') for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), priority);
  } catch (err) {
    post({ log: `could not lower the engine's priority: ${describe(err)}` });
  }
}

async function answer(session: EngineSession, call: EngineCall): Promise<void> {
  const id = call.id;
  // Only a refresh or a compute reads it; a cancel for any other call finds nothing to stop.
  const abort = new AbortController();
  aborts.set(id, abort);
  try {
    if (call.method === 'refresh') {
      let last = 0;
      const onProgress = (p: IndexProgress) => {
        const now = Date.now();
        if (p.phase === 'done' || p.done === p.total || now - last >= PROGRESS_EVERY_MS) {
          last = now;
          post({ id, progress: p });
        }
      };
      post({ id, ok: await session.refresh({ signal: abort.signal, onProgress }) });
    } else if (call.method === 'compute') {
      const [pos, signals, opts] = call.args as Parameters<EngineSession['compute']>;
      const { behind, ...summary }: ComputedSummary = await session.compute(pos, signals, { ...opts, signal: abort.signal });
      post({ id, ok: summary, ...(behind ? { behind: true as const } : {}) });
      void behind?.then(() => post({ settled: id }));
    } else {
      const fn = session[call.method] as (...a: unknown[]) => Promise<unknown>;
      post({ id, ok: await fn.apply(session, call.args) });
    }
  } catch (err) {
    post({ id, error: err instanceof Error ? err.message : String(err) });
  } finally {
    aborts.delete(id);
  }
}

process.on('message', (msg: HostToEngine) => {
  if ('start' in msg) return start(msg);
  if ('crash' in msg) process.exit(3);
  if ('cancel' in msg) {
    aborts.get(msg.cancel)?.abort();
    return;
  }
  if (!opening) return post({ id: msg.id, error: 'the engine was not started' });
  // Calls answer in the order they came (an overlay set before a compute is in place for it).
  void opening.then(
    (session) => answer(session, msg),
    () => post({ id: msg.id, error: 'the engine did not open' }),
  );
});
