// BM25 over the index's identifier subtokens (`Chunk.uses`, already de-duplicated,
// so term frequency is binary). Built once per index state and cached.
import type { Chunk } from '../types';
import { ChunkList, IndexedChunk, TermTable } from '../index/chunkStore';
import { ChainedMap } from '../chainedMap';
import type { IndexView } from '../index/indexView';
import { SegmentedInt32, type ReadonlyList } from '../segmentedList';
import { nextTurn, sliceSpent, slicer } from '../slices';
import { PostingsBuilder, type PostingLists } from './postings';

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export interface Bm25Index {
  readonly signature: string;
  /** Chunk per ordinal. */
  readonly chunks: ReadonlyList<Chunk>;
  /** Live ordinals per file (a patch finds a file's old chunks here; candidates find their ordinal). */
  readonly ordsByPath: FileOrdinals;
  /** term → chunk ordinals (replaced chunks may stay listed: their norm is infinite, they score 0). */
  readonly postings: PostingLists;
  /** Per-chunk length normalisation: k1 * (1 - b + b * len / avgLen); ∞ for replaced chunks (they score 0). May be longer than `chunks` (room for patches). */
  readonly norm: Float32Array;
  /** Directory → files (for the same-folder source). */
  readonly filesByDir: Map<string, string[]>;
  idf(term: string): number;
}

const cache = new WeakMap<IndexView, Bm25Index>();

/**
 * Live ordinals per file, with no array per file (100,000 of them for the
 * collector to mark, at 100,000 files): a build adds each file's chunks
 * together and a patch appends them, so a file's ordinals are consecutive: its
 * first ordinal and a count. Files listed apart (an IndexView that interleaves
 * files' chunks) keep a list.
 */
export class FileOrdinals {
  /** Path → its first ordinal, for files whose ordinals are consecutive. */
  private readonly first = new ChainedMap<string, number>();
  /** Per ordinal: how many ordinals the file that starts there has (0 where none starts). */
  private readonly runLength = new SegmentedInt32();
  private readonly scattered = new Map<string, number[]>();

  /** How many files. */
  get size(): number {
    return this.first.size + this.scattered.size;
  }

  /** The file's ordinals, ascending (a fresh array), or undefined. */
  get(path: string): number[] | undefined {
    const f = this.first.get(path);
    if (f === undefined) return this.scattered.get(path)?.slice();
    const out = new Array<number>(this.runLength.at(f));
    for (let k = 0; k < out.length; k++) out[k] = f + k;
    return out;
  }

  /** Lists `ord` for `path` (ordinals come in ascending order); true when `path` was not listed before. */
  add(path: string, ord: number): boolean {
    while (this.runLength.length <= ord) this.runLength.push(0);
    const list = this.scattered.get(path);
    if (list) {
      list.push(ord);
      return false;
    }
    const f = this.first.get(path);
    if (f === undefined) {
      this.first.set(path, ord);
      this.runLength.set(ord, 1);
      return true;
    }
    const n = this.runLength.at(f);
    if (f + n === ord) this.runLength.set(f, n + 1);
    else {
      this.first.delete(path);
      this.scattered.set(path, [...Array.from({ length: n }, (_, k) => f + k), ord]);
    }
    return false;
  }

  delete(path: string): void {
    this.first.delete(path);
    this.scattered.delete(path);
  }
}

export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function signatureOf(index: IndexView): { sig: string; chunks: Chunk[] } {
  const chunks = [...index.allChunks()];
  let h = 0;
  for (const c of chunks) h = (h + parseInt(c.hash.slice(0, 8) || '0', 16) + c.startLine * 31 + c.path.length) % 4294967291;
  return { sig: `${chunks.length}:${h}`, chunks };
}

