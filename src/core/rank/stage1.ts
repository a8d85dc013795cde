// Stage 1: gather candidate chunks for a cursor from cheap sources (BM25 over
// subtokens, the symbol table, import edges, editor signals, the folder), keep
// why each came in, and give each a structural feature vector. Synchronous, or in
// slices that leave the event loop free (the extension host ranks that way).
import type { CandidateSource, Chunk, CursorWindow, EditorSignals, RankedChunk } from '../types';
import { isCurrent, type IndexView } from '../index/indexView';
import { addTermScoresInSteps, bm25Of, dirOf, fileOrdinals, ordinalOf, ordinalOfId, topScoresInSteps, type Bm25Index } from './bm25';
import { nextTurn, sliceSpent } from '../slices';
import { identifiers, isTerm, queryTermsFromText, splitIdentifier } from './text';

/** Structural features, in the order the model's combiner expects them. */
export const FEATURE_NAMES = [
  'bm25', // BM25 score / best BM25 score of this query
  'bm25Log', // log1p(raw BM25)
  'definition', // defines an identifier used near the cursor (weighted by closeness)
  'importedFile', // the cursor file imports this chunk's file
  'importedName', // defines a name the cursor file imports from this file
  'importedUnused', // ... and that name appears nowhere else in the cursor file
  'importer', // this chunk's file imports the cursor file
  'sameFolder',
  'openTab', // 1/(1+rank) in the open-tab list
  'recentEdit',
  'recentView',
  'declKind', // function/class/interface/type/const chunk
  'importsKind', // an imports block
  'sizeLog', // log(tokens)/8
  'sameFile', // the cursor's own file (outside the cursor window)
  'sameLanguage',
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Hand-set stage-1 combiner (logistic); `npm run train` prints fitted values to update these. */
export const STAGE1_WEIGHTS: { w: number[]; b: number } = {
  // Fitted by `npm run train` on the dev set's tune split (pointwise logistic regression),
  // except openTab/recentEdit/recentView (0.4, 0.4, 0.2): hand-set priors, as the dev set has no editor signals.
  w: [0.304, 0.368, 1.96, 2.214, 2.415, 2.252, -0.282, -0.412, 0.4, 0.4, 0.2, -0.31, -0.59, -0.77, -0.193, -0.844],
  b: -6.913,
};

export interface RankQuery {
  index: IndexView;
  cursor: CursorWindow;
  signals: EditorSignals;
  maxCandidates?: number;
  /** The BM25 index to use (from prepareBm25); by default bm25Of(index), built or patched here. */
  bm25?: Bm25Index;
}

export interface Candidate {
  chunk: Chunk;
  ord: number;
  sources: CandidateSource[];
  features: Float32Array;
  stage1: number;
  /** Query terms that matched (BM25), best first, plus identifiers whose definition it holds. */
  evidence: string[];
}

export interface Stage1Output {
  candidates: Candidate[];
  /** Query terms actually used (after fallback), nearest first. */
  terms: Array<{ term: string; weight: number }>;
  bm: Bm25Index;
}

const DECL_KINDS = new Set(['function', 'class', 'interface', 'type', 'const']);
const MAX_TERMS = 64;
/** A name defined in more places than this says little about which one the cursor means: not a source. */
const MAX_DEFINITIONS = 20;

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function queryTerms(cursor: CursorWindow): Array<{ term: string; weight: number }> {
  const given = cursor.queryTerms.filter((t) => isTerm(t.term) && t.weight > 0);
  const terms = given.length ? given : queryTermsFromText(cursor.text, Math.floor(cursor.text.split('\n').length / 2));
  const seen = new Set<string>();
  const out: Array<{ term: string; weight: number }> = [];
  for (const t of terms) {
    if (seen.has(t.term)) continue;
    seen.add(t.term);
    out.push(t);
    if (out.length >= MAX_TERMS) break;
  }
  return out;
}

function isExcluded(chunk: Chunk, excluded: ReadonlySet<string>): boolean {
  return excluded.has(chunk.id) || excluded.has(chunk.path);
}

/** Counts of identifiers in a text. */
function identCounts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of identifiers(text)) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/** One zeroed score array per BM25 index, reused by every query (a query in flight marks it busy: another one gets its own). */
const scratch = new WeakMap<Bm25Index, Float32Array>();
/** Likewise, ordinal → place among the kept candidates (-1 everywhere between queries). */
const keptSlots = new WeakMap<Bm25Index, Int32Array>();
const busy = new WeakSet<Float32Array | Int32Array>();

/**
 * The array kept for `bm` in `arrays`, with room for every ordinal. A patched
 * index grows by a few chunks at a time: the array grows by a quarter, so that
 * patches do not each allocate megabytes (V8 answers a stream of large
 * allocations outside its heap with full collections that stop the event loop).
 * While another query holds it, a fresh one.
 */
