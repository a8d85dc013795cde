// Worker thread entry (bundled to dist/indexWorker.js): reads and chunks files so
// that cold indexing uses every core and never blocks the extension host. Token
// counts are summed here from the pieces the main thread has taught this worker
// (a piece table, no BPE tables: those would cost ≈80 MB per worker); pieces not
// known yet go back to the main thread, which counts them once for everyone.
import { parentPort, workerData } from 'node:worker_threads';
import { setAssetsDir } from '../assets';
import type { ChunkOptions } from '../chunk/chunker';
import { SyntaxChunker } from '../chunk/syntax';
import { readSource } from '../scan/readSource';
import { indexFileText } from './indexFile';
import { PieceCounter, sumKnownPieces } from '../tokens/pieces';
import type { WorkerJob, WorkerLesson, WorkerPieces, WorkerReply } from './indexWorkers';

interface Init {
  chunkOptions: ChunkOptions;
  maxBytes: number;
  assetsDir?: string;
  syntax: boolean;
  pieces: WorkerPieces;
}

const init = workerData as Init;
const utf8 = new TextEncoder();
if (init.assetsDir) setAssetsDir(init.assetsDir);

const pieces = new PieceCounter(init.pieces.pattern, () => {
  throw new Error('index workers never encode: unknown pieces go to the main thread');
});
pieces.learn(init.pieces.known);

/**
 * The counts part of a reply (see WorkerReply) for chunk texts, with `learnOnly`
 * texts (last lines, seams) whose unknown pieces go back too; `unknown` gets
 * the distinct unknown pieces.
 */
function countKnown(texts: readonly string[], learnOnly: readonly string[], unknown: string[]): Int32Array {
  const n = texts.length;
  const place = new Map<string, number>();
  const placeOf = (piece: string) => {
    let k = place.get(piece);
    if (k === undefined) {
      place.set(piece, (k = unknown.length));
      unknown.push(piece);
    }
    return k;
  };
  const head: number[] = new Array<number>(2 * n);
  const runs: number[] = [];
  const missing: string[] = [];
  for (let i = 0; i < n; i++) {
    missing.length = 0;
    head[i] = sumKnownPieces(pieces, texts[i], missing);
    for (const m of missing) runs.push(placeOf(m));
    head[n + i] = runs.length;
  }
  for (const t of learnOnly) {
    missing.length = 0;
    sumKnownPieces(pieces, t, missing);
    for (const m of missing) placeOf(m);
  }
  const out = new Int32Array(2 * n + runs.length);
  out.set(head);
  out.set(runs, 2 * n);
  return out;
}

const ready = (async () => {
  const syntax = init.syntax ? await SyntaxChunker.create().catch(() => undefined) : undefined;
  return { syntax };
})();

parentPort!.on('message', (msg: WorkerJob | WorkerLesson) => {
  if ('learn' in msg) {
    pieces.learn(msg.learn);
    return;
  }
  const job = msg;
  void (async (): Promise<WorkerReply> => {
    if (job.crash) process.exit(3); // fault injection for tests
    const { syntax } = await ready;
    const res = await readSource(job.abs, init.maxBytes);
    if ('skip' in res) return { id: job.id, skip: res.skip };
    const texts: string[] = [];
    const seams: string[] = [];
    // Chunk texts and seams are collected, then summed from known pieces below.
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
    // A chunk's last line is learnt with the line break that follows it in a prompt
    // (tiktoken joins it to trailing punctuation: "];" + "\n"), as TokenCache does.
    const lastLines = texts.map((t) => t.slice(t.lastIndexOf('\n') + 1) + '\n');
    const unknown: string[] = [];
    const counts = countKnown(texts, [...lastLines, ...seams], unknown);
    const strings = [...terms, ...unknown];
    return { id: job.id, record, strings: utf8.encode(strings.join('')), lengths: strings.map((t) => t.length), counts };
  })().then(
    // The bytes move, not copied (fresh buffers, not pooled ones).
    (reply) => parentPort!.postMessage(reply, 'strings' in reply ? [reply.strings.buffer as ArrayBuffer, reply.counts.buffer as ArrayBuffer] : []),
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
  );
});
