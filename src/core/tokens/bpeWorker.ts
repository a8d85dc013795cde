// Worker thread entry (bundled to dist/bpeWorker.js): holds tiktoken's BPE tables
// so that building them (≈150–300 ms) never blocks the extension host. Requests
// come two ways (bpeService.ts): on the parent port, answered there (the index
// counts new pieces this way without waiting), and on a port of their own that
// the main thread blocks on, answered there and signalled through shared memory.
import { parentPort, workerData } from 'node:worker_threads';
import { setAssetsDir } from '../assets';
import { LocalBpe, loadWasm, readEncoderData } from './bpe';
import { BPE_SEQ, BPE_STATE, BpeState, type BpeInit, type BpeRequest, type BpeResponse } from './bpeService';

const init = workerData as BpeInit;
if (init.assetsDir) setAssetsDir(init.assetsDir);
const shared = init.shared;

// Set before the thread goes (a crash included), so that a blocked caller stops waiting.
process.on('exit', () => {
  Atomics.store(shared, BPE_STATE, BpeState.Gone);
  Atomics.add(shared, BPE_SEQ, 1);
  Atomics.notify(shared, BPE_SEQ);
});

const ready = (async () => {
  const started = performance.now();
  await loadWasm();
  const bpe = new LocalBpe(readEncoderData(init.encoding));
  bpe.build();
  Atomics.store(shared, BPE_STATE, BpeState.Ready);
  parentPort!.postMessage({ id: -1, ready: true, ms: performance.now() - started } satisfies BpeResponse);
  return bpe;
})();
ready.catch((err: unknown) => {
  // No tables (a missing or broken encoder file): the main thread counts on its own and reports it.
  parentPort!.postMessage({ id: -1, error: err instanceof Error ? err.message : String(err) } satisfies BpeResponse);
});

async function answer(req: BpeRequest): Promise<BpeResponse> {
  if (req.op === 'crash') process.exit(3); // fault injection for tests
  try {
    const bpe = await ready;
    if (req.op === 'count') return { id: req.id, counts: bpe.countEach(req.texts) };
    if (req.op === 'encode') return { id: req.id, tokens: bpe.encode(req.text) };
    return { id: req.id, text: bpe.decode(req.tokens) };
  } catch (err) {
    return { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
}

parentPort!.on('message', (req: BpeRequest) => {
  void answer(req).then((res) => parentPort!.postMessage(res));
});

init.syncPort.on('message', (req: BpeRequest) => {
  void answer(req).then((res) => {
    init.syncPort.postMessage(res);
    Atomics.add(shared, BPE_SEQ, 1);
    Atomics.notify(shared, BPE_SEQ);
  });
});