/** What an incremental update needs beside the public index. */
interface Built extends Bm25Index {
  /** index.version() when built or last patched (undefined without versions). */
  version?: number;
  /** index.version() at the full build. */
  builtVersion?: number;
  /** Chunks replaced since the full build (they score 0 and are not in ordsByPath). */
  dead: number;
  /** Chunk count at the full build: growing past a quarter more rebuilds (bounded drift and side lists, amortised cost). */
  builtSize: number;
  /** Sum of `uses` lengths over live chunks (for the average length). */
  totalUses: number;
  /** `uses` length per ordinal: norms are recomputed on every patch, and reading `uses` decodes it (chunkStore.ts). */
  lengths: SegmentedInt32;
  readonly chunks: ChunkList;
}

/** Above this share of replaced chunks, a full rebuild is cheaper than patching. */
const MAX_DEAD_SHARE = 0.1;
/** Above this many changed files at once, rebuild. */
const MAX_PATCH_FILES = 5000;

/**
 * The BM25 index of `index`. Built once; after an edit it is patched — the
 * changed files' old chunks become dead ordinals (norm = ∞, so they score 0)
 * and their new chunks are appended — instead of rebuilt, so typing in a large
 * workspace does not re-read every chunk per keystroke. Document frequencies
 * count dead chunks until the next full build (a small, bounded drift).
 */
export function bm25Of(index: IndexView): Bm25Index {
  const cached = cache.get(index) as Built | undefined;
  const version = typeof index.version === 'function' ? index.version() : undefined;
  if (version !== undefined && cached?.version === version) return cached;
  if (version !== undefined && cached?.version !== undefined && typeof index.changedSince === 'function') {
    const changed = index.changedSince(cached.version);
    if (changed && changed.length <= MAX_PATCH_FILES && patch(cached, index, changed)) {
      cached.version = version;
      return cached;
    }
  }
  const { sig: hashed, chunks } = signatureOf(index);
  const sig = version !== undefined ? `v${version}` : hashed;
  if (cached && cached.signature === sig) return cached;
  const built = build(chunks, sig);
  built.version = built.builtVersion = version;
  cache.set(index, built);
  return built;
}

function build(chunks: Chunk[], signature: string): Built {
  const builder = new Builder();
  for (const c of chunks) builder.add(c);
  return builder.finish(signature);
}

/** Writes a chunk's subtokens to scratch[0..n) and returns n: an index's packed chunk makes no array for them. */
function readUses(c: Chunk, scratch: string[]): number {
  if (c instanceof IndexedChunk) return c.usesInto(scratch);
  const uses = c.uses;
  for (let i = 0; i < uses.length; i++) scratch[i] = uses[i];
  return uses.length;
}

/**
 * A full build, one chunk at a time, so that it can be spread over event-loop
 * turns. Two passes: the first counts each term's chunks, the second fills
 * typed arrays of exactly that size — no growing lists of boxed numbers, which
 * at a million chunks held ≈500 MB more than the postings themselves.
 */
class Builder {
  private readonly postings = new PostingsBuilder();
  /**
   * What numbers the terms: the index's own table (its packed chunks hold
   * numbers already), or a table of this build's when the first chunk is plain.
   * A chunk numbered elsewhere, or plain, has its terms numbered in it by string
   * (new terms join that table, as indexing a file would add them; a slower
   * path that an index of packed chunks never takes).
   */
  private table: TermTable | undefined;
  /** Arrays to read each chunk's terms into: a full build reads a million chunks twice. */
  private readonly ids: number[] = [];
  private readonly scratch: string[] = [];
  private total = 0;
  private readonly chunks = new ChunkList();
  private readonly filesByDir = new Map<string, string[]>();
  private readonly ordsByPath = new FileOrdinals();
  private readonly lengths = new SegmentedInt32();
  /** Per chunk, k1 * (1 - b + b * length / average length): made by the second pass. */
  private norm: Float32Array | undefined;
  private filled = 0;

