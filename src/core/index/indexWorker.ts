// Worker thread entry (bundled to dist/indexWorker.js): reads, chunks and counts
// files so that cold indexing uses every core and never blocks the extension host.
import { parentPort, workerData } from 'node:worker_threads';
import { setAssetsDir } from '../assets';
import type { ChunkOptions } from '../chunk/chunker';
import { SyntaxChunker } from '../chunk/syntax';
import { readSource } from '../scan/readSource';
import { TokenCache } from '../tokens/tokenCache';
import { loadTokenizer, type EncodingName } from '../tokens/tokenizer';
import { indexFileText } from './indexFile';
import type { WorkerJob, WorkerReply } from './indexWorkers';

interface Init {
  encoding: EncodingName;
  chunkOptions: ChunkOptions;
  maxBytes: number;
  assetsDir?: string;
  syntax: boolean;
}

const init = workerData as Init;
if (init.assetsDir) setAssetsDir(init.assetsDir);

const ready = (async () => {
  const tokens = new TokenCache(await loadTokenizer(init.encoding));
  const syntax = init.syntax ? await SyntaxChunker.create().catch(() => undefined) : undefined;
  return { tokens, syntax };
})();

parentPort!.on('message', (job: WorkerJob) => {
  void (async (): Promise<WorkerReply> => {
    if (job.crash) process.exit(3); // fault injection for tests
    const { tokens, syntax } = await ready;
    const res = await readSource(job.abs, init.maxBytes);
    if ('skip' in res) return { id: job.id, skip: res.skip };
    const record = await indexFileText(job.path, res.text, res.size, res.mtimeMs, tokens, init.chunkOptions, syntax);
    return { id: job.id, record };
  })().then(
    (reply) => parentPort!.postMessage(reply),
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
  );
});
