// npm run train — fits the stage-2 combiner (and prints fitted stage-1 weights)
// on the dev set's tune split: for each task, stage-1 candidates with their
// structural features plus the attention features (rel, sharp) from the current
// model; label = the candidate holds the gold definition. Pointwise logistic
// regression (Adam, L2), so scores are calibrated probabilities, which is what
// the packer's value-per-token needs. Deterministic (fixed order, no sampling).
// The embedding table stays the seeded one from build-model (see docs/ranker.md).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readWeights } from '../src/core/rank/graph';
import { keyTermsOf } from '../src/core/rank/keys';
import { buildInputs, forward, type ModelWeights } from '../src/core/rank/model';
import { FEATURE_COUNT, FEATURE_NAMES, gatherCandidates } from '../src/core/rank/stage1';
import { emptySignals } from '../src/core/types';
import { indexRepo, isGold, prepareTask } from './devset/harness';
import { loadDevSet } from './devset/mine';
import { untrainedModel, writeModel, DEFAULT_SEED } from './build-model';

interface Example {
  x: Float32Array[];
  y: Uint8Array;
}

/** Logistic regression with Adam; returns weights (length d) and bias. */
export function fitLogistic(rows: Float32Array[], labels: Uint8Array, opts: { iters: number; l2: number; lr: number; posWeight: number }): { w: number[]; b: number; loss: number } {
  const d = rows[0].length;
  const w = new Float64Array(d);
  let b = -4;
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  let loss = 0;
  for (let it = 1; it <= opts.iters; it++) {
    const g = new Float64Array(d + 1);
    loss = 0;
    let wsum = 0;
    for (let i = 0; i < rows.length; i++) {
      const x = rows[i];
      let z = b;
      for (let k = 0; k < d; k++) z += w[k] * x[k];
      const p = 1 / (1 + Math.exp(-z));
      const y = labels[i];
      const sw = y ? opts.posWeight : 1;
      wsum += sw;
      loss -= sw * (y ? Math.log(p + 1e-12) : Math.log(1 - p + 1e-12));
      const e = sw * (p - y);
      for (let k = 0; k < d; k++) g[k] += e * x[k];
      g[d] += e;
    }
    loss /= wsum;
    for (let k = 0; k <= d; k++) {
      let gk = g[k] / wsum;
      if (k < d) gk += opts.l2 * w[k];
      m[k] = 0.9 * m[k] + 0.1 * gk;
      v[k] = 0.999 * v[k] + 0.001 * gk * gk;
      const step = (opts.lr * (m[k] / (1 - 0.9 ** it))) / (Math.sqrt(v[k] / (1 - 0.999 ** it)) + 1e-8);
      if (k < d) w[k] -= step;
      else b -= step;
    }
  }
  return { w: [...w], b, loss };
}

async function collect(model: ModelWeights, repoRoot: string, limitPerRepo: number): Promise<{ ex: Example; tasks: number; withGold: number; queries: number[] }> {
  const ds = loadDevSet(repoRoot);
  const tune = ds.tasks.filter((t) => t.split === 'tune');
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  const queries: number[] = [];
  let withGold = 0;
  let n = 0;
  for (const repo of ds.repos) {
    const ts = tune.filter((t) => t.repo === repo.name).slice(0, limitPerRepo);
    if (!ts.length) continue;
    const ri = await indexRepo(repo, repoRoot);
    for (const task of ts) {
      const p = await prepareTask(ri, task);
      const s1 = gatherCandidates({ index: ri.index, cursor: p.cursor, signals: emptySignals(), maxCandidates: 300 });
      await p.restore();
      n++;
      if (!s1.candidates.length) continue;
      const keys = s1.candidates.map((c) => keyTermsOf(c.chunk, s1.bm, model.meta.maxKey));
      const x = buildInputs(model.meta, s1.terms, keys, s1.candidates.map((c) => c.features));
      const out = forward(model, x);
      let any = false;
      s1.candidates.forEach((c, i) => {
        const row = new Float32Array(2 + FEATURE_COUNT);
        row[0] = out.rel[i];
        row[1] = out.sharp[i];
        row.set(c.features, 2);
        const y = isGold(p, c.chunk) ? 1 : 0;
        any ||= y === 1;
        rows.push(row);
        labels.push(y);
        queries.push(n);
      });
      if (any) withGold++;
    }
    console.log(`[train] ${repo.name}: ${ts.length} tasks`);
  }
  return { ex: { x: rows, y: Uint8Array.from(labels) }, tasks: n, withGold, queries };
}

async function main(): Promise<void> {
  const repoRoot = resolve(__dirname, '..');
  const modelDir = join(repoRoot, 'media/model');
  const seed = DEFAULT_SEED;
  // Start from the untrained model's embedding (seeded), whatever is on disk.
  const base = untrainedModel(seed);
  const { ex, tasks, withGold } = await collect(base, repoRoot, Number(process.env.TRAIN_LIMIT ?? 1e9));
  console.log(`[train] ${tasks} tune tasks, gold among stage-1 candidates in ${withGold}; ${ex.x.length} rows`);
  const opts = { iters: 400, l2: 1e-4, lr: 0.05, posWeight: 1 };
  const full = fitLogistic(ex.x, ex.y, opts);
  const s1 = fitLogistic(ex.x.map((r) => r.subarray(2)), ex.y, opts);
  // Features that never vary in the dev set (editor signals: there are no open
  // tabs or edits in it) cannot be fitted: keep their hand-set priors.
  const prior = untrainedModel(seed).w;
  for (let k = 0; k < full.w.length; k++) {
    const v0 = ex.x[0][k];
    if (ex.x.every((row) => row[k] === v0)) {
      full.w[k] = prior[k];
      if (k >= 2) s1.w[k - 2] = prior[k];
    }
  }
  const r = (xs: number[]) => xs.map((v) => Number(v.toFixed(3)));
  console.log(`[train] stage-2 combiner: loss ${full.loss.toFixed(4)} w=${JSON.stringify(r(full.w))} b=${full.b.toFixed(3)}`);
  console.log(`[train] stage-1 weights (paste into STAGE1_WEIGHTS): loss ${s1.loss.toFixed(4)} w: ${JSON.stringify(r(s1.w))}, b: ${s1.b.toFixed(3)}`);
  const trained: ModelWeights = {
    ...base,
    w: Float32Array.from(full.w),
    b: full.b,
    meta: { ...base.meta, trained: { split: 'tune', tasks, rows: ex.x.length, seed, loss: Number(full.loss.toFixed(5)), features: ['rel', 'sharp', ...FEATURE_NAMES] } },
  };
  const size = writeModel(trained, modelDir);
  console.log(`[train] wrote ${join(modelDir, 'ranker.onnx')} (${(size / 1048576).toFixed(2)} MB)`);
  // Sanity: what is on disk reads back.
  readWeights(readFileSync(join(modelDir, 'ranker.onnx')));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
