// npm run build:model — writes the stage-2 ranker (media/model/ranker.onnx + ranker.json).
// Without --from it builds the untrained model: seeded random unit embeddings per
// hashed subtoken bucket and the hand-set combiner. With --from FILE it rebuilds
// the graph around the weights stored in FILE (e.g. after changing the graph code).
// `npm run train` fits the weights and writes the same files.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildGraph, readWeights } from '../src/core/rank/graph';
import { initialWeights, MODEL_FORMAT, type ModelMeta, type ModelWeights } from '../src/core/rank/model';
import { FEATURE_NAMES, STAGE1_WEIGHTS } from '../src/core/rank/stage1';
import { rng } from '../src/core/rank/text';

export const DEFAULT_META: ModelMeta = {
  format: MODEL_FORMAT,
  vocab: 16384,
  dim: 32,
  maxQuery: 24,
  maxKey: 24,
  features: [...FEATURE_NAMES],
};
export const DEFAULT_SEED = 20250611;

/** The untrained model: combiner = [rel, sharp] weights + the stage-1 weights. */
export function untrainedModel(seed = DEFAULT_SEED, meta: ModelMeta = DEFAULT_META): ModelWeights {
  return initialWeights(meta, seed, rng(seed), { w: [4, 4, ...STAGE1_WEIGHTS.w], b: STAGE1_WEIGHTS.b - 1 });
}

/** Writes `ranker.onnx` and `ranker.json` into `dir`; returns the ONNX size in bytes. */
export function writeModel(m: ModelWeights, dir: string): number {
  mkdirSync(dir, { recursive: true });
  const bytes = buildGraph(m);
  writeFileSync(join(dir, 'ranker.onnx'), bytes);
  writeFileSync(join(dir, 'ranker.json'), JSON.stringify(m.meta, null, 2) + '\n');
  return bytes.length;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function repoRoot(): string {
  // dist/build-model.js or scripts/build-model.ts: the repository is one folder up.
  return resolve(dirname(__filename), '..');
}

function main(): void {
  const out = resolve(arg('--out') ?? join(repoRoot(), 'media/model'));
  const from = arg('--from');
  const seed = Number(arg('--seed') ?? DEFAULT_SEED);
  const m = from ? readWeights(readFileSync(from)) : untrainedModel(seed);
  const size = writeModel(m, out);
  console.log(`[build-model] ${from ? `rebuilt from ${from}` : `untrained, seed ${seed}`}: ${join(out, 'ranker.onnx')} ${(size / 1048576).toFixed(2)} MB`);
}

if (require.main === module) main();
