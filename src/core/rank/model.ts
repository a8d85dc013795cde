// The stage-2 model: its metadata, how inputs are laid out, and a plain
// TypeScript reference of the ONNX graph's math (tests compare the two; the
// trainer uses it for forward and backward passes).
//
//   Q = E[qIds]                      [Lq, d]   one vector per cursor subtoken
//   T = E[uIds] Qᵀ                   [U, Lq]   the distinct key subtokens of all candidates, once
//   S = T[kIdx]                      [N, Lk, Lq] = K Qᵀ with K = E[uIds[kIdx]] one per candidate subtoken
//   A = softmax_k(tau * S + mask)    attention of each cursor term over a candidate's terms
//   P = Σ_k A ⊙ S                    [N, Lq]   attention-pooled similarity per cursor term
//   C = P ⊙ qW                       [N, Lq]   contribution of each cursor term (evidence)
//   rel = Σ_q C,  sharp = Σ_q qW ⊙ relu(P - theta)
//   score = sigmoid([rel, sharp, features] · w + b)
//
// tau plays the role of 1/√d in scaled dot-product attention; it is learned.
import { hashBucket } from './text';

export const MODEL_FORMAT = 2;
export const SHARP_THETA = 0.6;
export const MASK_NEG = -10000;

export interface ModelMeta {
  format: number;
  vocab: number;
  dim: number;
  maxQuery: number;
  maxKey: number;
  features: string[];
  /** Free-form training summary (dataset, seed, metrics). */
  trained?: Record<string, unknown>;
}

export interface ModelWeights {
  meta: ModelMeta;
  /** [vocab × dim], row 0 = padding (zeros). */
  embedding: Float32Array;
  tau: number;
  /** [2 + features] combiner weights: rel, sharp, features... */
  w: Float32Array;
  b: number;
}

export interface ModelInputs {
  n: number;
  lq: number;
  lk: number;
  /** Number of distinct key rows (uIds.length; uIds[0] = 0, the padding row). */
  u: number;
  qIds: Int32Array;
  qW: Float32Array;
  uIds: Int32Array;
  /** [N, Lk] index into uIds (0 = padding). */
  kIdx: Int32Array;
  kMask: Float32Array;
  feats: Float32Array;
}

/** Hashed vocabulary rows of a candidate's key subtokens (most informative first), capped at maxKey. */
export function keyIds(meta: Pick<ModelMeta, 'vocab' | 'maxKey'>, terms: readonly string[]): Int32Array {
  const n = Math.min(meta.maxKey, terms.length);
  const out = new Int32Array(n);
  for (let j = 0; j < n; j++) out[j] = hashBucket(terms[j], meta.vocab);
  return out;
}

/** Lays out one query's inputs. `keys[i]` are a candidate's subtokens (strings, or rows from `keyIds`), most informative first. */
export function buildInputs(
  meta: ModelMeta,
  terms: ReadonlyArray<{ term: string; weight: number }>,
  keys: ReadonlyArray<readonly string[] | Int32Array>,
  feats: ReadonlyArray<Float32Array>,
): ModelInputs {
  const lq = Math.max(1, Math.min(meta.maxQuery, terms.length));
  const qIds = new Int32Array(lq);
  const qW = new Float32Array(lq);
  let total = 0;
  for (let i = 0; i < Math.min(lq, terms.length); i++) total += terms[i].weight;
  for (let i = 0; i < Math.min(lq, terms.length); i++) {
    qIds[i] = hashBucket(terms[i].term, meta.vocab);
    qW[i] = total > 0 ? terms[i].weight / total : 0;
  }
  const n = keys.length;
  let lk = 1;
  for (const k of keys) lk = Math.max(lk, Math.min(meta.maxKey, k.length));
  const kIdx = new Int32Array(n * lk);
  const kMask = new Float32Array(n * lk).fill(MASK_NEG);
  const f = meta.features.length;
  const fa = new Float32Array(n * f);
  // Distinct rows: slot[row] = 1 + position in uIds (0 = not seen yet).
  const slot = rowSlots(meta.vocab);
  const u: number[] = [0];
  for (let i = 0; i < n; i++) {
    const ks = keys[i];
    const ids = typeof ks[0] === 'string' ? keyIds(meta, ks as readonly string[]) : (ks as Int32Array);
    for (let j = 0; j < Math.min(lk, ids.length); j++) {
      const row = ids[j];
      let p = slot[row];
      if (p === 0) {
        u.push(row);
        p = slot[row] = u.length;
      }
      kIdx[i * lk + j] = p - 1;
      kMask[i * lk + j] = 0;
    }
    fa.set(feats[i].subarray(0, f), i * f);
  }
  for (const row of u) slot[row] = 0; // clean for the next query
  return { n, lq, lk, u: u.length, qIds, qW, uIds: Int32Array.from(u), kIdx, kMask, feats: fa };
}

