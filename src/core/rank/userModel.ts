// An optional user-supplied sentence-embedding model (a local ONNX file plus its
// Hugging Face `tokenizer.json`, e.g. a code embedding model the user
// downloaded). It embeds the cursor window and the top candidates; their cosine
// similarity is an extra, untrained feature added to the ranker's logit:
//
//   z' = z + USER_COS_WEIGHT · (cos − mean cos over the re-scored candidates)
//
// applied to the best USER_TOP_K candidates of the built-in ranking (centred, so
// it reorders them without lifting them as a group). Loading validates the file,
// the tokenizer and the input/output shapes and throws a clear Error; the ranker
// turns that into its `note` and keeps the built-in model.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { firstLine } from './modelSession';

type Ort = typeof import('onnxruntime-node');

/** Weight of the centred cosine in the logit (documented, not trained). */
export const USER_COS_WEIGHT = 2;
/** Candidates re-scored with the user model per query. */
export const USER_TOP_K = 48;
/** Tokens per text (cursor window and candidates are truncated). */
export const USER_MAX_TOKENS = 128;

// ---- WordPiece tokenizer (BERT-style) from tokenizer.json ----

export interface WordPieceTokenizer {
  encode(text: string, maxTokens?: number): number[];
  readonly padId: number;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | unknown; unk_token?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number };
  normalizer?: { type?: string; lowercase?: boolean; strip_accents?: boolean | null; normalizers?: Array<{ type?: string }> } | null;
  added_tokens?: Array<{ id: number; content: string }>;
  padding?: { pad_id?: number } | null;
}

const PUNCT = /[\p{P}\p{S}]/u;

/** Builds a WordPiece tokenizer from the JSON text of a `tokenizer.json`; throws on anything else. */
export function wordPieceFromJson(text: string): WordPieceTokenizer {
  let j: TokenizerJson;
  try {
    j = JSON.parse(text) as TokenizerJson;
  } catch (e) {
    throw new Error(`tokenizer.json is not valid JSON (${(e as Error).message})`);
  }
  const type = j.model?.type;
  if (type !== 'WordPiece') throw new Error(`tokenizer.json: only WordPiece (BERT-style) tokenizers are supported, found ${type ?? 'no model type'}`);
  const vocabObj = j.model?.vocab;
  if (!vocabObj || typeof vocabObj !== 'object' || Array.isArray(vocabObj)) throw new Error('tokenizer.json: model.vocab is missing');
  const vocab = new Map<string, number>(Object.entries(vocabObj as Record<string, number>));
  for (const t of j.added_tokens ?? []) vocab.set(t.content, t.id);
  const unk = vocab.get(j.model?.unk_token ?? '[UNK]');
  if (unk === undefined) throw new Error('tokenizer.json: the unknown token is not in the vocabulary');
  const prefix = j.model?.continuing_subword_prefix ?? '##';
  const maxChars = j.model?.max_input_chars_per_word ?? 100;
  const cls = vocab.get('[CLS]');
  const sep = vocab.get('[SEP]');
  const padId = j.padding?.pad_id ?? vocab.get('[PAD]') ?? 0;
  const norm = j.normalizer;
  const kinds = new Set([norm?.type, ...(norm?.normalizers ?? []).map((n) => n.type)]);
  const lowercase = norm?.type === 'BertNormalizer' ? norm.lowercase !== false : kinds.has('Lowercase');
  const stripAccents = norm?.type === 'BertNormalizer' ? (norm.strip_accents ?? lowercase) === true : kinds.has('StripAccents');

  const words = (s: string): string[] => {
    let t = s.replace(/[\u0000\ufffd]/g, '').replace(/\s+/g, ' ');
    if (lowercase) t = t.toLowerCase();
    if (stripAccents) t = t.normalize('NFD').replace(/\p{Mn}/gu, '');
    const out: string[] = [];
    for (const w of t.split(' ')) {
      let cur = '';
      for (const ch of w) {
        if (PUNCT.test(ch)) {
          if (cur) out.push(cur);
          out.push(ch);
          cur = '';
        } else cur += ch;
      }
      if (cur) out.push(cur);
    }
    return out;
  };
  const pieces = (w: string, out: number[]) => {
    if ([...w].length > maxChars) {
      out.push(unk);
      return;
    }
    const ids: number[] = [];
    let start = 0;
    while (start < w.length) {
      let end = w.length;
      let id: number | undefined;
      while (start < end) {
        const sub = (start > 0 ? prefix : '') + w.slice(start, end);
        id = vocab.get(sub);
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) {
        out.push(unk);
        return;
      }
      ids.push(id);
      start = end;
    }
    out.push(...ids);
  };
  return {
    padId,
    encode(s: string, maxTokens = USER_MAX_TOKENS): number[] {
      const room = maxTokens - (cls !== undefined ? 1 : 0) - (sep !== undefined ? 1 : 0);
      const body: number[] = [];
      for (const w of words(s)) {
        pieces(w, body);
        if (body.length >= room) break;
      }
      body.length = Math.min(body.length, Math.max(0, room));
      return [...(cls !== undefined ? [cls] : []), ...body, ...(sep !== undefined ? [sep] : [])];
    },
  };
}

// ---- the model ----

