// "This machine's CPU" as a hardware profile, measured once and cached:
// - peak FLOP/s: best of a few runs of a 1024 x 1024 x 1024 fp32 MatMul graph
//   (2 x 1024^3 FLOPs) through ONNX Runtime on the CPU, all intra-op threads;
// - memory bandwidth: best of a few 64 MiB Float64Array copies (read + write
//   = 128 MiB of traffic each) in the JS thread, which understates multi-core
//   bandwidth, so it is a lower bound;
// - memory: os.totalmem().
// The result is written to `<cacheDir>/cpu-probe.json`, keyed by CPU model, core
// count, platform and probe version; a changed machine probes again. The probe is
// async and never throws: on any failure (runtime missing, timeout) it returns
// the conservative placeholder from hardware.json with a note saying why.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { HardwareProfile } from './types';
import { builtinHardware, THIS_CPU_ID } from './profiles';
import { withTimeout } from '../timeout';
import { matmulModel, randomFill } from './onnxGraphs';

export const CPU_PROBE_VERSION = 1;
export const CPU_PROBE_FILE = 'cpu-probe.json';
const MATMUL_SIZE = 1024;
const COPY_BYTES = 64 * 1024 * 1024;

export interface CpuMeasurement {
  peakFlops: number;
  memoryBandwidth: number;
}

interface CacheFile extends CpuMeasurement {
  key: string;
  version: number;
  memoryBytes: number;
  cpuModel: string;
  cores: number;
  measuredAt: string;
  method: string;
}

export interface ProbeOptions {
  /** Measure again even when a cached result exists. */
  force?: boolean;
  /** Give up (and fall back) after this long; default 20 s. */
  timeoutMs?: number;
  /** Replaces the measurement (tests). */
  measure?: () => Promise<CpuMeasurement>;
}

function machineKey(): { key: string; cpuModel: string; cores: number } {
  const list = cpus();
  const cpuModel = (list[0]?.model ?? 'unknown cpu').trim();
  const cores = list.length;
  return { key: `${cpuModel}|${cores}|${process.platform}-${process.arch}|v${CPU_PROBE_VERSION}`, cpuModel, cores };
}

