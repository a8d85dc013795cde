// Small builders shared by tests: chunks and ranked lists without a real workspace.
import type { Chunk, RankedChunk } from '../../src/core/types';

export function makeChunk(path: string, startLine: number, endLine: number, tokens: number, extra: Partial<Chunk> = {}): Chunk {
  return {
    id: `${path}#${startLine}-${endLine}`,
    path,
    startLine,
    endLine,
    language: 'typescript',
    kind: 'function',
    defines: [],
    uses: [],
    hash: `${path}:${startLine}:${endLine}`,
    tokens,
    ...extra,
  };
}

export function ranked(chunk: Chunk, score: number): RankedChunk {
  return { chunk, score, sources: ['bm25'] };
}

/** Deterministic PRNG (mulberry32) for generated inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const fuzzRuns = (base: number): number => Number(process.env.CONTEXT_BUDGET_FUZZ_RUNS ?? base);
