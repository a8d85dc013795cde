// The ranker the engine calls: stage 1 (candidate gathering, CPU, synchronous)
// then stage 2 (attention scoring on ONNX Runtime, one batched run per query,
// in a worker thread: modelRunner.ts). Creating a ranker never throws: without
// a usable model or runtime it ranks with stage 1 alone and says why in `note`.
import { readFileSync } from 'node:fs';
import type { IndexView } from '../index/indexView';
import type { CursorWindow, EditorSignals, RankedChunk } from '../types';
import { assetPath } from '../assets';
import { breathe } from '../slices';
import { buildInputs, keyIds, MODEL_FORMAT, type ModelMeta } from './model';
import { crashModelWorker, startModelRunner, startUserModel, type ModelRunner } from './modelRunner';
import { firstLine, type RankerDevice } from './modelSession';
import { FEATURE_NAMES, gatherCandidates, gatherCandidatesInSlices, toRanked, type Candidate, type Stage1Output } from './stage1';
import type { Bm25Index } from './bm25';
import { keyTermsOf } from './keys';
import { cosine, USER_COS_WEIGHT, USER_TOP_K, type UserModel } from './userModel';

export { gpuProviders, modelFeeds, type RankerDevice } from './modelSession';

export interface RankRequest {
  index: IndexView;
  cursor: CursorWindow;
  signals: EditorSignals;
  /** Candidates kept from stage 1 and scored by stage 2 (default 300). */
  maxCandidates?: number;
  signal?: AbortSignal;
  /** BM25 index to use (see prepareBm25); default: built or patched on the spot. */
  bm25?: Bm25Index;
}

export interface RankResult {
  /** Best first, scores in [0, 1]. */
  ranked: RankedChunk[];
  /** Execution provider that scored ('cpu', 'webgpu', ...) or 'stage1'. */
  device: string;
  /** Why ranking is degraded, when it is. */
  note?: string;
  stage1Ms: number;
  stage2Ms: number;
}

export interface RankerOptions {
  device?: RankerDevice;
  modelPath?: string;
  /** A local ONNX sentence-embedding model (file, tokenizer.json beside it; or a folder with both): an extra cosine feature. */
  userModelPath?: string;
  log?: (msg: string) => void;
}

/** Provider chosen per (device, model) for this process: the fallback is decided once. */
const providerMemo = new Map<string, string>();

function now(): number {
  return performance.now();
}

function abortError(): Error {
  const e = new Error('ranking aborted');
  e.name = 'AbortError';
  return e;
}

/** Synchronous stage-1 ranking (CPU). */
export function rankStage1(req: RankRequest): RankedChunk[] {
  return toRanked(gatherCandidates(req).candidates);
}

const KEY_CACHE_MAX = 200_000;

export class Ranker {
  private readonly keyCache = new Map<string, Int32Array>();
  private user: UserModel | undefined;
  private userNote: string | undefined;
  private readonly userCache = new Map<string, Float32Array>();

  private constructor(
    private readonly model: ModelRunner | undefined,
    private readonly meta: ModelMeta | undefined,
    private readonly note: string | undefined,
  ) {}

  /** Execution provider that scores ('cpu', 'webgpu', ...) or 'stage1'. */
  get device(): string {
    return this.model?.device ?? 'stage1';
  }

  /** Why GPU providers were skipped or failed (set when `auto`/`gpu` fell back to cpu). */
  get deviceNote(): string | undefined {
    return this.model?.failures.length ? this.model.failures.join('; ') : undefined;
  }

  /** Why stage 2 is not in use (undefined when it is). */
  get degradedReason(): string | undefined {
    return this.note;
  }

  /** Whether stage 2 runs in a worker thread (false: on this thread, or no stage 2). */
  get scoresInWorker(): boolean {
    return this.model?.inWorker ?? false;
  }

  /** Test hook: makes the model worker exit as if it had crashed (false when there is none). */
  crashModelWorker(): boolean {
    return this.model ? crashModelWorker(this.model) : false;
  }

  /** The user embedding model in use (undefined when none or it failed to load: see `userModelNote`). */
  get userModel(): string | undefined {
    return this.user?.description;
  }

