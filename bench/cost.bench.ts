// Measured check of the attention cost model (issue 4). Runs the project's own
// ONNX attention layer (QK^T, scale, causal mask, softmax, AV; 8 heads x 64) on
// the CPU at n = 512 ... 4,096, takes the median of a few runs per n, fits the
// growth exponent of time (log-log least squares; the model predicts 2), and
// compares the cost model's predicted time on the freshly probed "this-cpu"
// profile with the measured time, per n.
//
// The prediction is estimateCost() for a one-layer, attention-only model with the
// same heads and head size (fp32, no linear part). The cost model counts the causal
// lower triangle (n(n+1)/2 pairs) and ignores softmax/mask work, as fused kernels
// skip the masked half; the unfused ONNX graph computes the full n x n square and
// materialises the score matrices, so measured/predicted is expected above 1 and is
// also printed against the full-square FLOPs and against full-square compute plus
// the score-matrix memory traffic of the unfused graph.
//
// Run alone: node --import tsx bench/cost.bench.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { estimateCost } from '../src/core/cost/costModel';
import { probeCpu } from '../src/core/cost/cpuProbe';
import { attentionModel, causalMask, randomFill } from '../src/core/cost/onnxGraphs';
import type { ModelProfile } from '../src/core/cost/types';

const HEADS = 8;
const HEAD_DIM = 64;
const LENGTHS = [512, 1024, 2048, 4096];
const REPS = 7;
const WARMUPS = 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Least-squares slope of log(y) against log(x). */
export function logLogSlope(xs: number[], ys: number[]): number {
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i] - mx) * (ly[i] - my);
    den += (lx[i] - mx) ** 2;
  }
  return num / den;
}

/** One attention layer as a model profile (attention only, fp32). */
function attentionOnlyModel(): ModelProfile {
  return {
    id: 'bench-attention-layer',
    name: `one attention layer, ${HEADS} x ${HEAD_DIM}`,
    encoding: 'o200k_base',
    contextLength: Math.max(...LENGTHS),
    architecture: {
      layers: 1,
      hiddenSize: HEADS * HEAD_DIM,
      attentionHeads: HEADS,
      kvHeads: HEADS,
      headDim: HEAD_DIM,
      totalParams: 0,
      activeParams: 0,
      bytesPerParam: 4,
      kvBytesPerElement: 4,
      pattern: { kind: 'dense' },
    },
    price: null,
    sources: { architecture: 'benchmark graph (bench/cost.bench.ts)' },
  };
}

export async function runCostBench(log: (s: string) => void): Promise<void> {
  const ort = await import('onnxruntime-node');
  const dir = mkdtempSync(join(tmpdir(), 'cb-cost-bench-'));
  let hw;
  try {
    hw = await probeCpu(dir, { force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(`cost bench: machine ${cpus().length} threads, load average ${loadavg()[0].toFixed(2)} at start (other processes skew timings)`);
  log(`cost bench: attention layer ${HEADS} heads x ${HEAD_DIM}, fp32, ONNX Runtime CPU, median of ${REPS} runs`);
  log(`cost bench: this-cpu ${hw.measured ? 'measured' : 'NOT measured (defaults)'}: peak ${(hw.peakFlops / 1e9).toFixed(1)} GFLOP/s, copy bandwidth ${(hw.memoryBandwidth / 1e9).toFixed(1)} GB/s`);
  const model = attentionOnlyModel();
  const measured: number[] = [];
  for (const n of LENGTHS) {
    const session = await ort.InferenceSession.create(attentionModel(HEADS, n, HEAD_DIM), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    try {
      const shape = [HEADS, n, HEAD_DIM];
      const size = HEADS * n * HEAD_DIM;
      const feeds = {
        Q: new ort.Tensor('float32', randomFill(new Float32Array(size), 11), shape),
        K: new ort.Tensor('float32', randomFill(new Float32Array(size), 12), shape),
        V: new ort.Tensor('float32', randomFill(new Float32Array(size), 13), shape),
        mask: new ort.Tensor('float32', causalMask(n), [n, n]),
      };
      for (let w = 0; w < WARMUPS; w++) await session.run(feeds); // first runs allocate buffers
      const times: number[] = [];
      for (let r = 0; r < REPS; r++) {
        const t0 = performance.now();
        await session.run(feeds);
        times.push((performance.now() - t0) / 1000);
      }
      const t = median(times);
      measured.push(t);
      const e = estimateCost(model, hw, { inputTokens: n });
      const predicted = e.ttftSeconds ?? NaN;
      const fullSquareFlops = 2 * 2 * HEADS * HEAD_DIM * n * n;
      const fullSquarePredicted = fullSquareFlops / hw.peakFlops;
      // The unfused graph writes and reads 4 score-sized fp32 tensors (S, scaled, masked, P)
      // plus the mask: about (4 x 2 x heads + 1) x n^2 x 4 bytes of memory traffic.
      const scoreBytes = (4 * 2 * HEADS + 1) * n * n * 4;
      const trafficSeconds = scoreBytes / hw.memoryBandwidth;
      log(
        `cost bench: n=${n} measured ${(t * 1e3).toFixed(2)} ms; model (causal) ${e.attentionFlops} FLOPs -> predicted ${(predicted * 1e3).toFixed(2)} ms, measured/predicted ${(t / predicted).toFixed(2)}; ` +
          `full-square ${fullSquareFlops} FLOPs -> ${(fullSquarePredicted * 1e3).toFixed(2)} ms, measured/full-square ${(t / fullSquarePredicted).toFixed(2)}`,
      );
      log(
        `cost bench: n=${n} score-matrix traffic ${(scoreBytes / 1e6).toFixed(0)} MB -> ${(trafficSeconds * 1e3).toFixed(2)} ms at the measured copy bandwidth; ` +
          `full-square compute + traffic ${((fullSquarePredicted + trafficSeconds) * 1e3).toFixed(2)} ms, measured/that ${(t / (fullSquarePredicted + trafficSeconds)).toFixed(2)}`,
      );
    } finally {
      await session.release();
    }
  }
  const slope = logLogSlope(LENGTHS, measured);
  const upper = logLogSlope(LENGTHS.slice(1), measured.slice(1));
  log(`cost bench: growth exponent of measured time (log-log slope, n=${LENGTHS[0]}..${LENGTHS[LENGTHS.length - 1]}) ${slope.toFixed(3)}; n>=${LENGTHS[1]} only ${upper.toFixed(3)} (model: 2)`);
  log('cost bench: GPU check skipped (no GPU device for this task)');
}

if (process.argv[1] && /cost\.bench\.ts$/.test(process.argv[1])) {
  runCostBench((s) => console.log(s)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
