// Loading ONNX Runtime, opening the stage-2 model on an execution provider (GPU
// first where one is asked for and usable, CPU otherwise) and scoring with it.
// The same code runs in the model worker (modelWorker.ts) and, where no worker
// can start, on the calling thread (modelRunner.ts).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { matmulModel } from '../cost/onnxGraphs';
import { nextTurn } from '../slices';
import { buildInputs, type ModelInputs, type ModelMeta } from './model';
import { VULKAN_LOADER, vulkanLoaderPresent } from './vulkan';

export type Ort = typeof import('onnxruntime-node');
export type RankerDevice = 'auto' | 'gpu' | 'cpu';

export interface Scores {
  /** [N] relevance in (0, 1). */
  score: Float32Array;
  /** [N, Lq] contribution of each cursor term. */
  contrib: Float32Array;
}

export interface OpenedModel {
  session: InferenceSession;
  /** The execution provider that runs it. */
  device: string;
  /** Why the providers tried before it were skipped or failed. */
  failures: string[];
}

/** GPU execution providers worth trying on this platform, in order. */
export function gpuProviders(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') return ['webgpu', 'dml', 'cuda'];
  if (platform === 'darwin') return ['webgpu', 'coreml'];
  return ['webgpu', 'cuda'];
}

function ortBinDir(): string | undefined {
  try {
    return join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** CUDA is listed as supported but its provider libraries are a separate download: try it only when present. */
function cudaPresent(): boolean {
  const bin = ortBinDir();
  return bin !== undefined && existsSync(join(bin, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
}

let vulkanMemo: boolean | undefined;
/** Linux webgpu (Dawn) needs the Vulkan loader; checked once per thread, without spawning anything. */
function webgpuBlocker(platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform !== 'linux') return undefined;
  if (vulkanMemo === undefined) {
    const bin = ortBinDir();
    vulkanMemo = vulkanLoaderPresent({ extraDirs: bin ? [bin] : [] });
  }
  return vulkanMemo ? undefined : `webgpu: no Vulkan loader (${VULKAN_LOADER})`;
}

/** Once per thread (see setUpOrt). */
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

export async function scoreWith(ort: Ort, session: InferenceSession, x: ModelInputs, nf: number): Promise<Scores> {
  const out = await session.run(modelFeeds(ort, x, nf));
  return { score: out.score.data as Float32Array, contrib: out.contrib.data as Float32Array };
}

/** The providers to try for `device`, in order (`remembered`: the one an earlier ranker of this process settled on). */
function providerOrder(ort: Ort, device: RankerDevice, remembered: string | undefined): string[] {
  if (remembered) return [remembered];
  if (device === 'cpu') return ['cpu'];
  const supported = new Set<string>();
  try {
    for (const b of ort.listSupportedBackends?.() ?? []) supported.add(b.name);
  } catch {
    /* older runtimes: try everything */
  }
  return [...gpuProviders().filter((p) => (supported.size === 0 || supported.has(p)) && (p !== 'cuda' || cudaPresent())), 'cpu'];
}

/**
 * A session on the first provider that both opens the model and runs it once
 * (a provider that loads but cannot execute fails here, not mid-ranking).
 * Throws, with every provider's reason, when none can.
 */
export async function openModel(ort: Ort, bytes: Uint8Array, meta: ModelMeta, device: RankerDevice, remembered?: string): Promise<OpenedModel> {
  await (ortSetUp ??= setUpOrt(ort));
  const failures: string[] = [];
  for (const ep of providerOrder(ort, device, remembered)) {
    const blocker = ep === 'webgpu' ? webgpuBlocker() : undefined;
    if (blocker) {
      failures.push(blocker);
      continue;
    }
    let session: InferenceSession | undefined;
    try {
      await nextTurn();
      session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
      const f = new Float32Array(meta.features.length);
      await scoreWith(ort, session, buildInputs(meta, [{ term: 'warm', weight: 1 }], [['warm', 'up']], [f]), meta.features.length);
      return { session, device: ep, failures };
    } catch (err) {
      failures.push(`${ep}: ${firstLine((err as Error).message)}`);
      await session?.release().catch(() => undefined);
    }
  }
  throw new Error(`no execution provider could run the model (${failures.join('; ')})`);
}

/** ONNX Runtime's module; loading it (≈20–30 ms of native calls) gets a turn of its own. */
export async function loadOrt(): Promise<Ort> {
  try {
    await nextTurn();
    return await import('onnxruntime-node');
  } catch (err) {
    throw new Error(`ONNX Runtime failed to load (${firstLine((err as Error).message)})`);
  }
}

/** The stage-2 model file opened (see openModel), with the runtime that runs it; throws with the reason to show. */
export async function openModelFile(modelPath: string, meta: ModelMeta, device: RankerDevice, remembered?: string): Promise<OpenedModel & { ort: Ort }> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(modelPath);
  } catch (err) {
    throw new Error(`ranker model unusable (${(err as Error).message})`);
  }
  const ort = await loadOrt();
  return { ...(await openModel(ort, bytes, meta, device, remembered)), ort };
}

export function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? s).trim().slice(0, 200);
}
