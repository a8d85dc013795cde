// Worker thread entry (bundled to dist/modelWorker.js): loads ONNX Runtime,
// opens the stage-2 model and scores queries with it, so that the runtime's
// start-up (module load, environment set-up and session: 110–180 ms of native
// calls on a slow VM) never runs on the extension host's thread.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { firstLine, openModel, scoreWith, type OpenedModel, type Ort } from './modelSession';
import type { ModelReply, ModelRequest, ModelWorkerInit } from './modelRunner';

const init = workerData as ModelWorkerInit;
const post = (reply: ModelReply) => parentPort!.postMessage(reply);

const opened = (async (): Promise<{ ort: Ort; model: OpenedModel }> => {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(init.modelPath);
  } catch (err) {
    throw new Error(`ranker model unusable (${(err as Error).message})`);
  }
  let ort: Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (err) {
    throw new Error(`ONNX Runtime failed to load (${firstLine((err as Error).message)})`);
  }
  return { ort, model: await openModel(ort, bytes, init.meta, init.device, init.remembered) };
})();

opened.then(
  ({ model }) => post({ id: -1, device: model.device, failures: model.failures }),
  (err: unknown) => post({ id: -1, error: err instanceof Error ? err.message : String(err) }),
);

parentPort!.on('message', (req: ModelRequest) => {
  if ('op' in req) process.exit(3); // fault injection for tests
  void opened
    .then(({ ort, model }) => scoreWith(ort, model.session, req.x, init.meta.features.length))
    .then(
      // Copied (a few KB): the runtime's output buffers may not be detachable.
      (s) => post({ id: req.id, score: s.score, contrib: s.contrib }),
      (err: unknown) => post({ id: req.id, error: firstLine(err instanceof Error ? err.message : String(err)) }),
    );
});