  /** Why the user embedding model is not used, when one was configured. */
  get userModelNote(): string | undefined {
    return this.userNote;
  }

  static async create(opts: RankerOptions = {}): Promise<Ranker> {
    const r = await Ranker.createBuiltIn(opts);
    if (opts.userModelPath) await r.attachUserModel(opts.userModelPath, opts.log ?? (() => undefined));
    return r;
  }

  private async attachUserModel(path: string, log: (msg: string) => void): Promise<void> {
    try {
      this.user = await startUserModel(path, { log });
      log(`ranker: user embedding model ${this.user.description}`);
    } catch (err) {
      this.userNote = `user model unusable (${firstLine((err as Error).message)}); ranking with the built-in model`;
      log(`ranker: ${this.userNote}`);
    }
  }

  private static async createBuiltIn(opts: RankerOptions): Promise<Ranker> {
    const log = opts.log ?? (() => undefined);
    const degrade = (why: string) => {
      log(`ranker: ${why}; ranking with stage 1 only`);
      return new Ranker(undefined, undefined, why);
    };
    let modelPath: string;
    let meta: ModelMeta;
    try {
      modelPath = opts.modelPath ?? assetPath('model/ranker.onnx');
      const metaPath = modelPath.replace(/\.onnx$/, '.json');
      meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ModelMeta;
      if (meta.format !== MODEL_FORMAT) throw new Error(`model format ${meta.format}, expected ${MODEL_FORMAT}`);
      if (meta.features.join(',') !== FEATURE_NAMES.join(',')) throw new Error('model was trained on other features than this build computes');
    } catch (err) {
      return degrade(`ranker model unusable (${(err as Error).message})`);
    }
    const device = opts.device ?? 'auto';
    const memoKey = `${device}|${modelPath}`;
    let model: ModelRunner;
    try {
      model = await startModelRunner({ modelPath, meta, device, remembered: providerMemo.get(memoKey), log });
    } catch (err) {
      return degrade((err as Error).message);
    }
    providerMemo.set(memoKey, model.device);
    const ranker = new Ranker(model, meta, undefined);
    if (ranker.deviceNote) log(`ranker: GPU unavailable (${ranker.deviceNote}); using cpu`);
    else log(`ranker: using ${model.device}`);
    return ranker;
  }

  /** Hashed key rows of a chunk, cached by path and content hash (the idf order is the index's when first seen). */
  private keysOf(c: Candidate, bm: Stage1Output['bm']): Int32Array {
    const k = `${c.chunk.path}\0${c.chunk.hash}`;
    let ids = this.keyCache.get(k);
    if (!ids) {
      if (this.keyCache.size >= KEY_CACHE_MAX) this.keyCache.clear();
      ids = keyIds(this.meta!, keyTermsOf(c.chunk, bm, this.meta!.maxKey));
      this.keyCache.set(k, ids);
    }
    return ids;
  }

  async rank(req: RankRequest): Promise<RankResult> {
    const res = await this.rankBuiltIn(req);
    const notes = [res.note, this.userNote];
    if (this.user && res.ranked.length) {
      const t = now();
      try {
        res.ranked = await this.rescoreWithUser(req, res.ranked);
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        notes.push(`user model failed (${firstLine((err as Error).message)}); built-in ranking`);
      }
      res.stage2Ms += now() - t;
    }
    const note = notes.filter((n) => n).join('; ');
    return { ...res, note: note || undefined };
  }

