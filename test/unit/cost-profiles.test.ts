// Model and hardware profiles: built-in data, user entries from settings,
// validation errors that name the entry and the field.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { DEFAULT_HARDWARE_ID, DEFAULT_MODEL_ID, listHardwareIds, listModelIds, loadProfiles } from '../../src/core/cost/profiles';
import modelsJson from '../../src/core/cost/models.json';
import hardwareJson from '../../src/core/cost/hardware.json';
import type { HardwareProfile } from '../../src/core/cost/types';

const REQUIRED_MODELS = [
  'llama-3.1-8b', 'llama-3.1-70b', 'mistral-7b', 'mixtral-8x7b', 'qwen2.5-coder-7b', 'qwen2.5-coder-32b', 'gemma-2-9b',
  'deepseek-coder-v2-lite', 'starcoder2-15b', 'codestral-22b', 'gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini',
  'claude-sonnet-4', 'claude-3.5-haiku', 'gemini-2.5-pro', 'gemini-2.5-flash',
];

test('built-ins load without errors and include every required model and hardware', () => {
  const p = loadProfiles();
  assert.deepEqual(p.errors, []);
  for (const id of REQUIRED_MODELS) assert.ok(p.models.has(id), id);
  for (const id of ['h100-sxm', 'a100-80gb', 'l4', 'rtx-4090', 'apple-m3-max', 'this-cpu']) assert.ok(p.hardware.has(id), id);
  assert.ok(p.models.has(DEFAULT_MODEL_ID));
  assert.ok(p.hardware.has(DEFAULT_HARDWARE_ID));
  assert.deepEqual(listModelIds(), [...p.models.keys()]);
  assert.deepEqual(listHardwareIds(), [...p.hardware.keys()]);
});

test('every built-in has lowercase-dash id, a shipped encoding and a dated source for each group of numbers', () => {
  const dated = /\b(19|20)\d\d\b/;
  for (const raw of modelsJson.models) {
    const m = raw as unknown as { id: string; encoding: string; architecture: unknown; price: unknown; sources: Record<string, string> };
    assert.match(m.id, /^[a-z0-9][a-z0-9.-]*$/);
    assert.ok(m.encoding === 'o200k_base' || m.encoding === 'cl100k_base', m.id);
    assert.ok(m.sources.contextLength && dated.test(m.sources.contextLength), `${m.id} contextLength source`);
    if (m.architecture) {
      assert.ok(dated.test(m.sources.architecture), `${m.id} architecture source`);
      assert.ok(dated.test(m.sources.params), `${m.id} params source`);
    } else {
      assert.match(m.sources.architecture, /not published/, m.id);
    }
    if (m.price) assert.ok(dated.test(m.sources.price), `${m.id} price source`);
    else assert.ok(m.sources.price, `${m.id} says why there is no price`);
  }
  for (const raw of hardwareJson.hardware) {
    const h = raw as { id: string; sources: Record<string, string> };
    for (const k of ['peakFlops', 'memoryBandwidth', 'memoryBytes']) assert.ok(dated.test(h.sources[k] ?? ''), `${h.id}.${k} source`);
  }
});

test('open models with a tokenizer of their own say that counts are a tiktoken approximation', () => {
  const p = loadProfiles();
  for (const m of p.models.values()) {
    if (m.id.startsWith('gpt-')) continue;
    assert.ok((m.notes ?? []).some((n) => /approximation/.test(n)), m.id);
  }
});

test('user models: array form adds a model; object form keyed by id works too', () => {
  const mine = {
    id: 'my-coder',
    name: 'My coder',
    encoding: 'cl100k_base',
    contextLength: 16384,
    architecture: { layers: 4, hiddenSize: 512, attentionHeads: 8, kvHeads: 2, headDim: 64, totalParams: 5e7, activeParams: 5e7 },
    price: null,
  };
  const a = loadProfiles([mine]);
  assert.deepEqual(a.errors, []);
  const m = a.models.get('my-coder')!;
  assert.equal(m.origin, 'user');
  assert.equal(m.architecture!.bytesPerParam, 2); // default
  assert.deepEqual(m.architecture!.pattern, { kind: 'dense' });
  const { id: _id, ...rest } = mine;
  const b = loadProfiles({ 'my-coder': rest });
  assert.deepEqual(b.errors, []);
  assert.equal(b.models.get('my-coder')!.contextLength, 16384);
});

test('a user entry overrides a built-in by id, field by field', () => {
  const p = loadProfiles([{ id: 'gpt-4o', price: { inputPerMTok: 1 } }], { 'h100-sxm': { computeEfficiency: 0.6 } });
  assert.deepEqual(p.errors, []);
  const m = p.models.get('gpt-4o')!;
  assert.equal(m.price!.inputPerMTok, 1);
  assert.equal(m.price!.outputPerMTok, 10); // kept from the built-in
  assert.equal(m.contextLength, 128000);
  assert.equal(m.origin, 'user');
  const h = p.hardware.get('h100-sxm')!;
  assert.equal(h.computeEfficiency, 0.6);
  assert.equal(h.peakFlops, 989.5e12);
  // The built-ins themselves are not mutated.
  assert.equal(loadProfiles().models.get('gpt-4o')!.price!.inputPerMTok, 2.5);
});

