// The ranker the engine calls: stage 1 (candidate gathering, CPU, synchronous)
// then stage 2 (attention scoring on ONNX Runtime, one batched run per query).
// Creating a ranker never throws: without a usable model or runtime it ranks
// with stage 1 alone and says why in `note`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { IndexView } from '../index/indexView';
import type { CursorWindow, EditorSignals, RankedChunk } from '../types';
import { assetPath } from '../assets';
import { matmulModel } from '../cost/onnxGraphs';
import { breathe, nextTurn } from '../slices';
import { buildInputs, keyIds, MODEL_FORMAT, type ModelInputs, type ModelMeta } from './model';
import { FEATURE_NAMES, gatherCandidates, gatherCandidatesInSlices, toRanked, type Candidate, type Stage1Output } from './stage1';
import type { Bm25Index } from './bm25';
import { keyTermsOf } from './keys';
import { VULKAN_LOADER, vulkanLoaderPresent } from './vulkan';
import { cosine, loadUserModel, USER_COS_WEIGHT, USER_TOP_K, type UserModel } from './userModel';

export type RankerDevice = 'auto' | 'gpu' | 'cpu';

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

type Ort = typeof import('onnxruntime-node');

/** GPU execution providers worth trying on this platform, in order. */
export function gpuProviders(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') return ['webgpu', 'dml', 'cuda'];
  if (platform === 'darwin') return ['webgpu', 'coreml'];
  return ['webgpu', 'cuda'];
}