  /** Centred cosine (user embeddings of the cursor window and each chunk) added to the logit of the best USER_TOP_K. */
  private async rescoreWithUser(req: RankRequest, ranked: RankedChunk[]): Promise<RankedChunk[]> {
    const user = this.user!;
    const top = ranked.slice(0, USER_TOP_K);
    const keyOf = (c: RankedChunk) => `${c.chunk.path}\0${c.chunk.hash}`;
    const missing = top.filter((r) => !this.userCache.has(keyOf(r)));
    const texts = [req.cursor.text, ...missing.map((r) => req.index.chunkText(r.chunk))];
    const vecs = await user.embed(texts);
    if (req.signal?.aborted) throw abortError();
    if (this.userCache.size > KEY_CACHE_MAX) this.userCache.clear();
    missing.forEach((r, i) => this.userCache.set(keyOf(r), vecs[i + 1]));
    const q = vecs[0];
    const cos = top.map((r) => cosine(q, this.userCache.get(keyOf(r))!));
    const mean = cos.reduce((a, b) => a + b, 0) / (cos.length || 1);
    const rescored = top.map((r, i) => {
      const p = Math.min(1 - 1e-6, Math.max(1e-6, r.score));
      let score = 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + USER_COS_WEIGHT * (cos[i] - mean))));
      if (r.sources.includes('pinned')) score = Math.max(score, 0.999);
      return { ...r, score };
    });
    const all = [...rescored, ...ranked.slice(USER_TOP_K)];
    const order = all.map((_, i) => i).sort((a, b) => all[b].score - all[a].score || a - b);
    return order.map((i) => all[i]);
  }

  private async rankBuiltIn(req: RankRequest): Promise<RankResult> {
    if (req.signal?.aborted) throw abortError();
    const t0 = now();
    const s1 = await gatherCandidatesInSlices(req, req.signal);
    if (!s1) throw abortError();
    const t1 = now();
    if (!this.model || !this.meta || s1.candidates.length === 0) {
      return { ranked: toRanked(s1.candidates), device: this.device, note: this.note, stage1Ms: t1 - t0, stage2Ms: 0 };
    }
    if (req.signal?.aborted) throw abortError();
    const cands = s1.candidates;
    try {
      await breathe('query'); // the model's inputs take a few ms of their own
      const keys = cands.map((c) => this.keysOf(c, s1.bm));
      const x = buildInputs(this.meta, s1.terms, keys, cands.map((c) => c.features));
      const { score, contrib } = await this.model!.score(x);
      if (req.signal?.aborted) throw abortError();
      const ranked = rankWithScores(cands, score, contrib, s1.terms, x.lq);
      return { ranked, device: this.device, stage1Ms: t1 - t0, stage2Ms: now() - t1 };
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const note = `stage 2 failed (${firstLine((err as Error).message)}); stage 1 ranking`;
      return { ranked: toRanked(cands), device: 'stage1', note, stage1Ms: t1 - t0, stage2Ms: now() - t1 };
    }
  }

  async dispose(): Promise<void> {
    await this.user?.dispose();
    await this.model?.release();
  }
}

/** Orders candidates by model score; evidence = cursor terms with the largest attention-pooled contribution. */
export function rankWithScores(
  cands: readonly Candidate[],
  score: Float32Array,
  contrib: Float32Array,
  terms: ReadonlyArray<{ term: string; weight: number }>,
  lq: number,
): RankedChunk[] {
  const effs = new Float64Array(cands.length);
  cands.forEach((c, i) => (effs[i] = c.sources.includes('pinned') ? Math.max(score[i], 0.999) : score[i]));
  const eff = (i: number) => effs[i];
  const order = cands.map((_, i) => i);
  order.sort((a, b) => effs[b] - effs[a] || cands[a].ord - cands[b].ord);
  const nq = Math.min(lq, terms.length);
  const used = new Uint8Array(nq);
  return order.map((i) => {
    const c = cands[i];
    const evidence: string[] = [];
    for (const e of c.evidence) if (evidence.length < 2 && !evidence.includes(e)) evidence.push(e);
    // Cursor terms with the largest contributions, best first (selection: at most 5 passes over Lq).
    used.fill(0);
    while (evidence.length < 5) {
      let best = -1;
      let bv = 0.005;
      for (let q = 0; q < nq; q++) {
        const v = contrib[i * lq + q];
        if (!used[q] && v > bv) {
          bv = v;
          best = q;
        }
      }
      if (best < 0) break;
      used[best] = 1;
      if (!evidence.includes(terms[best].term)) evidence.push(terms[best].term);
    }
    return { chunk: c.chunk, score: Math.min(1, Math.max(0, eff(i))), sources: [...c.sources], evidence };
  });
}
