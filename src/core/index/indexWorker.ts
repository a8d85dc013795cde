// Worker thread entry (bundled to dist/indexWorker.js): reads and chunks files so
// that cold indexing uses every core and never blocks the extension host. Token
// counts are left to the main thread: its piece counter counts faster than a
// parse, and a tokenizer per worker would cost ≈80 MB each.
import { parentPort, workerData } from 'node:worker_threads';
import { setAssetsDir } from '../assets';
import type { ChunkOptions } from '../chunk/chunker';
import { SyntaxChunker } from '../chunk/syntax';
import { readSource } from '../scan/readSource';
import { indexFileText } from './indexFile';
import type { WorkerJob, WorkerReply } from './indexWorkers';

interface Init {
  chunkOptions: ChunkOptions;
  maxBytes: number;
  assetsDir?: string;
  syntax: boolean;
}

const init = workerData as Init;
const utf8 = new TextEncoder();
if (init.assetsDir) setAssetsDir(init.assetsDir);

const ready = (async () => {
  const syntax = init.syntax ? await SyntaxChunker.create().catch(() => undefined) : undefined;
  return { syntax };
})();

parentPort!.on('message', (job: WorkerJob) => {
  void (async (): Promise<WorkerReply> => {
    if (job.crash) process.exit(3); // fault injection for tests
    const { syntax } = await ready;
    const res = await readSource(job.abs, init.maxBytes);
    if ('skip' in res) return { id: job.id, skip: res.skip };
    const texts: string[] = [];
    const seams: string[] = [];
    // Chunk texts and seams go back with the record; the main thread counts them.
    const uncounted = {
      count: (text: string) => {
        texts.push(text);
        return 0;
      },
      learn: (text: string) => void seams.push(text),
    };
    const record = await indexFileText(job.path, res.text, res.size, res.mtimeMs, uncounted, init.chunkOptions, syntax);
    // Texts and subtokens travel as bytes (see WorkerReply).
    const terms = record.chunks.map((c) => c.uses.join(' '));
    for (const c of record.chunks) c.uses = [];
    const strings = [...texts, ...terms, ...seams];
    return { id: job.id, record, strings: utf8.encode(strings.join('')), lengths: strings.map((t) => t.length) };
  })().then(
    // The bytes move, not copied (a fresh buffer of TextEncoder's, not a pooled one).
    (reply) => parentPort!.postMessage(reply, 'strings' in reply ? [reply.strings.buffer as ArrayBuffer] : []),
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
  );
});