  add(c: Chunk): void {
    const i = this.chunks.length;
    this.chunks.push(c);
    if (this.ordsByPath.add(c.path, i)) {
      const d = dirOf(c.path);
      const arr = this.filesByDir.get(d);
      if (arr) arr.push(c.path);
      else this.filesByDir.set(d, [c.path]);
    }
    const n = this.readIds(c);
    this.lengths.push(n);
    this.total += n;
    this.postings.count(i, this.ids, n);
  }

  /** Writes the numbers of a chunk's subtokens to ids[0..n) and returns n. */
  private readIds(c: Chunk): number {
    if (c instanceof IndexedChunk) {
      this.table ??= c.termTable;
      if (c.termTable === this.table) return c.termIdsInto(this.ids);
    }
    const table = (this.table ??= new TermTable());
    const n = readUses(c, this.scratch);
    for (let k = 0; k < n; k++) this.ids[k] = table.number(this.scratch[k]);
    return n;
  }

  /**
   * The second pass for up to `count` more chunks, their length norms along
   * (every chunk is counted by now, so the average length is known); true when
   * every chunk is in.
   */
  private fillSome(count: number): boolean {
    const { chunks, lengths } = this;
    const n = chunks.length;
    const norm = (this.norm ??= new Float32Array(n));
    const avg = n ? this.total / n || 1 : 1;
    const end = Math.min(n, this.filled + count);
    for (let i = this.filled; i < end; i++) {
      const read = this.table ? chunks.termIdsInto(i, this.table, this.ids) : -1;
      this.postings.fill(i, this.ids, read >= 0 ? read : this.readIds(chunks.at(i)));
      norm[i] = BM25_K1 * (1 - BM25_B + (BM25_B * lengths.at(i)) / avg);
    }
    this.filled = end;
    return end >= n;
  }

  /** The second pass in slices, yielding between them. */
  async fillPostings(breathe: () => Promise<void>): Promise<void> {
    while (!this.fillSome(256)) await breathe();
  }

  finish(signature: string): Built {
    this.fillSome(Infinity);
    const { chunks, total } = this;
    const n = chunks.length;
    const norm = this.norm!;
    const table = this.table;
    const postings = this.postings.finish((id) => table!.term(id));
    const built: Built = {
      signature,
      chunks,
      postings,
      norm,
      filesByDir: this.filesByDir,
      dead: 0,
      builtSize: n,
      ordsByPath: this.ordsByPath,
      totalUses: total,
      lengths: this.lengths,
      idf(term: string) {
        // Document frequencies and n count live chunks only: a patched index scores like a fresh one.
        const live = built.chunks.length - built.dead;
        const df = postings.df(term);
        return Math.log(1 + (live - df + 0.5) / (df + 0.5));
      },
    };
    return built;
  }
}

/** Files changed since the last build that bm25Of patches in place without a noticeable pause. */
const QUICK_PATCH_FILES = 200;
const building = new WeakMap<IndexView, Promise<void>>();

/**
 * For a thread that must stay responsive (the extension host): the BM25 index
 * to rank with, where any full build runs in slices that yield to the event
 * loop (a million chunks take seconds). Small changes are patched in place as
 * `bm25Of` does. With `allowStale` (while the workspace is still being
 * indexed) the previous index answers while a fresh one is built behind it;
 * its chunks may be a little out of date, so callers check them against the
 * index (see gatherCandidates). `answerWhileBuilding` does the same once
 * indexing is over, for a caller that asks again when `bm25Building` settles
 * (the status bar: at 100,000 files a full build takes seconds). Without
 * either, the result is current, as `bm25Of(index)` would be.
 */