/** Measures peak matmul FLOP/s through ONNX Runtime (CPU) and copy bandwidth. */
export async function measureCpu(): Promise<CpuMeasurement> {
  const ort = await import('onnxruntime-node');
  const s = MATMUL_SIZE;
  const session = await ort.InferenceSession.create(matmulModel(s, s, s), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  try {
    const a = new ort.Tensor('float32', randomFill(new Float32Array(s * s), 1), [s, s]);
    const b = new ort.Tensor('float32', randomFill(new Float32Array(s * s), 2), [s, s]);
    const flops = 2 * s * s * s;
    let best = Infinity;
    await session.run({ A: a, B: b }); // warm-up
    const start = performance.now();
    for (let i = 0; i < 12 && (i < 3 || performance.now() - start < 400); i++) {
      const t0 = performance.now();
      await session.run({ A: a, B: b });
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    const peakFlops = flops / best;
    return { peakFlops, memoryBandwidth: measureCopyBandwidth() };
  } finally {
    await session.release();
  }
}

/** Bytes/s of a large typed-array copy (read + write counted). */
export function measureCopyBandwidth(bytes = COPY_BYTES, reps = 5): number {
  const src = new Float64Array(bytes / 8);
  const dst = new Float64Array(bytes / 8);
  src.fill(1.5);
  dst.set(src); // touch the pages first
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    dst.set(src);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return (2 * bytes) / Math.max(best, 1e-9);
}

function profileFrom(c: CacheFile, fromCache: boolean): HardwareProfile {
  const date = c.measuredAt.slice(0, 10);
  return {
    id: THIS_CPU_ID,
    name: `This machine's CPU (${c.cpuModel}, ${c.cores} threads)`,
    peakFlops: c.peakFlops,
    memoryBandwidth: c.memoryBandwidth,
    memoryBytes: c.memoryBytes,
    computeEfficiency: 1,
    sources: {
      peakFlops: `measured on this machine: best of several ${MATMUL_SIZE}^3 fp32 MatMul runs through ONNX Runtime (CPU), ${date}`,
      memoryBandwidth: `measured on this machine: best 64 MiB typed-array copy (read + write), single thread, a lower bound, ${date}`,
      memoryBytes: `os.totalmem() on this machine, ${date}`,
    },
    notes: [
      `Measured fp32 matmul peak${fromCache ? ' (cached probe)' : ''}; computeEfficiency 1 because the peak is what the runtime reaches.`,
    ],
    measured: true,
    origin: 'probe',
  };
}

function fallback(reason: string): HardwareProfile {
  const base = builtinHardware(THIS_CPU_ID);
  const hw: HardwareProfile = base ?? {
    id: THIS_CPU_ID,
    name: "This machine's CPU",
    peakFlops: 20e9,
    memoryBandwidth: 5e9,
    memoryBytes: 8e9,
    computeEfficiency: 1,
    sources: {},
  };
  return {
    ...hw,
    name: "This machine's CPU (probe failed: conservative defaults)",
    memoryBytes: totalmem() || hw.memoryBytes,
    notes: [`CPU probe failed (${reason}); using conservative defaults: ${hw.peakFlops / 1e9} GFLOP/s, ${hw.memoryBandwidth / 1e9} GB/s.`],
    measured: false,
    origin: 'probe',
  };
}

async function readCache(file: string, key: string): Promise<CacheFile | undefined> {
  try {
    const c = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    const ok =
      c.key === key &&
      c.version === CPU_PROBE_VERSION &&
      typeof c.peakFlops === 'number' && c.peakFlops > 0 && Number.isFinite(c.peakFlops) &&
      typeof c.memoryBandwidth === 'number' && c.memoryBandwidth > 0 && Number.isFinite(c.memoryBandwidth) &&
      typeof c.memoryBytes === 'number' && c.memoryBytes > 0 &&
      typeof c.measuredAt === 'string' && typeof c.cpuModel === 'string' && typeof c.cores === 'number';
    return ok ? (c as CacheFile) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `this-cpu` hardware profile: cached measurement when present, else a fresh
 * one (about a second), else conservative defaults. Never rejects.
 */
export async function probeCpu(cacheDir: string, opts: ProbeOptions = {}): Promise<HardwareProfile> {
  const { key, cpuModel, cores } = machineKey();
  const file = join(cacheDir, CPU_PROBE_FILE);
  if (!opts.force) {
    const cached = await readCache(file, key);
    if (cached) return profileFrom(cached, true);
  }
  try {
    const m = await withTimeout((opts.measure ?? measureCpu)(), opts.timeoutMs ?? 20_000);
    if (!(m.peakFlops > 0 && Number.isFinite(m.peakFlops) && m.memoryBandwidth > 0 && Number.isFinite(m.memoryBandwidth))) {
      return fallback(`implausible measurement: ${m.peakFlops} FLOP/s, ${m.memoryBandwidth} B/s`);
    }
    const c: CacheFile = {
      key,
      version: CPU_PROBE_VERSION,
      peakFlops: m.peakFlops,
      memoryBandwidth: m.memoryBandwidth,
      memoryBytes: totalmem(),
      cpuModel,
      cores,
      measuredAt: new Date().toISOString(),
      method: `onnxruntime-node MatMul ${MATMUL_SIZE}^3 fp32; Float64Array copy ${COPY_BYTES} bytes`,
    };
    try {
      await mkdir(cacheDir, { recursive: true });
      await writeFile(file, JSON.stringify(c, null, 2));
    } catch {
      // An unwritable cache only costs a re-probe next time.
    }
    return profileFrom(c, false);
  } catch (err) {
    return fallback(err instanceof Error ? err.message : String(err));
  }
}
