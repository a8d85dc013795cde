// The stage-2 model: its metadata, how inputs are laid out, and a plain
// TypeScript reference of the ONNX graph's math (tests compare the two; the
// trainer uses it for forward and backward passes).
//
//   Q = E[qIds]                      [Lq, d]   one vector per cursor subtoken
//   K = E[kIds]                      [N, Lk, d] one per candidate subtoken
//   S = K Qᵀ                         [N, Lk, Lq]
//   A = softmax_k(tau * S + mask)    attention of each cursor term over a candidate's terms
//   P = Σ_k A ⊙ S                    [N, Lq]   attention-pooled similarity per cursor term
//   C = P ⊙ qW                       [N, Lq]   contribution of each cursor term (evidence)
//   rel = Σ_q C,  sharp = Σ_q qW ⊙ relu(P - theta)
//   score = sigmoid([rel, sharp, features] · w + b)
//
// tau plays the role of 1/√d in scaled dot-product attention; it is learned.
import { hashBucket } from './text';

export const MODEL_FORMAT = 1;
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
  qIds: Int32Array;
  qW: Float32Array;
  kIds: Int32Array;
  kMask: Float32Array;
  feats: Float32Array;
}

/** Lays out one query's inputs. `keys[i]` are a candidate's subtokens, most informative first. */
export function buildInputs(
  meta: ModelMeta,
  terms: ReadonlyArray<{ term: string; weight: number }>,
  keys: ReadonlyArray<readonly string[]>,
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
  const kIds = new Int32Array(n * lk);
  const kMask = new Float32Array(n * lk).fill(MASK_NEG);
  const f = meta.features.length;
  const fa = new Float32Array(n * f);
  for (let i = 0; i < n; i++) {
    const ks = keys[i];
    for (let j = 0; j < Math.min(lk, ks.length); j++) {
      kIds[i * lk + j] = hashBucket(ks[j], meta.vocab);
      kMask[i * lk + j] = 0;
    }
    fa.set(feats[i].subarray(0, f), i * f);
  }
  return { n, lq, lk, qIds, qW, kIds, kMask, feats: fa };
}

export interface ForwardOut {
  scores: Float32Array; // [N]
  contrib: Float32Array; // [N, Lq]
  /** Cached intermediates for the backward pass. */
  P: Float32Array; // [N, Lq]
  A: Float32Array; // [N, Lk, Lq]
  S: Float32Array; // [N, Lk, Lq]
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
      const ko = x.kIds[i * lk + j] * d;
      for (let q = 0; q < lq; q++) {
        const qo = x.qIds[q] * d;
        let s = 0;
        for (let t = 0; t < d; t++) s += E[ko + t] * E[qo + t];
        S[(i * lk + j) * lq + q] = s;
      }
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
  return { scores, contrib, P, A, S, rel, sharp, z };
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