test('malformed entries: an error names the entry and the field; the entry is skipped; the rest works', () => {
  const p = loadProfiles(
    [
      { id: 'bad-layers', contextLength: 4096, architecture: { layers: '32', hiddenSize: 1, attentionHeads: 1, kvHeads: 1, headDim: 1, totalParams: 1, activeParams: 1 } },
      { id: 'good', contextLength: 4096, architecture: null, price: { inputPerMTok: 1, outputPerMTok: 2 } },
      { id: 'Bad Id', contextLength: 4096, architecture: null },
      { id: 'bad-enc', encoding: 'p50k_base', contextLength: 4096, architecture: null },
      { id: 'bad-pattern', contextLength: 4096, architecture: { layers: 2, hiddenSize: 8, attentionHeads: 2, kvHeads: 1, headDim: 4, totalParams: 10, activeParams: 10, pattern: { kind: 'sliding' } } },
      { id: 'bad-kv', contextLength: 4096, architecture: { layers: 2, hiddenSize: 8, attentionHeads: 2, kvHeads: 4, headDim: 4, totalParams: 10, activeParams: 10 } },
      { id: 'no-ctx', architecture: null },
      { id: 'bad-price', contextLength: 10, architecture: null, price: { inputPerMTok: -1, outputPerMTok: 1 } },
      42,
      { id: 'gpt-4o', contextLength: 0 },
    ],
    [{ id: 'bad-hw', peakFlops: 1e12, memoryBandwidth: 'fast', memoryBytes: 1e9 }, { id: 'ok-hw', peakFlops: 1e12, memoryBandwidth: 1e11, memoryBytes: 1e9, computeEfficiency: 1.5 }],
  );
  const has = (re: RegExp): void => assert.ok(p.errors.some((e) => re.test(e)), `expected an error matching ${re}; got\n${p.errors.join('\n')}`);
  has(/contextBudget\.models\[0\] "bad-layers": field "architecture\.layers" must be a number/);
  has(/contextBudget\.models\[2\] "Bad Id": field "id"/);
  has(/contextBudget\.models\[3\] "bad-enc": field "encoding"/);
  has(/contextBudget\.models\[4\] "bad-pattern": field "architecture\.pattern\.window"/);
  has(/contextBudget\.models\[5\] "bad-kv": field "architecture\.kvHeads" must not exceed attentionHeads/);
  has(/contextBudget\.models\[6\] "no-ctx": field "contextLength"/);
  has(/contextBudget\.models\[7\] "bad-price": field "price\.inputPerMTok" must be at least 0/);
  has(/contextBudget\.models\[8\]: must be an object/);
  has(/contextBudget\.models\[9\] "gpt-4o": field "contextLength" must be at least 1/);
  has(/contextBudget\.hardware\[0\] "bad-hw": field "memoryBandwidth" must be a number/);
  has(/contextBudget\.hardware\[1\] "ok-hw": field "computeEfficiency" must be at most 1/);
  assert.equal(p.errors.length, 11);
  for (const id of ['bad-layers', 'bad-enc', 'bad-pattern', 'bad-kv', 'no-ctx', 'bad-price', 'Bad Id', 'bad-id']) assert.ok(!p.models.has(id), id);
  assert.ok(p.models.has('good'));
  assert.equal(p.models.get('gpt-4o')!.contextLength, 128000); // bad override skipped, built-in kept
  assert.ok(p.models.has('llama-3.1-8b'));
  assert.ok(!p.hardware.has('bad-hw'));
  assert.ok(!p.hardware.has('ok-hw'));
});

test('unknown fields are reported but do not reject the entry; a non-collection setting is one error', () => {
  const p = loadProfiles([{ id: 'gpt-4o', contextLenght: 5 }], 'nonsense');
  assert.ok(p.errors.some((e) => /contextBudget\.models\[0\] "gpt-4o": field "contextLenght" is not a known field/.test(e)));
  assert.ok(p.errors.some((e) => /^contextBudget\.hardware: must be an array/.test(e)));
  assert.equal(p.models.get('gpt-4o')!.contextLength, 128000);
  assert.ok(p.hardware.has('h100-sxm'));
});

test('a measured this-cpu profile replaces the placeholder', () => {
  const cpu: HardwareProfile = { id: 'this-cpu', name: 'probe', peakFlops: 1e11, memoryBandwidth: 2e10, memoryBytes: 1e10, sources: {}, measured: true, origin: 'probe' };
  const p = loadProfiles(undefined, undefined, { thisCpu: cpu });
  assert.equal(p.hardware.get('this-cpu')!.peakFlops, 1e11);
  assert.equal(p.hardware.get('this-cpu')!.measured, true);
});