export interface UserModel {
  readonly dim: number;
  readonly description: string;
  /** L2-normalised embeddings, one per text. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** model.onnx and tokenizer.json: `path` is the .onnx file (tokenizer.json beside it) or a folder holding both (also `onnx/model.onnx`). */
export function resolveUserModel(path: string): { model: string; tokenizer: string } {
  if (!existsSync(path)) throw new Error(`${path} not found`);
  if (statSync(path).isDirectory()) {
    const model = [join(path, 'model.onnx'), join(path, 'onnx', 'model.onnx')].find((p) => existsSync(p));
    if (!model) throw new Error(`no model.onnx in ${path}`);
    const tokenizer = [join(path, 'tokenizer.json'), join(dirname(model), 'tokenizer.json')].find((p) => existsSync(p));
    if (!tokenizer) throw new Error(`no tokenizer.json in ${path}`);
    return { model, tokenizer };
  }
  const tokenizer = join(dirname(path), 'tokenizer.json');
  if (!existsSync(tokenizer)) throw new Error(`no tokenizer.json next to ${path}`);
  return { model: path, tokenizer };
}

const OUTPUT_PREFERENCE = ['sentence_embedding', 'pooler_output', 'last_hidden_state', 'token_embeddings'];

/** Loads and validates the model (one probe run). Throws an Error with a clear message on any problem. */
export async function loadUserModel(ort: Ort, path: string): Promise<UserModel> {
  const files = resolveUserModel(path);
  const tok = wordPieceFromJson(readFileSync(files.tokenizer, 'utf8'));
  const bytes = readFileSync(files.model);
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  } catch (e) {
    throw new Error(`${files.model} is not an ONNX model ONNX Runtime can load (${firstLine((e as Error).message)})`);
  }
  try {
    const names = new Set(session.inputNames);
    if (!names.has('input_ids')) throw new Error(`model inputs are [${session.inputNames.join(', ')}]; expected input_ids (and attention_mask)`);
    const known = new Set(['input_ids', 'attention_mask', 'token_type_ids']);
    const unknown = session.inputNames.filter((n) => !known.has(n));
    if (unknown.length) throw new Error(`model has inputs this loader cannot feed: ${unknown.join(', ')}`);
    const meta = new Map((session.inputMetadata ?? []).map((m) => [m.name, m]));
    const idType = (name: string): 'int64' | 'int32' => {
      const m = meta.get(name);
      const t = m && m.isTensor ? m.type : 'int64';
      if (t !== 'int64' && t !== 'int32') throw new Error(`model input ${name} is ${t}; expected int64 or int32 token ids`);
      return t;
    };
    const types = new Map(session.inputNames.map((n) => [n, idType(n)]));
    const output = OUTPUT_PREFERENCE.find((n) => session.outputNames.includes(n)) ?? session.outputNames[0];
    if (!output) throw new Error('model has no outputs');

    const run = async (ids: number[][]): Promise<Float32Array[]> => {
      const b = ids.length;
      const t = Math.max(1, ...ids.map((x) => x.length));
      const idArr = new Array<number>(b * t).fill(tok.padId);
      const maskArr = new Array<number>(b * t).fill(0);
      ids.forEach((row, i) => row.forEach((v, k) => ((idArr[i * t + k] = v), (maskArr[i * t + k] = 1))));
      const tensor = (name: string, vals: number[]): Tensor =>
        types.get(name) === 'int32' ? new ort.Tensor('int32', Int32Array.from(vals), [b, t]) : new ort.Tensor('int64', BigInt64Array.from(vals, (v) => BigInt(v)), [b, t]);
      const feeds: Record<string, Tensor> = { input_ids: tensor('input_ids', idArr) };
      if (names.has('attention_mask')) feeds.attention_mask = tensor('attention_mask', maskArr);
      if (names.has('token_type_ids')) feeds.token_type_ids = tensor('token_type_ids', new Array<number>(b * t).fill(0));
      const out = (await session.run(feeds, [output]))[output];
      if (!out || out.type !== 'float32') throw new Error(`model output ${output} is ${out?.type ?? 'missing'}; expected float32`);
      const dims = out.dims;
      const data = out.data as Float32Array;
      const vecs: Float32Array[] = [];
      if (dims.length === 3 && dims[0] === b && dims[1] === t) {
        const h = dims[2];
        for (let i = 0; i < b; i++) {
          const v = new Float32Array(h);
          let cnt = 0;
          for (let k = 0; k < t; k++) {
            if (!maskArr[i * t + k]) continue;
            cnt++;
            for (let c = 0; c < h; c++) v[c] += data[(i * t + k) * h + c];
          }
          for (let c = 0; c < h; c++) v[c] /= Math.max(1, cnt);
          vecs.push(normalise(v));
        }
      } else if (dims.length === 2 && dims[0] === b) {
        const h = dims[1];
        for (let i = 0; i < b; i++) vecs.push(normalise(Float32Array.from(data.subarray(i * h, (i + 1) * h))));
      } else {
        throw new Error(`model output ${output} has shape [${dims.join(', ')}] for a batch of ${b}×${t}; expected [batch, tokens, hidden] or [batch, hidden]`);
      }
      return vecs;
    };
    const probe = await run([tok.encode('probe text', 8), tok.encode('x', 8)]);
    const dim = probe[0].length;
    if (!dim) throw new Error(`model output ${output} has an empty hidden dimension`);
    return {
      dim,
      description: `${files.model} (${output}, ${dim} dims)`,
      async embed(texts: readonly string[]): Promise<Float32Array[]> {
        const out: Float32Array[] = [];
        for (let s = 0; s < texts.length; s += 16) out.push(...(await run(texts.slice(s, s + 16).map((x) => tok.encode(x)))));
        return out;
      },
      dispose: () => session.release(),
    };
  } catch (e) {
    await session.release().catch(() => undefined);
    throw e;
  }
}

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) s += a[i] * b[i];
  return s;
}