export async function prepareBm25(index: IndexView, opts: { allowStale?: boolean; answerWhileBuilding?: boolean } = {}): Promise<Bm25Index> {
  for (;;) {
    const cached = cache.get(index) as Built | undefined;
    const version = typeof index.version === 'function' ? index.version() : undefined;
    if (version === undefined || cached?.version === version) return bm25Of(index);
    let refused = false;
    if (cached?.version !== undefined && typeof index.changedSince === 'function') {
      const changed = index.changedSince(cached.version);
      if (changed && changed.length <= QUICK_PATCH_FILES) {
        // A patch of QUICK_PATCH_FILES files runs at once: it starts a slice of its own (then the loop looks again).
        if (changed.length > 1 && sliceSpent()) {
          await nextTurn('query');
          continue;
        }
        // Patched here, not through bm25Of: where a patch does not fit, bm25Of would build all at once.
        if (patch(cached, index, changed)) {
          cached.version = version;
          return cached;
        }
        refused = true;
      }
    }
    let job = building.get(index);
    if ((opts.allowStale || opts.answerWhileBuilding) && cached) {
      // While indexing, the last index answers and a fresh one is built only once the
      // workspace has changed by half (or a patch no longer fits): builds back to back
      // kept two indexes, and the garbage of reading every chunk, alive all the time.
      // Once indexing is over, the build starts now.
      const changes = version - (cached.builtVersion ?? 0);
      const due = refused || !opts.allowStale || changes >= Math.max(QUICK_PATCH_FILES, cached.ordsByPath.size / 2);
      if (!job && due) startBuild(index);
      return cached;
    }
    job ??= startBuild(index);
    await job;
    // Loop: the index may have moved on while the build ran; a small remainder is patched.
  }
}

/** The full build running for an index, if any: it resolves when a current index is in place, and rejects when the build failed. */
export function bm25Building(index: IndexView): Promise<void> | undefined {
  return building.get(index);
}

function startBuild(index: IndexView): Promise<void> {
  const job = buildInSlices(index).finally(() => building.delete(index));
  job.catch(() => undefined); // started for a stale answer, nobody may wait on it; those who do see the error
  building.set(index, job);
  return job;
}

async function buildInSlices(index: IndexView): Promise<void> {
  const version = index.version!();
  const builder = new Builder();
  const breathe = slicer();
  // Files that change while this runs are seen as they are when reached, once
  // each; the patch from `version` that follows redoes them whatever they were.
  for (const path of [...index.files()]) {
    for (const c of index.chunksOf(path)) builder.add(c);
    await breathe();
  }
  await builder.fillPostings(breathe);
  const built = builder.finish(`v${version}`);
  built.version = built.builtVersion = version;
  const cached = cache.get(index) as Built | undefined;
  if (cached?.version === undefined || cached.version < version) cache.set(index, built);
}

/** Applies changed files to a built index in place; false when a rebuild is the better deal. */
function patch(b: Built, index: IndexView, changed: readonly string[]): boolean {
  const paths = new Set(changed);
  const fresh: Chunk[] = [];
  for (const path of paths) fresh.push(...index.chunksOf(path));
  // New chunks' postings are plain arrays (8 bytes a posting, against ≈1.5 in the built lists): a quarter more, then rebuild.
  if (b.chunks.length + fresh.length > 1.25 * b.builtSize + 256) return false;
  const doomed: number[] = [];
  for (const path of paths) doomed.push(...(b.ordsByPath.get(path) ?? []));
  if ((b.dead + doomed.length) / Math.max(1, b.chunks.length + fresh.length) > MAX_DEAD_SHARE) return false;
  // Old chunks leave the document frequencies, the per-file ordinals and the length statistics.
  for (const ord of doomed) {
    b.totalUses -= b.lengths.at(ord);
    b.postings.remove(b.chunks.at(ord).uses);
  }
  for (const path of paths) b.ordsByPath.delete(path);
  b.dead += doomed.length;
  const start = b.chunks.length;
  fresh.forEach((c, k) => {
    const i = start + k;
    b.chunks.push(c);
    const uses = c.uses;
    b.lengths.push(uses.length);
    b.totalUses += uses.length;
    b.ordsByPath.add(c.path, i);
    b.postings.append(i, uses);
    const d = dirOf(c.path);
    const files = b.filesByDir.get(d);
    if (!files) b.filesByDir.set(d, [c.path]);
    else if (!files.includes(c.path)) files.push(c.path);
  });
  // Lengths are normalised by the live average, exactly as a fresh build would.
  const live = b.chunks.length - b.dead;
  const avg = live ? b.totalUses / live || 1 : 1;
  // The norms array has room to grow (a patch must not allocate megabytes each time; see stage1's
  // reusable arrays): replaced chunks get ∞ and keep it, the live ones follow the new average.
  let norm = b.norm;
  if (norm.length < b.chunks.length) {
    norm = new Float32Array(Math.ceil(b.chunks.length * 1.25) + 64);
    norm.set(b.norm);
    (b as { norm: Float32Array }).norm = norm;
  }
  for (const ord of doomed) norm[ord] = Infinity;
  for (let i = 0; i < b.chunks.length; i++) if (norm[i] !== Infinity) norm[i] = BM25_K1 * (1 - BM25_B + (BM25_B * b.lengths.at(i)) / avg);
  return true;
}

