// Worker thread entry (bundled to dist/engineWorker.js): one folder's engine —
// index, BM25, ranker, packer — lives here, so its large heap is collected on
// this thread and the extension host's event loop never waits for it.
import { parentPort, workerData } from 'node:worker_threads';
import type { IndexProgress } from '../core/index/workspaceIndex';
import type { EngineCall, EngineToHost, EngineWorkerData, HostToEngine, PlainMethod } from './engineProtocol';
import { EngineSession, type ComputedSummary } from './engineSession';

/** Progress crosses at most this often (the last of a phase always does). */
const PROGRESS_EVERY_MS = 100;

const port = parentPort!;
const post = (m: EngineToHost) => port.postMessage(m);
const data = workerData as EngineWorkerData;
const aborts = new Map<number, AbortController>();

// As in the extension host, a stray error is logged, not fatal. Here it would end
// the engine, and with it the model worker this one started: ended in the middle
// of an ONNX Runtime run, that aborts the whole process (see modelRunner's close).
const describe = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));
process.on('unhandledRejection', (reason) => post({ log: `unhandled rejection in the engine: ${describe(reason)}` }));
process.on('uncaughtException', (err) => post({ log: `uncaught exception in the engine: ${describe(err)}` }));

const opening = EngineSession.open({ ...data.options, log: (msg) => post({ log: msg }) });
opening.then(
  () => post({ opened: true }),
  (err: unknown) => post({ openFailed: err instanceof Error ? err.message : String(err) }),
);

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
      const fn = session[call.method as PlainMethod] as (...a: unknown[]) => Promise<unknown>;
      post({ id, ok: await fn.apply(session, call.args) });
    }
  } catch (err) {
    post({ id, error: err instanceof Error ? err.message : String(err) });
  } finally {
    aborts.delete(id);
  }
}

port.on('message', (msg: HostToEngine) => {
  if ('crash' in msg) process.exit(3);
  if ('cancel' in msg) {
    aborts.get(msg.cancel)?.abort();
    return;
  }
  // Calls answer in the order they came (an overlay set before a compute is in place for it).
  void opening.then(
    (session) => answer(session, msg),
    () => post({ id: msg.id, error: 'the engine did not open' }),
  );
});
