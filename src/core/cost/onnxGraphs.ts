// Small ONNX graphs built in code (onnx-proto) for the CPU probe and the cost
// benchmark: a single MatMul, and one layer of scaled dot-product attention
// (QK^T, scale, causal mask, softmax, AV). Returned as serialized model bytes
// that onnxruntime-node's InferenceSession.create accepts.
import { onnx } from 'onnx-proto';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const OPSET = 13;

function valueInfo(name: string, shape: number[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

function encode(graph: onnx.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'context-budget',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** C[m,n] = A[m,k] x B[k,n]; inputs 'A', 'B', output 'C'. 2mkn FLOPs. */
export function matmulModel(m: number, k: number, n: number): Uint8Array {
  return encode({
    name: 'matmul_probe',
    node: [{ opType: 'MatMul', input: ['A', 'B'], output: ['C'], name: 'mm' }],
    input: [valueInfo('A', [m, k]), valueInfo('B', [k, n])],
    output: [valueInfo('C', [m, n])],
  });
}

/**
 * One attention layer for `heads` heads of size `headDim` over n tokens:
 * O = softmax(Q K^T / sqrt(headDim) + mask) V. Inputs 'Q', 'K', 'V' [heads, n, headDim]
 * and 'mask' [n, n] (0 on and below the diagonal, -inf above for causal); output 'O'.
 * The unfused graph computes the full n x n square; the mask does not skip work.
 */
export function attentionModel(heads: number, n: number, headDim: number): Uint8Array {
  const qkv = [heads, n, headDim];
  return encode({
    name: 'attention_layer',
    node: [
      { opType: 'Transpose', input: ['K'], output: ['Kt'], name: 'kt', attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1] }] },
      { opType: 'MatMul', input: ['Q', 'Kt'], output: ['S'], name: 'qk' },
      { opType: 'Mul', input: ['S', 'scale'], output: ['Ss'], name: 'scale' },
      { opType: 'Add', input: ['Ss', 'mask'], output: ['Sm'], name: 'mask' },
      { opType: 'Softmax', input: ['Sm'], output: ['P'], name: 'softmax', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] },
      { opType: 'MatMul', input: ['P', 'V'], output: ['O'], name: 'av' },
    ],
    initializer: [{ name: 'scale', dataType: FLOAT, dims: [], floatData: [1 / Math.sqrt(headDim)] }],
    input: [valueInfo('Q', qkv), valueInfo('K', qkv), valueInfo('V', qkv), valueInfo('mask', [n, n])],
    output: [valueInfo('O', qkv)],
  });
}

/** Causal mask [n, n]: 0 where key <= query, -Infinity above the diagonal. */
export function causalMask(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) m.fill(-Infinity, i * n + i + 1, (i + 1) * n);
  return m;
}

/** Deterministic pseudo-random fill in [-1, 1) (xorshift), so runs are comparable. */
export function randomFill(a: Float32Array, seed = 1): Float32Array {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    a[i] = x / 2147483648 - 1;
  }
  return a;
}