/**
 * The live ordinal of a chunk of the index (found by its file and line span, so a
 * chunk object handed out again for the same span finds it too), or undefined.
 */
export function ordinalOf(bm: Bm25Index, chunk: Span): number | undefined {
  return fileOrdinals(bm, chunk.path, [chunk])[0];
}

type Span = Pick<Chunk, 'path' | 'startLine' | 'endLine'>;

/**
 * The live ordinals of one file's chunks (in line order, as the index gives them),
 * undefined where a chunk is not in `bm`: one pass over both lists, where asking
 * ordinalOf per chunk would be quadratic in the file's chunks.
 */
export function fileOrdinals(bm: Bm25Index, path: string, chunks: readonly Span[]): Array<number | undefined> {
  const ords = bm.ordsByPath.get(path) ?? [];
  const out: Array<number | undefined> = [];
  let j = 0;
  for (const c of chunks) {
    // Both lists are in line order: skip what comes before this chunk's span.
    while (j < ords.length && before(bm.chunks.at(ords[j]), c)) j++;
    const o = ords[j];
    const b = o === undefined ? undefined : bm.chunks.at(o);
    out.push(b && (b === c || (b.startLine === c.startLine && b.endLine === c.endLine)) ? o : undefined);
  }
  return out;
}

const before = (a: Span, b: Span) => a.startLine < b.startLine || (a.startLine === b.startLine && a.endLine < b.endLine);

/** The live ordinal of the chunk with this id (`path#start-end`, see chunkId), or undefined. */
export function ordinalOfId(bm: Bm25Index, id: string): number | undefined {
  const m = /^(.*)#(\d+)-(\d+)$/s.exec(id);
  return m ? ordinalOf(bm, { path: m[1], startLine: Number(m[2]), endLine: Number(m[3]) }) : undefined;
}

/** Adds one weighted query term's BM25 contribution to every chunk's score. */
export function addTermScores(bm: Bm25Index, term: string, weight: number, scores: Float32Array): void {
  if (weight <= 0 || bm.postings.df(term) === 0) return;
  bm.postings.addScores(term, bm.idf(term) * weight * (BM25_K1 + 1), bm.norm, scores);
}

/** Postings addTermScoresInSteps scores per step (see TOP_SCAN_BLOCK: the first query runs this unoptimised). */
const TERM_SCORE_BLOCK = 1 << 16;

/** addTermScores in steps of TERM_SCORE_BLOCK postings, yielding after each (a common term is listed for most of a million chunks). */
export function* addTermScoresInSteps(bm: Bm25Index, term: string, weight: number, scores: Float32Array): Generator<void, void> {
  if (weight <= 0 || bm.postings.df(term) === 0) return;
  const w = bm.idf(term) * weight * (BM25_K1 + 1);
  for (let at = bm.postings.addScores(term, w, bm.norm, scores, undefined, TERM_SCORE_BLOCK); at; at = bm.postings.addScores(term, w, bm.norm, scores, at, TERM_SCORE_BLOCK)) yield;
}