/**
 * One array of vocabulary slots, all 0 between calls, reused by every query:
 * a fresh one is 4 bytes per vocabulary row (64 KB for the built-in model) of
 * external memory per query, and V8 answers external allocations with
 * garbage-collection work on the spot (perf caught a scavenge and marking
 * steps inside buildInputs during a 47 ms gap of bench:load).
 */
let slots: Int32Array | undefined;
function rowSlots(vocab: number): Int32Array {
  if (slots?.length !== vocab) slots = new Int32Array(vocab);
  return slots;
}

export interface ForwardOut {
  scores: Float32Array; // [N]
  contrib: Float32Array; // [N, Lq]
  /** Cached intermediates for the backward pass. */
  P: Float32Array; // [N, Lq]
  A: Float32Array; // [N, Lk, Lq]
  S: Float32Array; // [N, Lk, Lq]
  T: Float32Array; // [U, Lq]
  rel: Float32Array;
  sharp: Float32Array;
  z: Float32Array;
}

/** Reference forward pass (same math as the ONNX graph). */
export function forward(m: ModelWeights, x: ModelInputs): ForwardOut {
  const { n, lq, lk } = x;
  const d = m.meta.dim;
  const f = m.meta.features.length;
  const E = m.embedding;
  const T = new Float32Array(x.u * lq);
  for (let r = 0; r < x.u; r++) {
    const ko = x.uIds[r] * d;
    for (let q = 0; q < lq; q++) {
      const qo = x.qIds[q] * d;
      let s = 0;
      for (let t = 0; t < d; t++) s += E[ko + t] * E[qo + t];
      T[r * lq + q] = s;
    }
  }
  const S = new Float32Array(n * lk * lq);
  const A = new Float32Array(n * lk * lq);
  const P = new Float32Array(n * lq);
  const contrib = new Float32Array(n * lq);
  const rel = new Float32Array(n);
  const sharp = new Float32Array(n);
  const z = new Float32Array(n);
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < lk; j++) {
      const to = x.kIdx[i * lk + j] * lq;
      for (let q = 0; q < lq; q++) S[(i * lk + j) * lq + q] = T[to + q];
    }
    for (let q = 0; q < lq; q++) {
      let mx = -Infinity;
      for (let j = 0; j < lk; j++) mx = Math.max(mx, m.tau * S[(i * lk + j) * lq + q] + x.kMask[i * lk + j]);
      let sum = 0;
      for (let j = 0; j < lk; j++) {
        const e = Math.exp(m.tau * S[(i * lk + j) * lq + q] + x.kMask[i * lk + j] - mx);
        A[(i * lk + j) * lq + q] = e;
        sum += e;
      }
      let p = 0;
      for (let j = 0; j < lk; j++) {
        const a = A[(i * lk + j) * lq + q] / sum;
        A[(i * lk + j) * lq + q] = a;
        p += a * S[(i * lk + j) * lq + q];
      }
      P[i * lq + q] = p;
      contrib[i * lq + q] = p * x.qW[q];
      rel[i] += p * x.qW[q];
      sharp[i] += x.qW[q] * Math.max(0, p - SHARP_THETA);
    }
    let zz = m.b + m.w[0] * rel[i] + m.w[1] * sharp[i];
    for (let k = 0; k < f; k++) zz += m.w[2 + k] * x.feats[i * f + k];
    z[i] = zz;
    scores[i] = 1 / (1 + Math.exp(-zz));
  }
  return { scores, contrib, P, A, S, T, rel, sharp, z };
}

/** Deterministic initial weights: random unit vectors per bucket, hand-set combiner. */
export function initialWeights(meta: ModelMeta, seed: number, rand: () => number, combiner: { w: number[]; b: number }): ModelWeights {
  void seed;
  const { vocab, dim } = meta;
  const E = new Float32Array(vocab * dim);
  for (let r = 1; r < vocab; r++) {
    let norm = 0;
    for (let t = 0; t < dim; t++) {
      // Box-Muller normal.
      const u = Math.max(1e-12, rand());
      const v = rand();
      const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      E[r * dim + t] = g;
      norm += g * g;
    }
    norm = Math.sqrt(norm);
    for (let t = 0; t < dim; t++) E[r * dim + t] /= norm;
  }
  return { meta, embedding: E, tau: 8, w: Float32Array.from(combiner.w), b: combiner.b };
}