function reusable<T extends Float32Array | Int32Array>(arrays: WeakMap<Bm25Index, T>, bm: Bm25Index, make: (n: number) => T): T {
  const n = bm.chunks.length;
  let a = arrays.get(bm);
  if (a && busy.has(a)) return make(n);
  if (!a || a.length < n) {
    // The Int32Array's -1 everywhere, the Float32Array's zeros: both hold between queries, so nothing carries over.
    arrays.set(bm, (a = make(Math.ceil(n * 1.25) + 64)));
  }
  busy.add(a);
  return a;
}

/** Gathers, features and stage-1-scores the candidates for a cursor, best first. */
export function gatherCandidates(req: RankQuery): Stage1Output {
  const steps = gatherSteps(req);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * gatherCandidates for the extension host: on a million chunks, scoring every
 * query term's postings takes tens of milliseconds, so it yields to the event
 * loop between terms once its slice is spent. Same result; undefined when
 * `signal` aborts it.
 */
export async function gatherCandidatesInSlices(req: RankQuery, signal?: AbortSignal): Promise<Stage1Output | undefined> {
  const steps = gatherSteps(req);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (sliceSpent()) {
      await nextTurn('query');
      if (signal?.aborted) {
        steps.return(undefined as never); // runs its cleanup
        return undefined;
      }
    }
  }
}

/** The work of gatherCandidates; it yields where it may pause (drivers: the two above, and tests). */
export function* gatherSteps(req: RankQuery): Generator<void, Stage1Output> {
  const bm = req.bm25 ?? bm25Of(req.index);
  const n = bm.chunks.length;
  // Written once on creation, not only allocated: a large typed array starts as
  // the kernel's shared zero page, and scoring (scores[i] += …) reads each page
  // before writing it, a copy-on-write fault that flushes the TLB of every core
  // (perf, bench:load at 100,000 files in a VM: 60–80 ms of one query on the
  // extension host's thread after each new BM25 index). Written first, each page
  // is one plain fault.
  const into = reusable(scratch, bm, (size) => new Float32Array(size).fill(0));
  const slots = reusable(keptSlots, bm, (size) => new Int32Array(size).fill(-1));
  try {
    return yield* gather(req, bm, into.length === n ? into : into.subarray(0, n), slots);
  } finally {
    into.fill(0, 0, n);
    busy.delete(into);
    busy.delete(slots);
  }
}