/** Scores every chunk against weighted query terms; returns a dense score array. */
export function bm25Scores(bm: Bm25Index, terms: ReadonlyArray<{ term: string; weight: number }>): Float32Array {
  // (Stage 1 scores term by term into its own reused array: see gatherSteps.)
  const scores = new Float32Array(bm.chunks.length);
  for (const { term, weight } of terms) addTermScores(bm, term, weight, scores);
  return scores;
}

/** Ordinals topScoresInSteps scans per step: a few milliseconds even before V8 optimises the loop (a first query ran it unoptimised over a million scores in one 60–100 ms turn, perf of bench:load's warm start). */
const TOP_SCAN_BLOCK = 1 << 16;

/**
 * The ordinals of the `k` best positive scores, best first, ties by lower
 * ordinal — what sorting every positive score and keeping `k` gives — in
 * O(n log k), with a bounded min-heap: on a million chunks a full sort held the
 * event loop for a tenth of a second. Also the best positive score of all.
 */
export function topScores(scores: Float32Array, k: number, skip: (ord: number) => boolean): { top: number[]; max: number } {
  const best = new BestScores(scores, k, skip);
  best.scan(0, scores.length);
  return best.result();
}

/** topScores in steps of TOP_SCAN_BLOCK ordinals, yielding between them (for a driver that may pause). */
export function* topScoresInSteps(scores: Float32Array, k: number, skip: (ord: number) => boolean): Generator<void, { top: number[]; max: number }> {
  const best = new BestScores(scores, k, skip);
  for (let from = 0; from < scores.length; from += TOP_SCAN_BLOCK) {
    best.scan(from, Math.min(scores.length, from + TOP_SCAN_BLOCK));
    yield;
  }
  return best.result();
}

/** The bounded min-heap of topScores, fed ordinals in ascending ranges. */
class BestScores {
  /** heap[0] is the worst kept: lowest score, then highest ordinal. */
  private readonly heap: Int32Array;
  private size = 0;
  private max = 0;

  constructor(
    private readonly scores: Float32Array,
    private readonly k: number,
    private readonly skip: (ord: number) => boolean,
  ) {
    this.heap = new Int32Array(Math.max(0, k));
  }

  private worse(a: number, b: number): boolean {
    const { scores } = this;
    return scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  }

  private siftDown(at: number): void {
    const { heap, size } = this;
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let m = at;
      if (l < size && this.worse(heap[l], heap[m])) m = l;
      if (r < size && this.worse(heap[r], heap[m])) m = r;
      if (m === at) return;
      [heap[at], heap[m]] = [heap[m], heap[at]];
      at = m;
    }
  }

  /** Ordinals from..to, after every lower one. */
  scan(from: number, to: number): void {
    const { scores, heap, k } = this;
    for (let i = from; i < to; i++) {
      const s = scores[i];
      if (!(s > 0)) continue;
      // Only a score that would enter the heap needs `skip` (it reads the chunk: on a million
      // chunks, reading every scored one cost most of a query). The best score is always one of those.
      if (k > 0 && this.size >= k && !(s > scores[heap[0]])) continue;
      if (this.skip(i)) continue;
      if (s > this.max) this.max = s;
      if (k === 0) continue;
      if (this.size < k) {
        // Sift up.
        let at = this.size++;
        heap[at] = i;
        while (at > 0) {
          const p = (at - 1) >> 1;
          if (!this.worse(heap[at], heap[p])) break;
          [heap[at], heap[p]] = [heap[p], heap[at]];
          at = p;
        }
      } else {
        // Ordinals rise, so an equal score here would lose the tie: only a strictly better one enters.
        heap[0] = i;
        this.siftDown(0);
      }
    }
  }

  result(): { top: number[]; max: number } {
    const { scores } = this;
    const top = Array.from(this.heap.subarray(0, this.size));
    top.sort((a, b) => scores[b] - scores[a] || a - b);
    return { top, max: this.max };
  }
}
