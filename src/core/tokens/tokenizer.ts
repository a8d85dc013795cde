// Exact token counts: tiktoken's pre-tokenizer pieces counted once each
// (pieces.ts), tiktoken's BPE (bpe.ts) asked only for pieces not seen before —
// on this thread, or in a worker (bpeService.ts) where this thread is an editor's.
import { workerScriptPath } from '../assets';
import { ENCODINGS, LocalBpe, loadEncoderData, loadWasm, type Bpe, type EncoderData, type EncodingName } from './bpe';
import { BpeService } from './bpeService';
import { PieceCounter, sumKnownPieces, type PieceTable } from './pieces';

export { ENCODINGS, type EncodingName };

const tokenizers = new Map<EncodingName, Promise<Tokenizer>>();

export function isEncodingName(name: string): name is EncodingName {
  return (ENCODINGS as readonly string[]).includes(name);
}

/** A loaded encoder. Counting is synchronous once loaded. */
export interface Tokenizer {
  readonly encoding: EncodingName;
  count(text: string): number;
  /**
   * Counts many texts; pieces not seen before go to the BPE worker without
   * blocking this thread (on this thread when there is no worker).
   */
  countMany(texts: readonly string[]): Promise<number[]>;
  /** The encoding's pre-tokenizer pattern (tiktoken's syntax): index workers sum known pieces with it. */
  readonly piecePattern: string;
  /**
   * Counts of distinct pieces (or whole texts off the fast path) that a piece
   * counter elsewhere did not know: remembered ones at once, new ones encoded
   * (by the BPE worker when it runs) and remembered.
   */
  countPieces(unique: readonly string[]): Promise<number[]>;
  /** `count` when every pre-tokenizer piece is already known; a close estimate otherwise, without building the BPE tables. */
  estimate(text: string): number;
  encode(text: string): Uint32Array;
  decode(tokens: Uint32Array): string;
  /** `encode` off this thread when the worker runs (a whole prompt takes tiktoken milliseconds). */
  encodeAsync(text: string): Promise<Uint32Array>;
  /**
   * Moves the BPE tables to a worker thread (once per process; later calls share
   * it). Resolves true when the worker can answer, false when counting stays on
   * this thread (no bundled worker script, or it failed: said through `log`).
   */
  useWorker(opts?: { log?: (msg: string) => void }): Promise<boolean>;
  /** Pre-tokenizer pieces counted so far, and their counts (persisted with the index). */
  knownPieces(): PieceTable;
  learnPieces(table: PieceTable): void;
  /** How counting went: pieces remembered and encoded, texts off the fast path, whether the BPE tables were built on this thread, the worker's state. */
  stats(): TokenizerStats;
}

export interface TokenizerStats {
  pieces: number;
  pieceMisses: number;
  slowTexts: number;
  bpeBuilt: boolean;
  /** syncWaitMaxMs: the longest the calling thread blocked on one synchronous request. */
  worker?: { running: boolean; restarts: number; syncCalls: number; syncWaitMaxMs: number; asyncCalls: number; localAnswers: number };
}

/** Loads (once per process) the tokenizer for `encoding`. */
export function loadTokenizer(encoding: EncodingName): Promise<Tokenizer> {
  // The load is what is shared: callers that come while it runs (two workspace folders) wait for the same
  // read and parse of the encoder file. A failed load is not kept, so the next caller tries again.
  let loading = tokenizers.get(encoding);
  if (!loading) {
    loading = (async () => {
      await loadWasm();
      return makeTokenizer(encoding, await loadEncoderData(encoding));
    })();
    tokenizers.set(encoding, loading);
    loading.catch(() => tokenizers.delete(encoding));
  }
  return loading;
}

function makeTokenizer(encoding: EncodingName, data: EncoderData): Tokenizer {
  // The tables wait for the first piece that is not already known (or never come, with the worker).
  const local = new LocalBpe(data);
  let bpe: Bpe = local;
  let service: BpeService | undefined;
  const pieces = new PieceCounter(data.pat_str, (texts) => bpe.countEach(texts));

  const sumKnown = (text: string, missing: string[]): number => sumKnownPieces(pieces, text, missing);

  // Reused by `count`, which never re-enters (the BPE call it may make is synchronous).
  const missing: string[] = [];
  const count = (text: string): number => {
    if (text.length === 0) return 0;
    missing.length = 0;
    const n = sumKnown(text, missing);
    return missing.length === 0 ? n : n + pieces.countMissing(missing);
  };

  const countMany = async (texts: readonly string[]): Promise<number[]> => {
    const missing: string[] = []; // its own: other counts run while this one waits
    const ends: number[] = [];
    const sums = texts.map((t) => {
      const n = sumKnown(t, missing);
      ends.push(missing.length);
      return n;
    });
    if (missing.length === 0) return sums;
    const unique = [...new Set(missing)];
    const counts = service ? await service.countEachAsync(unique) : local.countEach(unique);
    const byPiece = pieces.learnCounts(unique, counts);
    let k = 0;
    for (let i = 0; i < texts.length; i++) for (; k < ends[i]; k++) sums[i] += byPiece.get(missing[k])!;
    return sums;
  };

  const countPieces = async (unique: readonly string[]): Promise<number[]> => {
    const out = unique.map((p) => pieces.known(p) ?? -1);
    const todo = unique.filter((_, i) => out[i] < 0);
    if (todo.length === 0) return out;
    const counts = service ? await service.countEachAsync(todo) : local.countEach(todo);
    const byPiece = pieces.learnCounts(todo, counts);
    return out.map((n, i) => (n >= 0 ? n : byPiece.get(unique[i])!));
  };

  return {
    encoding,
    piecePattern: data.pat_str,
    countPieces,
    // Special-token text in user code (e.g. "<|endoftext|>") is counted as plain text.
    count,
    countMany,
    estimate: (text) => pieces.estimate(text),
    encode: (text) => bpe.encode(text),
    decode: (tokens) => bpe.decode(tokens),
    encodeAsync: (text) => (service ? service.encodeAsync(text) : Promise.resolve(local.encode(text))),
    useWorker: (opts = {}) => {
      if (!service) {
        const script = workerScriptPath('bpeWorker.js');
        if (!script) {
          opts.log?.('tokenizer worker not built (dist/bpeWorker.js): counting new pieces on this thread');
          return Promise.resolve(false);
        }
        service = new BpeService({ script, encoding, log: opts.log }, local);
        bpe = service;
      }
      return service.ready;
    },
    knownPieces: () => pieces.table(),
    stats: () => ({
      pieces: pieces.remembered,
      pieceMisses: pieces.misses,
      slowTexts: pieces.slowTexts,
      bpeBuilt: local.built,
      worker: service && {
        running: service.usingWorker,
        restarts: service.restarts,
        syncCalls: service.syncCalls,
        syncWaitMaxMs: Math.round(service.syncWaitMaxMs * 10) / 10,
        asyncCalls: service.asyncCalls,
        localAnswers: service.localAnswers,
      },
    }),
    learnPieces: (table) => pieces.learn(table),
  };
}