function* gather(req: RankQuery, bm: Bm25Index, scores: Float32Array, slots: Int32Array): Generator<void, Stage1Output> {
  const { index, cursor, signals } = req;
  const maxCandidates = Math.max(1, req.maxCandidates ?? 300);
  // A BM25 index handed in may be from a moment ago (indexing still going on): its chunks that have since been replaced are not candidates.
  const current = (chunk: Chunk) => !req.bm25 || isCurrent(index, chunk);
  const terms = queryTerms(cursor);
  const termWeight = new Map(terms.map((t) => [t.term, t.weight]));
  const excluded = new Set(signals.excluded);
  const curDir = dirOf(cursor.path);
  const curLang = index.chunksOf(cursor.path)[0]?.language;
  const isCursorChunk = (c: Chunk) => c.path === cursor.path && c.startLine <= cursor.endLine && c.endLine >= cursor.startLine;

  const pool = new Map<number, Candidate>();
  const add = (ord: number, src: CandidateSource): Candidate | undefined => {
    const chunk = bm.chunks.at(ord);
    if (!chunk || isCursorChunk(chunk) || isExcluded(chunk, excluded) || !current(chunk)) return undefined;
    let c = pool.get(ord);
    if (!c) pool.set(ord, (c = { chunk, ord, sources: [], features: new Float32Array(FEATURE_COUNT), stage1: 0, evidence: [] }));
    if (!c.sources.includes(src)) c.sources.push(src);
    return c;
  };
  const addFile = (path: string, src: CandidateSource, feature: number, value: number) => {
    for (const ord of fileOrdinals(bm, path, index.chunksOf(path))) {
      if (ord === undefined) continue;
      const c = add(ord, src);
      if (c) c.features[feature] = Math.max(c.features[feature], value);
    }
  };

  // BM25: top chunks for the weighted cursor terms.
  // (Ordinals a patch appends meanwhile fall outside `scores`, sized at the start: those writes are dropped.)
  for (const { term, weight } of terms) {
    yield* addTermScoresInSteps(bm, term, weight, scores);
    yield;
  }
  const { top, max: maxScore } = yield* topScoresInSteps(scores, maxCandidates, (i) => isCursorChunk(bm.chunks.at(i)));
  for (const i of top) add(i, 'bm25');

  // Definitions of identifiers near the cursor (weight = closeness of their subtokens).
  const near = (cursor as { nearIdentifiers?: string[] }).nearIdentifiers ?? [];
  const cursorIdents = new Set([...near, ...identifiers(cursor.text)]);
  for (const name of cursorIdents) {
    if (name.length < 2) continue;
    const defs = index.definitionsOf(name, MAX_DEFINITIONS + 1);
    if (!defs.length || defs.length > MAX_DEFINITIONS) continue;
    let w = 0;
    for (const s of splitIdentifier(name)) w = Math.max(w, termWeight.get(s) ?? 0);
    if (w <= 0) continue;
    const v = w / Math.sqrt(defs.length);
    for (const d of defs) {
      const ord = ordinalOf(bm, d);
      if (ord === undefined) continue;
      const c = add(ord, 'definition');
      if (c) {
        c.features[2] = Math.max(c.features[2], v);
        if (!c.evidence.includes(name)) c.evidence.push(name);
      }
    }
  }

  // Import edges: files the cursor file imports, names it imports, files importing it.
  const fileText = index.fileText(cursor.path) ?? cursor.text;
  const fileIdents = identCounts(fileText);
  const importedNames = index.importedNamesOf(cursor.path);
  for (const target of index.importsOf(cursor.path)) {
    const names = new Set(importedNames.get(target) ?? []);
    const chunks = index.chunksOf(target);
    const ords = fileOrdinals(bm, target, chunks);
    for (let k = 0; k < chunks.length; k++) {
      const ch = chunks[k];
      const ord = ords[k];
      if (ord === undefined) continue;
      const c = add(ord, 'import');
      if (!c) continue;
      c.features[3] = 1;
      for (const d of ch.defines) {
        if (!names.has(d)) continue;
        c.features[4] = 1;
        // Used nowhere but its import line: the code at the cursor likely needs it.
        if ((fileIdents.get(d) ?? 0) <= 1) c.features[5] = 1;
        if (!c.evidence.includes(d)) c.evidence.push(d);
      }
    }
  }
  for (const importer of index.importersOf(cursor.path).slice(0, 20)) addFile(importer, 'import', 6, 1);

  // Editor signals.
  signals.openTabs.slice(0, 20).forEach((p, i) => p !== cursor.path && addFile(p, 'open-tab', 8, 1 / (1 + i)));
  signals.recentEdits.slice(0, 20).forEach((p, i) => addFile(p, 'recent-edit', 9, 1 / (1 + i)));
  signals.recentViews.slice(0, 20).forEach((p, i) => p !== cursor.path && addFile(p, 'recent-view', 10, 1 / (1 + i)));
  for (const p of (bm.filesByDir.get(curDir) ?? []).slice(0, 30)) if (p !== cursor.path) addFile(p, 'same-folder', 7, 1);
  for (const id of signals.pinned) {
    const ord = ordinalOfId(bm, id);
    if (ord !== undefined) add(ord, 'pinned');
  }

  // Remaining features and the stage-1 score.
  const { w, b } = STAGE1_WEIGHTS;
  const cands = [...pool.values()];
  for (const c of cands) {
    const f = c.features;
    const s = scores[c.ord];
    f[0] = maxScore > 0 ? s / maxScore : 0;
    f[1] = Math.log1p(s);
    if (dirOf(c.chunk.path) === curDir && c.chunk.path !== cursor.path) f[7] = 1;
    f[11] = DECL_KINDS.has(c.chunk.kind) ? 1 : 0;
    f[12] = c.chunk.kind === 'imports' ? 1 : 0;
    f[13] = Math.log(1 + c.chunk.tokens) / 8;
    f[14] = c.chunk.path === cursor.path ? 1 : 0;
    f[15] = curLang !== undefined && c.chunk.language === curLang ? 1 : 0;
    let z = b;
    for (let k = 0; k < FEATURE_COUNT; k++) z += w[k] * f[k];
    c.stage1 = sigmoid(z);
    if (c.sources.includes('pinned')) c.stage1 = Math.max(c.stage1, 0.999);
  }
  cands.sort((x, y) => y.stage1 - x.stage1 || x.ord - y.ord);
  const kept = cands.slice(0, maxCandidates);
  // Evidence: matched cursor terms by weight × idf.
  // Walk the postings of the query terms, most valuable first, marking kept candidates.
  // Ordinal → place in `kept` (-1: not kept), in an array reused per BM25 index (a fresh 5 MB one per query on a million chunks was garbage).
  kept.forEach((c, k) => (slots[c.ord] = k));
  try {
    const byValue = terms.map((t) => ({ t: t.term, v: t.weight * bm.idf(t.term) })).sort((x, y) => y.v - x.v || (x.t < y.t ? -1 : 1));
    for (const { t } of byValue) {
      bm.postings.forEach(t, (ord) => {
        const at = slots[ord];
        if (!(at >= 0)) return; // not kept (or appended by a patch meanwhile: past the array)
        const ev = kept[at].evidence;
        if (ev.length < 5 && !ev.includes(t)) ev.push(t);
      });
      yield;
    }
  } finally {
    for (const c of kept) slots[c.ord] = -1;
  }
  return { candidates: kept, terms, bm };
}

/** Stage 1 alone: candidates ranked by the structural combiner. */
export function toRanked(cands: readonly Candidate[], score: (c: Candidate, i: number) => number = (c) => c.stage1): RankedChunk[] {
  return cands.map((c, i) => ({ chunk: c.chunk, score: score(c, i), sources: [...c.sources], evidence: c.evidence.slice(0, 5) }));
}
