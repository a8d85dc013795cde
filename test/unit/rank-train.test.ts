// The trainer's hand-written gradients against finite differences of the reference forward pass.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildInputs, initialWeights, MODEL_FORMAT, type ModelMeta, type ModelWeights } from '../../src/core/rank/model';
import { FEATURE_NAMES } from '../../src/core/rank/stage1';
import { rng } from '../../src/core/rank/text';
import { queryLossGrad, trainListwise, evaluate, zeroGrads, type Query } from '../../scripts/train';

const META: ModelMeta = { format: MODEL_FORMAT, vocab: 40, dim: 6, maxQuery: 5, maxKey: 4, features: [...FEATURE_NAMES] };

function setup(seed: number): { m: ModelWeights; q: Query } {
  const rand = rng(seed);
  const m = initialWeights(META, seed, rand, { w: Array.from({ length: FEATURE_NAMES.length + 2 }, () => rand() * 2 - 1), b: 0.1 });
  m.tau = 2.5;
  const terms = Array.from({ length: 4 }, (_, i) => ({ term: `q${i}`, weight: 0.2 + rand() }));
  const n = 6;
  const keys = Array.from({ length: n }, (_, i) => Array.from({ length: 1 + ((i * 7) % 4) }, () => (rand() < 0.3 ? `q${Math.floor(rand() * 4)}` : `k${Math.floor(rand() * 30)}`)));
  const feats = Array.from({ length: n }, () => Float32Array.from(FEATURE_NAMES, () => rand()));
  const x = buildInputs(META, terms, keys, feats);
  const gold = new Uint8Array(n);
  gold[2] = 1;
  return { m, q: { x, gold, repo: 'r', language: 'typescript' } };
}

test('listwise gradients match finite differences (E, tau, combiner)', () => {
  for (const seed of [3, 11]) {
    const { m, q } = setup(seed);
    const g = zeroGrads(m);
    queryLossGrad(m, q, g);
    const loss = () => queryLossGrad(m, q, undefined).loss;
    const h = 1e-3;
    const check = (get: () => number, set: (v: number) => void, analytic: number, what: string) => {
      const v = get();
      set(v + h);
      const lp = loss();
      set(v - h);
      const lm = loss();
      set(v);
      const num = (lp - lm) / (2 * h);
      assert.ok(Math.abs(num - analytic) < 2e-3 + 2e-2 * Math.abs(num), `${what}: numeric ${num} vs analytic ${analytic}`);
    };
    const rows = new Set<number>([...q.x.uIds, ...q.x.qIds].filter((r) => r > 0));
    for (const r of rows) for (let t = 0; t < META.dim; t += 2) {
      const k = r * META.dim + t;
      check(() => m.embedding[k], (v) => (m.embedding[k] = v), g.E[k], `E[${r},${t}]`);
    }
    check(() => m.tau, (v) => (m.tau = v), g.tau, 'tau');
    check(() => m.b, (v) => (m.b = v), g.b, 'b');
    for (let k = 0; k < 4; k++) check(() => m.w[k], (v) => (m.w[k] = v), g.w[k], `w${k}`);
  }
});

test('training is deterministic and lowers the loss on a toy set', () => {
  const qs = [1, 2, 3, 4, 5, 6].map((s) => setup(s).q);
  const run = () => {
    const { m } = setup(9);
    const before = evaluate(m, qs).loss;
    trainListwise(m, qs, { epochs: 15, batch: 2, lrE: 0.05, lrW: 0.05, l2E: 0, seed: 1 });
    return { before, after: evaluate(m, qs).loss, e: m.embedding.slice(0, 50) };
  };
  const a = run();
  const b = run();
  assert.ok(a.after < a.before, `${a.after} < ${a.before}`);
  assert.deepEqual([...a.e], [...b.e]);
});
