// Builds the stage-2 ONNX graph (see model.ts for the math) with onnx-proto, and
// reads weights back out of a model file. Used by `npm run build:model`,
// `npm run train` and the tests; the extension itself only loads the bytes.
import { onnx } from 'onnx-proto';
import { MASK_NEG, SHARP_THETA, type ModelMeta, type ModelWeights } from './model';

const F = onnx.TensorProto.DataType.FLOAT;
const I32 = onnx.TensorProto.DataType.INT32;
const I64 = onnx.TensorProto.DataType.INT64;
export const OPSET = 13;

function tensorF(name: string, dims: number[], data: Float32Array): onnx.ITensorProto {
  return { name, dims, dataType: F, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}
function tensorI64(name: string, values: number[]): onnx.ITensorProto {
  return { name, dims: [values.length], dataType: I64, int64Data: values };
}
function valueInfo(name: string, elem: number, dims: Array<number | string>): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}
function node(op: string, inputs: string[], outputs: string[], attrs: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType: op, input: inputs, output: outputs, name: outputs[0], attribute: attrs };
}
const attrInt = (name: string, i: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const attrInts = (name: string, ints: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });

/** Serialises the model: inputs q_ids [Lq] i32, q_w [Lq], u_ids [U] i32, k_idx [N,Lk] i32 (into u_ids), k_mask [N,Lk], feats [N,F]; outputs score [N], contrib [N,Lq]. */
export function buildGraph(m: ModelWeights): Uint8Array {
  const { vocab, dim, features } = m.meta;
  const nf = features.length;
  const nodes: onnx.INodeProto[] = [
    node('Gather', ['E', 'q_ids'], ['Q'], [attrInt('axis', 0)]),
    node('Transpose', ['Q'], ['QT'], [attrInts('perm', [1, 0])]),
    node('Gather', ['E', 'u_ids'], ['U'], [attrInt('axis', 0)]),
    node('MatMul', ['U', 'QT'], ['T']),
    node('Gather', ['T', 'k_idx'], ['S'], [attrInt('axis', 0)]),
    node('Mul', ['S', 'tau'], ['St']),
    node('Unsqueeze', ['k_mask', 'ax2'], ['mask3']),
    node('Add', ['St', 'mask3'], ['Sm']),
    node('Softmax', ['Sm'], ['A'], [attrInt('axis', 1)]),
    node('Mul', ['A', 'S'], ['AS']),
    node('ReduceSum', ['AS', 'ax1'], ['P'], [attrInt('keepdims', 0)]),
    node('Mul', ['P', 'q_w'], ['contrib']),
    node('ReduceSum', ['contrib', 'ax1'], ['rel'], [attrInt('keepdims', 1)]),
    node('Sub', ['P', 'theta'], ['Pc']),
    node('Relu', ['Pc'], ['Pr']),
    node('Mul', ['Pr', 'q_w'], ['Cs']),
    node('ReduceSum', ['Cs', 'ax1'], ['sharp'], [attrInt('keepdims', 1)]),
    node('Concat', ['rel', 'sharp', 'feats'], ['X'], [attrInt('axis', 1)]),
    node('Gemm', ['X', 'W', 'bias'], ['Z']),
    node('Sigmoid', ['Z'], ['Y']),
    node('Reshape', ['Y', 'flat'], ['score']),
  ];
  const graph: onnx.IGraphProto = {
    name: 'context_budget_ranker',
    node: nodes,
    initializer: [
      tensorF('E', [vocab, dim], m.embedding),
      tensorF('tau', [1], Float32Array.of(m.tau)),
      tensorF('theta', [1], Float32Array.of(SHARP_THETA)),
      tensorF('W', [2 + nf, 1], m.w),
      tensorF('bias', [1], Float32Array.of(m.b)),
      tensorI64('ax1', [1]),
      tensorI64('ax2', [2]),
      tensorI64('flat', [-1]),
    ],
    input: [
      valueInfo('q_ids', I32, ['Lq']),
      valueInfo('q_w', F, ['Lq']),
      valueInfo('u_ids', I32, ['U']),
      valueInfo('k_idx', I32, ['N', 'Lk']),
      valueInfo('k_mask', F, ['N', 'Lk']),
      valueInfo('feats', F, ['N', nf]),
    ],
    output: [valueInfo('score', F, ['N']), valueInfo('contrib', F, ['N', 'Lq'])],
  };
  const model: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'context-budget build-model',
    producerVersion: String(m.meta.format),
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
    docString: `Context Budget stage-2 ranker. mask=${MASK_NEG}`,
    metadataProps: [{ key: 'meta', value: JSON.stringify(m.meta) }],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

function floatsOf(t: onnx.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Reads the weights (and metadata) back from model bytes. */
export function readWeights(bytes: Uint8Array): ModelWeights {
  const model = onnx.ModelProto.decode(bytes);
  const metaProp = model.metadataProps.find((p) => p.key === 'meta');
  if (!metaProp) throw new Error('not a Context Budget ranker model (no meta)');
  const meta = JSON.parse(metaProp.value ?? '') as ModelMeta;
  const init = new Map((model.graph?.initializer ?? []).map((t) => [t.name, t]));
  const get = (n: string) => {
    const t = init.get(n);
    if (!t) throw new Error(`model lacks initializer ${n}`);
    return floatsOf(t);
  };
  return { meta, embedding: get('E'), tau: get('tau')[0], w: get('W'), b: get('bias')[0] };
}
