// The this-cpu probe: a real ONNX Runtime measurement, the cache, and the
// fallback that never throws.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { CPU_PROBE_FILE, measureCopyBandwidth, probeCpu } from '../../src/core/cost/cpuProbe';
import { attentionModel, causalMask, matmulModel, randomFill } from '../../src/core/cost/onnxGraphs';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'cb-probe-'));

test('matmul graph computes A x B', async () => {
  const s = await ort.InferenceSession.create(matmulModel(2, 3, 2));
  const a = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  const b = new ort.Tensor('float32', Float32Array.from([1, 0, 0, 1, 1, 1]), [3, 2]);
  const out = await s.run({ A: a, B: b });
  assert.deepEqual([...(out.C.data as Float32Array)], [4, 5, 10, 11]);
  await s.release();
});

test('attention graph matches a direct computation of softmax(QK^T/sqrt(d) + mask) V', async () => {
  const h = 2;
  const n = 5;
  const d = 4;
  const q = randomFill(new Float32Array(h * n * d), 3);
  const k = randomFill(new Float32Array(h * n * d), 4);
  const v = randomFill(new Float32Array(h * n * d), 5);
  const s = await ort.InferenceSession.create(attentionModel(h, n, d));
  const shape = [h, n, d];
  const out = await s.run({ Q: new ort.Tensor('float32', q, shape), K: new ort.Tensor('float32', k, shape), V: new ort.Tensor('float32', v, shape), mask: new ort.Tensor('float32', causalMask(n), [n, n]) });
  const o = out.O.data as Float32Array;
  for (let hh = 0; hh < h; hh++) {
    for (let i = 0; i < n; i++) {
      const scores: number[] = [];
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let x = 0; x < d; x++) dot += q[(hh * n + i) * d + x] * k[(hh * n + j) * d + x];
        scores.push(dot / Math.sqrt(d));
      }
      const mx = Math.max(...scores);
      const e = scores.map((z) => Math.exp(z - mx));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let x = 0; x < d; x++) {
        let want = 0;
        for (let j = 0; j <= i; j++) want += (e[j] / sum) * v[(hh * n + j) * d + x];
        assert.ok(Math.abs(o[(hh * n + i) * d + x] - want) < 1e-5, `h${hh} i${i} x${x}`);
      }
    }
  }
  await s.release();
});

test('probeCpu measures through ONNX Runtime, caches, and reuses the cache', async () => {
  const dir = tmp();
  const hw = await probeCpu(dir);
  assert.equal(hw.id, 'this-cpu');
  assert.equal(hw.measured, true, hw.notes?.join(' '));
  assert.ok(hw.peakFlops > 1e8 && hw.peakFlops < 1e14, `peak ${hw.peakFlops}`);
  assert.ok(hw.memoryBandwidth > 1e8 && hw.memoryBandwidth < 1e13, `bandwidth ${hw.memoryBandwidth}`);
  const file = join(dir, CPU_PROBE_FILE);
  const cached = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(cached.peakFlops, hw.peakFlops);
  // Second call reads the file: a marker value written there comes back.
  writeFileSync(file, JSON.stringify({ ...cached, peakFlops: 123456789 }));
  const again = await probeCpu(dir);
  assert.equal(again.peakFlops, 123456789);
  assert.ok(again.notes!.some((n) => /cached/.test(n)));
  // force measures again
  let calls = 0;
  const forced = await probeCpu(dir, { force: true, measure: async () => (calls++, { peakFlops: 5e10, memoryBandwidth: 1e10 }) });
  assert.equal(calls, 1);
  assert.equal(forced.peakFlops, 5e10);
});

test('a cache from another machine or a corrupt cache is ignored', async () => {
  const dir = tmp();
  const file = join(dir, CPU_PROBE_FILE);
  writeFileSync(file, JSON.stringify({ key: 'other|1|x|v1', version: 1, peakFlops: 1, memoryBandwidth: 1, memoryBytes: 1, cpuModel: 'x', cores: 1, measuredAt: '2025-01-01' }));
  let calls = 0;
  const measure = async (): Promise<{ peakFlops: number; memoryBandwidth: number }> => (calls++, { peakFlops: 7e10, memoryBandwidth: 3e10 });
  assert.equal((await probeCpu(dir, { measure })).peakFlops, 7e10);
  writeFileSync(file, '{not json');
  assert.equal((await probeCpu(dir, { measure })).peakFlops, 7e10);
  assert.equal(calls, 2);
});

test('failure or timeout falls back to conservative defaults and says so; nothing is cached', async () => {
  const dir = tmp();
  const failed = await probeCpu(dir, { measure: async () => { throw new Error('no runtime'); } });
  assert.equal(failed.measured, false);
  assert.equal(failed.peakFlops, 20e9);
  assert.ok(failed.notes!.some((n) => /CPU probe failed \(no runtime\)/.test(n)));
  const slow = await probeCpu(dir, { timeoutMs: 20, measure: () => new Promise((r) => setTimeout(() => r({ peakFlops: 1, memoryBandwidth: 1 }), 1000)) });
  assert.equal(slow.measured, false);
  assert.ok(slow.notes!.some((n) => /timed out/.test(n)));
  const silly = await probeCpu(dir, { measure: async () => ({ peakFlops: NaN, memoryBandwidth: 1 }) });
  assert.equal(silly.measured, false);
  assert.throws(() => readFileSync(join(dir, CPU_PROBE_FILE)));
});

test('copy bandwidth is a positive finite figure', () => {
  const bw = measureCopyBandwidth(8 * 1024 * 1024, 2);
  assert.ok(Number.isFinite(bw) && bw > 1e7);
});
