// Stage-2 latency on webgpu vs cpu for 2k and 20k candidates (synthetic inputs
// with the shipped model's shapes). Run through bench/gpu.sh on a GPU machine.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { assetPath } from '../src/core/assets';
import { modelFeeds, Ranker } from '../src/core/rank/ranker';
import { buildInputs, type ModelMeta } from '../src/core/rank/model';
import { rng } from '../src/core/rank/text';

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function timeProvider(ep: string, bytes: Uint8Array, meta: ModelMeta, n: number, runs: number): Promise<string> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], logSeverityLevel: 3 });
  } catch (e) {
    return `${ep.padEnd(7)} n=${n}: unavailable (${(e as Error).message.split('\n')[0].slice(0, 160)})`;
  }
  const r = rng(n);
  const lq = meta.maxQuery;
  const lk = meta.maxKey;
  const nf = meta.features.length;
  const keys = Array.from({ length: n }, () => Int32Array.from({ length: lk }, () => 1 + Math.floor(r() * (meta.vocab - 1))));
  const terms = Array.from({ length: lq }, (_, i) => ({ term: `q${i}`, weight: 1 }));
  const x = buildInputs(meta, terms, keys, Array.from({ length: n }, () => Float32Array.from({ length: nf }, () => r())));
  const feeds = modelFeeds(ort, x, nf);
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - a);
  }
  await session.release();
  return `${ep.padEnd(7)} n=${String(n).padStart(5)}: p50 ${pct(ms, 0.5).toFixed(1)} ms, p95 ${pct(ms, 0.95).toFixed(1)} ms (${runs} runs)`;
}

async function main(): Promise<void> {
  const modelPath = assetPath('model/ranker.onnx');
  const bytes = readFileSync(modelPath);
  const meta = JSON.parse(readFileSync(modelPath.replace(/\.onnx$/, '.json'), 'utf8')) as ModelMeta;
  console.log(`backends: ${ort.listSupportedBackends().map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`).join(', ')}`);
  const ranker = await Ranker.create({ device: 'gpu', log: (m) => console.log(m) });
  console.log(`Ranker.create({device:'gpu'}) → device ${ranker.device}`);
  await ranker.dispose();
  for (const n of [2000, 20000]) for (const ep of ['webgpu', 'cpu']) console.log(await timeProvider(ep, bytes, meta, n, n > 5000 ? 10 : 30));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
