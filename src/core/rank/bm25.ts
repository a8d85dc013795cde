// BM25 over the index's identifier subtokens (`Chunk.uses`, already de-duplicated,
// so term frequency is binary). Built once per index state and cached.
import type { Chunk } from '../types';
import type { IndexView } from '../index/indexView';

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export interface Bm25Index {
  readonly signature: string;
  readonly chunks: Chunk[];
  readonly byId: Map<string, number>;
  /** term → chunk ordinals. */
  readonly postings: Map<string, Int32Array>;
  /** Per-chunk length normalisation: k1 * (1 - b + b * len / avgLen). */
  readonly norm: Float32Array;
  /** Directory → files (for the same-folder source). */
  readonly filesByDir: Map<string, string[]>;
  idf(term: string): number;
}

const cache = new WeakMap<IndexView, Bm25Index>();

export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function signatureOf(index: IndexView): { sig: string; chunks: Chunk[] } {
  const chunks = [...index.allChunks()];
  let h = 0;
  for (const c of chunks) h = (h + parseInt(c.hash.slice(0, 8) || '0', 16) + c.startLine * 31 + c.path.length) % 4294967291;
  return { sig: `${chunks.length}:${h}`, chunks };
}

/** The BM25 index of `index`, rebuilt when its chunks changed (by `version()` when the index has one, else by a hash of the chunk list). */
export function bm25Of(index: IndexView): Bm25Index {
  const cached = cache.get(index);
  const version = typeof index.version === 'function' ? `v${index.version()}` : undefined;
  if (version !== undefined && cached?.signature === version) return cached;
  const { sig: hashed, chunks } = signatureOf(index);
  const sig = version ?? hashed;
  if (cached && cached.signature === sig) return cached;
  const lists = new Map<string, number[]>();
  let total = 0;
  const byId = new Map<string, number>();
  const filesByDir = new Map<string, string[]>();
  const seenFiles = new Set<string>();
  chunks.forEach((c, i) => {
    byId.set(c.id, i);
    total += c.uses.length;
    for (const t of c.uses) {
      let l = lists.get(t);
      if (!l) lists.set(t, (l = []));
      l.push(i);
    }
    if (!seenFiles.has(c.path)) {
      seenFiles.add(c.path);
      const d = dirOf(c.path);
      const arr = filesByDir.get(d);
      if (arr) arr.push(c.path);
      else filesByDir.set(d, [c.path]);
    }
  });
  const n = chunks.length;
  const avg = n ? total / n || 1 : 1;
  const norm = new Float32Array(n);
  chunks.forEach((c, i) => (norm[i] = BM25_K1 * (1 - BM25_B + (BM25_B * c.uses.length) / avg)));
  const postings = new Map<string, Int32Array>();
  for (const [t, l] of lists) postings.set(t, Int32Array.from(l));
  const built: Bm25Index = {
    signature: sig,
    chunks,
    byId,
    postings,
    norm,
    filesByDir,
    idf(term: string) {
      const df = postings.get(term)?.length ?? 0;
      return Math.log(1 + (n - df + 0.5) / (df + 0.5));
    },
  };
  cache.set(index, built);
  return built;
}

/** Scores every chunk against weighted query terms; returns a dense score array. */
export function bm25Scores(bm: Bm25Index, terms: ReadonlyArray<{ term: string; weight: number }>): Float32Array {
  const scores = new Float32Array(bm.chunks.length);
  for (const { term, weight } of terms) {
    const post = bm.postings.get(term);
    if (!post || weight <= 0) continue;
    const idf = bm.idf(term) * weight;
    for (let k = 0; k < post.length; k++) {
      const i = post[k];
      scores[i] += (idf * (BM25_K1 + 1)) / (1 + bm.norm[i]);
    }
  }
  return scores;
}
