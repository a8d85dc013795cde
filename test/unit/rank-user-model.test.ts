// The optional user embedding model: WordPiece from tokenizer.json, tiny ONNX
// models built here with onnx-proto, the cosine feature, clear notes on bad input,
// and its worker thread.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { IndexView } from '../../src/core/index/indexView';
import { crashModelWorker, startUserModel } from '../../src/core/rank/modelRunner';
import { Ranker } from '../../src/core/rank/ranker';
import { queryTermsFromText, splitIdentifier } from '../../src/core/rank/text';
import { loadUserModel, wordPieceFromJson } from '../../src/core/rank/userModel';
import { emptySignals, type Chunk, type CursorWindow } from '../../src/core/types';

const WORDS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'parse', '##r', 'config', 'load', 'plugin', '##s', 'draw', 'circle', '(', ')', '.', 'const', '=', 'function', 'return', 'dir', 'radius', '{', '}', 'export', 'import', 'from', "'", ',', 'start', 'argv', 'cfg', '[', ']', '0', '*', '2', ':', 'string', 'number', 'read', '##ing'];
const VOCAB = Object.fromEntries(WORDS.map((w, i) => [w, i]));
const TOKENIZER = {
  version: '1.0',
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: VOCAB },
};
const H = 4;

type Variant = 'hidden' | 'pooled' | 'bad-shape' | 'bad-input';
function tinyModel(variant: Variant): Uint8Array {
  const F = onnx.TensorProto.DataType.FLOAT;
  const I64 = onnx.TensorProto.DataType.INT64;
  // Rows: plugin-ish words point one way, drawing words another, the rest small.
  const E = new Float32Array(WORDS.length * H);
  WORDS.forEach((w, i) => {
    const v = ['load', 'plugin', '##s', 'dir', 'read', '##ing'].includes(w) ? [1, 0.2, 0, 0] : ['draw', 'circle', 'radius'].includes(w) ? [0, 0.1, 1, 0] : [0.05, 0.05, 0.05, 0.3];
    E.set(v, i * H);
  });
  const ids = variant === 'bad-input' ? 'tokens' : 'input_ids';
  const vi = (name: string, elem: number, dims: Array<number | string>): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const nodes: onnx.INodeProto[] = [
    { opType: 'Gather', input: ['E', ids], output: ['g'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
    { opType: 'Cast', input: ['attention_mask'], output: ['mf'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: F }] },
    { opType: 'Unsqueeze', input: ['mf', 'ax2'], output: ['m3'] },
    { opType: 'Mul', input: ['g', 'm3'], output: [variant === 'hidden' || variant === 'bad-input' ? 'last_hidden_state' : 'h'] },
  ];
  let out = vi('last_hidden_state', F, ['B', 'T', H]);
  if (variant === 'pooled') {
    nodes.push({ opType: 'ReduceMean', input: ['h'], output: ['sentence_embedding'], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }, { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
    out = vi('sentence_embedding', F, ['B', H]);
  } else if (variant === 'bad-shape') {
    nodes.push({ opType: 'ReduceMean', input: ['h'], output: ['sentence_embedding'], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 2] }, { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
    out = vi('sentence_embedding', F, ['B']);
  }
  const graph: onnx.IGraphProto = {
    name: 'tiny_embedder',
    node: nodes,
    initializer: [
      { name: 'E', dims: [WORDS.length, H], dataType: F, rawData: new Uint8Array(E.buffer) },
      { name: 'ax2', dims: [1], dataType: I64, int64Data: [2] },
    ],
    input: [vi(ids, I64, ['B', 'T']), vi('attention_mask', I64, ['B', 'T'])],
    output: [out],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

function modelDir(variant: Variant, tokenizer: unknown = TOKENIZER): string {
  const dir = mkdtempSync(join(tmpdir(), `cb-user-${variant}-`));
  writeFileSync(join(dir, 'model.onnx'), tinyModel(variant));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  return dir;
}

// A small index: one chunk per file.
const FILES: Record<string, string> = {
  'src/app.ts': "import { loadPlugins } from './plugins'\n\nexport function start(argv: string[]) {\n  const cfg = argv[0]\n\n  return loadPlugins(cfg)\n}",
  'src/plugins.ts': 'export function loadPlugins(dir: string) {\n  return readingDir(dir)\n}',
  'src/shapes.ts': 'export function drawCircle(radius: number) {\n  return radius * 2\n}',
  'src/parser.ts': 'export function parseConfig(argv: string[]) {\n  return argv[0]\n}',
};
function index(): IndexView {
  const chunks: Chunk[] = Object.entries(FILES).map(([path, text]) => ({
    id: `${path}#1-${text.split('\n').length}`,
    path,
    startLine: 1,
    endLine: text.split('\n').length,
    language: 'typescript',
    kind: 'function',
    defines: [...text.matchAll(/function\s+(\w+)/g)].map((m) => m[1]),
    uses: [...new Set((text.match(/[A-Za-z_$][\w$]*/g) ?? []).flatMap(splitIdentifier))],
    hash: path.padEnd(16, '0').slice(0, 16),
    tokens: Math.ceil(text.length / 4),
  }));
  return {
    fileCount: () => chunks.length,
    files: () => Object.keys(FILES),
    allChunks: () => chunks,
    chunksOf: (p) => chunks.filter((c) => c.path === p),
    definitionsOf: (n) => chunks.filter((c) => c.defines.includes(n)),
    importsOf: (p) => (p === 'src/app.ts' ? ['src/plugins.ts'] : []),
    importersOf: () => [],
    importedNamesOf: (p) => new Map(p === 'src/app.ts' ? [['src/plugins.ts', ['loadPlugins']]] : []),
    chunkText: (c) => FILES[c.path],
    fileText: (p) => FILES[p],
  };
}
function cursor(): CursorWindow {
  const text = FILES['src/app.ts'];
  return { path: 'src/app.ts', startLine: 3, endLine: 3, tokens: 10, text: '  const plugins = ', queryTerms: queryTermsFromText('loadPlugins dir plugins', 0), nearIdentifiers: [], cursorLine: 4, ...{ fileText: text } } as unknown as CursorWindow;
}

test('WordPiece from tokenizer.json: lower-casing, punctuation, ## pieces, [CLS]/[SEP], truncation', () => {
  const tok = wordPieceFromJson(JSON.stringify(TOKENIZER));
  // 'loadplugins' has no WordPiece split in this vocabulary (no '##plugin'): the whole word is [UNK].
  assert.deepEqual(tok.encode('loadPlugins(dir)'), [VOCAB['[CLS]'], VOCAB['[UNK]'], VOCAB['('], VOCAB.dir, VOCAB[')'], VOCAB['[SEP]']]);
  assert.deepEqual(tok.encode('Plugins(dir)'), [VOCAB['[CLS]'], VOCAB.plugin, VOCAB['##s'], VOCAB['('], VOCAB.dir, VOCAB[')'], VOCAB['[SEP]']]);
  assert.deepEqual(tok.encode('reading parser xyz'), [2, VOCAB.read, VOCAB['##ing'], VOCAB.parse, VOCAB['##r'], VOCAB['[UNK]'], 3]);
  assert.equal(tok.encode('plugin plugin plugin plugin', 4).length, 4);
  assert.throws(() => wordPieceFromJson(JSON.stringify({ model: { type: 'BPE', vocab: {} } })), /only WordPiece.*BPE/);
  assert.throws(() => wordPieceFromJson('{'), /not valid JSON/);
});

test('both output kinds load: mean-pooled last_hidden_state and a pooled sentence_embedding', async () => {
  for (const v of ['hidden', 'pooled'] as const) {
    const m = await loadUserModel(ort, modelDir(v));
    assert.equal(m.dim, H);
    const [a, b, c] = await m.embed(['load plugins', 'plugin dir', 'draw circle']);
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, xi, i) => s + xi * y[i], 0);
    assert.ok(Math.abs(dot(a, a) - 1) < 1e-5);
    assert.ok(dot(a, b) > dot(a, c), `${v}: similar texts are closer`);
    await m.dispose();
  }
});

test('the ranker uses the cosine feature, and bad user models leave a note and the built-in ranking', async () => {
  const idx = index();
  const req = { index: idx, cursor: cursor(), signals: emptySignals() };
  const plain = await Ranker.create({ device: 'cpu', log: () => undefined });
  const base = await plain.rank(req);
  const logs: string[] = [];
  const withUser = await Ranker.create({ device: 'cpu', userModelPath: modelDir('hidden'), log: (m) => logs.push(m) });
  assert.match(withUser.userModel ?? '', /last_hidden_state, 4 dims/);
  assert.match(logs.join('\n'), /user embedding model/);
  const res = await withUser.rank(req);
  assert.equal(res.note, undefined);
  assert.equal(res.device, base.device);
  const score = (r: typeof res, p: string) => r.ranked.find((x) => x.chunk.path === p)?.score ?? NaN;
  assert.ok(score(res, 'src/plugins.ts') > score(base, 'src/plugins.ts'), 'the similar chunk gains');
  assert.ok(score(res, 'src/shapes.ts') < score(base, 'src/shapes.ts'), 'the dissimilar chunk loses');
  for (let i = 1; i < res.ranked.length; i++) assert.ok(res.ranked[i - 1].score >= res.ranked[i].score);
  await withUser.dispose();

  const root = mkdtempSync(join(tmpdir(), 'cb-user-bad-'));
  const notOnnx = join(root, 'junk');
  mkdirSync(notOnnx);
  writeFileSync(join(notOnnx, 'model.onnx'), 'not a model');
  writeFileSync(join(notOnnx, 'tokenizer.json'), JSON.stringify(TOKENIZER));
  const cases: Array<[string, string, RegExp]> = [
    ['missing', join(root, 'nope.onnx'), /not found/],
    ['no tokenizer', join(root, 'junk', 'model.onnx').replace('junk', 'junk2'), /not found/],
    ['not onnx', notOnnx, /not an ONNX model/],
    ['bpe tokenizer', modelDir('hidden', { model: { type: 'BPE', vocab: {}, merges: [] } }), /only WordPiece/],
    ['wrong input', modelDir('bad-input'), /expected input_ids/],
    ['wrong output shape', modelDir('bad-shape'), /shape \[2\].*expected \[batch, tokens, hidden\] or \[batch, hidden\]/],
  ];
  for (const [name, path, why] of cases) {
    const r = await Ranker.create({ device: 'cpu', userModelPath: path, log: () => undefined });
    assert.equal(r.userModel, undefined, name);
    assert.match(r.userModelNote ?? '', why, name);
    const out = await r.rank(req);
    assert.match(out.note ?? '', /user model unusable/, name);
    assert.match(out.note ?? '', why, name);
    assert.equal(out.device, base.device, name);
    assert.deepEqual(out.ranked.map((x) => x.chunk.id), base.ranked.map((x) => x.chunk.id), name);
    await r.dispose();
  }
  await plain.dispose();
});

test('the user model runs in a worker: the same vectors as on this thread; a crash fails that request, the next one restarts it', async () => {
  const dir = modelDir('pooled');
  const texts = ['load plugins', 'plugin dir', 'draw circle'];
  const here = await loadUserModel(ort, dir);
  const inWorker = await startUserModel(dir);
  assert.equal(inWorker.inWorker, true);
  assert.equal(inWorker.dim, here.dim);
  assert.equal(inWorker.description, here.description);
  const want = (await here.embed(texts)).map((v) => [...v]);
  assert.deepEqual((await inWorker.embed(texts)).map((v) => [...v]), want);
  assert.ok(crashModelWorker(inWorker));
  await assert.rejects(inWorker.embed(texts), /the user model worker exited \(code 3\)/);
  assert.deepEqual((await inWorker.embed(texts)).map((v) => [...v]), want);
  await inWorker.dispose();
  await here.dispose();
  // A bad model says why from the worker, as it does on this thread.
  await assert.rejects(startUserModel(modelDir('bad-input')), /expected input_ids/);
});