/** CUDA is listed as supported but its provider libraries are a separate download: try it only when present. */
function cudaPresent(): boolean {
  try {
    const bin = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(bin, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

function ortBinDir(): string | undefined {
  try {
    return join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

let vulkanMemo: boolean | undefined;
/** Linux webgpu (Dawn) needs the Vulkan loader; checked once per process, without spawning anything. */
function webgpuBlocker(platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform !== 'linux') return undefined;
  if (vulkanMemo === undefined) {
    const bin = ortBinDir();
    vulkanMemo = vulkanLoaderPresent({ extraDirs: bin ? [bin] : [] });
  }
  return vulkanMemo ? undefined : `webgpu: no Vulkan loader (${VULKAN_LOADER})`;
}

/** Provider chosen per (device, model) for this process: the fallback is decided once. */
const providerMemo = new Map<string, string>();

/** Once per process (see setUpOrt). */
let ortSetUp: Promise<void> | undefined;

/**
 * ONNX Runtime sets up its environment inside the first session's native
 * constructor (55–68 ms on a slow VM, where the model's own session then takes
 * 20 ms): a one-node session takes that set-up in a turn of its own.
 */
async function setUpOrt(ort: Ort): Promise<void> {
  try {
    await nextTurn();
    const tiny = await ort.InferenceSession.create(matmulModel(1, 1, 1));
    await tiny.release?.();
  } catch {
    /* the model's own session says what is wrong */
  }
}

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

/** The model's input tensors for one query. */
export function modelFeeds(ort: Pick<Ort, 'Tensor'>, x: ModelInputs, nf: number): Record<string, Tensor> {
  return {
    q_ids: new ort.Tensor('int32', x.qIds, [x.lq]),
    q_w: new ort.Tensor('float32', x.qW, [x.lq]),
    u_ids: new ort.Tensor('int32', x.uIds, [x.u]),
    k_idx: new ort.Tensor('int32', x.kIdx, [x.n, x.lk]),
    k_mask: new ort.Tensor('float32', x.kMask, [x.n, x.lk]),
    feats: new ort.Tensor('float32', x.feats, [x.n, nf]),
  };
}

export class Ranker {
  private readonly keyCache = new Map<string, Int32Array>();
  private user: UserModel | undefined;
  private userNote: string | undefined;
  private readonly userCache = new Map<string, Float32Array>();

  private constructor(
    private readonly ort: Ort | undefined,
    private readonly session: InferenceSession | undefined,
    private readonly meta: ModelMeta | undefined,
    readonly device: string,
    private readonly note: string | undefined,
    /** Why GPU providers were skipped or failed (set when `auto`/`gpu` fell back to cpu). */
    readonly deviceNote?: string,
  ) {}

  /** Why stage 2 is not in use (undefined when it is). */
  get degradedReason(): string | undefined {
    return this.note;
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
      const ort = this.ort ?? (await import('onnxruntime-node'));
      this.user = await loadUserModel(ort, path);
      log(`ranker: user embedding model ${this.user.description}`);
    } catch (err) {
      this.userNote = `user model unusable (${firstLine((err as Error).message)}); ranking with the built-in model`;
      log(`ranker: ${this.userNote}`);
    }
  }

  private static async createBuiltIn(opts: RankerOptions): Promise<Ranker> {
    const log = opts.log ?? (() => undefined);
    const degrade = (why: string, ort?: Ort) => {
      log(`ranker: ${why}; ranking with stage 1 only`);
      return new Ranker(ort, undefined, undefined, 'stage1', why);
    };
    let modelPath: string;
    let bytes: Uint8Array;
    let meta: ModelMeta;
    try {
      modelPath = opts.modelPath ?? assetPath('model/ranker.onnx');
      bytes = readFileSync(modelPath);
      const metaPath = modelPath.replace(/\.onnx$/, '.json');
      meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ModelMeta;
      if (meta.format !== MODEL_FORMAT) throw new Error(`model format ${meta.format}, expected ${MODEL_FORMAT}`);
      if (meta.features.join(',') !== FEATURE_NAMES.join(',')) throw new Error('model was trained on other features than this build computes');
    } catch (err) {
      return degrade(`ranker model unusable (${(err as Error).message})`);
    }
    let ort: Ort;
    try {
      // Loading ONNX Runtime's native module (≈20 ms) and creating a session (its
      // native constructor, ≈20 ms) both run on this thread: each gets a turn of its own.
      await nextTurn();
      ort = await import('onnxruntime-node');
    } catch (err) {
      return degrade(`ONNX Runtime failed to load (${(err as Error).message})`);
    }
    await (ortSetUp ??= setUpOrt(ort));
    const device = opts.device ?? 'auto';
    const memoKey = `${device}|${modelPath}`;
    const supported = new Set<string>();
    try {
      for (const b of ort.listSupportedBackends?.() ?? []) supported.add(b.name);
    } catch {
      /* older runtimes: try everything */
    }
    const order = device === 'cpu' ? ['cpu'] : [...gpuProviders().filter((p) => (supported.size === 0 || supported.has(p)) && (p !== 'cuda' || cudaPresent())), 'cpu'];
    const remembered = providerMemo.get(memoKey);
    const tries = remembered ? [remembered] : order;
    const failures: string[] = [];
    for (const ep of tries) {
      const blocker = ep === 'webgpu' ? webgpuBlocker() : undefined;
      if (blocker) {
        failures.push(blocker);
        continue;
      }
      try {
        await nextTurn();
        const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
        const r = new Ranker(ort, session, meta, ep, undefined, failures.length ? failures.join('; ') : undefined);
        await r.warmUp();
        providerMemo.set(memoKey, ep);
        if (failures.length) log(`ranker: GPU unavailable (${failures.join('; ')}); using cpu`);
        else log(`ranker: using ${ep}`);
        return r;
      } catch (err) {
        failures.push(`${ep}: ${firstLine((err as Error).message)}`);
      }
    }
    return degrade(`no execution provider could run the model (${failures.join('; ')})`, ort);
  }

  /** One tiny run so a provider that loads but cannot execute fails here, not mid-ranking. */
  private async warmUp(): Promise<void> {
    if (!this.meta) return;
    const f = new Float32Array(this.meta.features.length);
    const x = buildInputs(this.meta, [{ term: 'warm', weight: 1 }], [['warm', 'up']], [f]);
    await this.run(x.n, x);
  }

  private async run(n: number, x: ModelInputs): Promise<{ score: Float32Array; contrib: Float32Array }> {
    const out = await this.session!.run(modelFeeds(this.ort!, x, this.meta!.features.length));
    return { score: out.score.data as Float32Array, contrib: out.contrib.data as Float32Array };
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
    if (!this.session || !this.meta || s1.candidates.length === 0) {
      return { ranked: toRanked(s1.candidates), device: this.session ? this.device : 'stage1', note: this.note, stage1Ms: t1 - t0, stage2Ms: 0 };
    }
    if (req.signal?.aborted) throw abortError();
    const cands = s1.candidates;
    try {
      await breathe('query'); // the model's inputs take a few ms of their own
      const keys = cands.map((c) => this.keysOf(c, s1.bm));
      const x = buildInputs(this.meta, s1.terms, keys, cands.map((c) => c.features));
      const { score, contrib } = await this.run(cands.length, x);
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
    await this.session?.release();
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

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? s).trim().slice(0, 200);
}
