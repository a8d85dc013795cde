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

/** Deterministic PRNG for generated inputs (the one the ranker's training uses). */
export { rng } from '../../src/core/rank/text';

export const fuzzRuns = (base: number): number => Number(process.env.CONTEXT_BUDGET_FUZZ_RUNS ?? base);
