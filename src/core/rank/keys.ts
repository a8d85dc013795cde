// A candidate chunk's key terms for stage 2: subtokens of the names it defines,
// of its file name, then its other subtokens rarest first, capped at `max`.
import type { Chunk } from '../types';
import type { Bm25Index } from './bm25';
import { isTerm, splitIdentifier } from './text';

export function keyTermsOf(chunk: Chunk, bm: Pick<Bm25Index, 'idf'>, max: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (t: string) => {
    if (out.length < max && isTerm(t) && !seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  };
  for (const d of chunk.defines.slice(0, 8)) for (const s of splitIdentifier(d)) push(s);
  const base = chunk.path.slice(chunk.path.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
  for (const s of splitIdentifier(base.replace(/[^A-Za-z0-9]+/g, '_'))) push(s);
  if (out.length < max) {
    const rest = chunk.uses.filter((u) => !seen.has(u) && isTerm(u)).map((t) => ({ t, idf: bm.idf(t) }));
    rest.sort((a, b) => b.idf - a.idf || (a.t < b.t ? -1 : 1));
    for (const u of rest) {
      if (out.length >= max) break;
      push(u.t);
    }
  }
  return out;
}
