// Worker thread entry (bundled to dist/modelWorker.js): loads ONNX Runtime and
// opens one model — the ranker's stage-2 model, or the user's embedding model —
// and answers requests with it, so that the runtime's start-up (module load,
// environment set-up and session: 110–180 ms of native calls on a slow VM for
// the stage-2 model, more for a large embedding model) never runs on the
// extension host's thread.
import { parentPort, workerData } from 'node:worker_threads';
import { firstLine, loadOrt, openModelFile, scoreWith } from './modelSession';
import type { ModelOpened, ModelReply, ModelRequest, ModelWorkerInit } from './modelRunner';
import { loadUserModel } from './userModel';

const init = workerData as ModelWorkerInit;
const post = (reply: ModelReply) => parentPort!.postMessage(reply);

type Answer = (req: Exclude<ModelRequest, { op: 'crash' | 'close' }>) => Promise<ModelReply>;

/** Opens the model; what it reports, and how it answers a request. */
async function open(): Promise<{ opened: ModelOpened; answer: Answer }> {
  if (init.kind === 'user') {
    const user = await loadUserModel(await loadOrt(), init.path);
    return {
      opened: { description: user.description, dim: user.dim },
      answer: async (req) => ('texts' in req ? { id: req.id, vectors: await user.embed(req.texts) } : { id: req.id, error: 'not a user-model request' }),
    };
  }
  const model = await openModelFile(init.modelPath, init.meta, init.device, init.remembered);
  const nf = init.meta.features.length;
  return {
    opened: { device: model.device, failures: model.failures },
    // Scores are copied back (a few KB): the runtime's output buffers may not be detachable.
    answer: async (req) => ('x' in req ? { id: req.id, ...(await scoreWith(model.ort, model.session, req.x, nf)) } : { id: req.id, error: 'not a scoring request' }),
  };
}

const ready = open();
ready.then(
  ({ opened }) => post({ id: -1, ...opened }),
  (err: unknown) => post({ id: -1, error: err instanceof Error ? err.message : String(err) }),
);

parentPort!.on('message', (req: ModelRequest) => {
  // Between runs (a run is one synchronous native call): ending here is safe; see modelRunner's close.
  if ('op' in req) process.exit(req.op === 'close' ? 0 : 3); // 'crash': fault injection for tests
  void ready
    .then(({ answer }) => answer(req))
    .then(post, (err: unknown) => post({ id: req.id, error: firstLine(err instanceof Error ? err.message : String(err)) }));
});
