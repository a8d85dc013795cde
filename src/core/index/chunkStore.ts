// Chunks as the index holds them. A large workspace has a million chunks, so
// their per-object cost decides the extension host's memory: each chunk here
// has one fixed shape (every field set in the constructor, so V8 keeps them
// inside the object) and keeps its subtokens as one short string of term
// numbers instead of an array of string pointers (≈60 bytes for 25 terms
// instead of ≈250). `uses` decodes that string on demand: BM25 builds, cache
// writes and the ranker's candidates read it, nothing reads it per keystroke.
import type { Chunk, ChunkKind } from '../types';

/** Term numbers below this take one UTF-16 unit, the rest two (terms seen first, the common ones, stay short). */
const ONE_UNIT = 0x8000;

/** Subtoken ↔ number, shared by every chunk of one index. */
export class TermTable {
  private readonly ids = new Map<string, number>();
  private readonly terms: string[] = [];

  number(term: string): number {
    let id = this.ids.get(term);
    if (id === undefined) {
      id = this.terms.length;
      this.ids.set(term, id);
      this.terms.push(term);
    }
    return id;
  }

  term(id: number): string {
    return this.terms[id] as string;
  }

  get size(): number {
    return this.terms.length;
  }

  encode(uses: readonly string[]): string {
    return this.code(uses.map((t) => this.number(t)));
  }

  /** The code of terms already numbered (the index cache maps its own numbers to these). */
  code(ids: readonly number[]): string {
    const units: number[] = [];
    for (const id of ids) {
      if (id < ONE_UNIT) units.push(id);
      else units.push(ONE_UNIT | (id >>> 15), id & 0x7fff);
    }
    if (units.length <= 4096) return String.fromCharCode(...units);
    let out = '';
    for (let i = 0; i < units.length; i += 4096) out += String.fromCharCode(...units.slice(i, i + 4096));
    return out;
  }

  decode(code: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < code.length; i++) {
      const u = code.charCodeAt(i);
      out.push(this.terms[u < ONE_UNIT ? u : ((u & 0x7fff) << 15) | code.charCodeAt(++i)] as string);
    }
    return out;
  }
}

/** No defines: one shared array (most chunks of a file body name nothing). */
const NO_NAMES: string[] = Object.freeze([]) as unknown as string[];

export class IndexedChunk implements Chunk {
  readonly id: string;
  path: string;
  readonly startLine: number;
  readonly endLine: number;
  language: string;
  readonly kind: ChunkKind;
  readonly defines: string[];
  readonly hash: string;
  tokens: number;
  private readonly terms: string;
  private readonly table: TermTable;

  /**
   * `intern` gives one copy of each repeated string (language, kind, names);
   * `uses` become term numbers in `table`, or come as `code` already (from the cache).
   */
  constructor(c: Omit<Chunk, 'uses'> & { uses?: readonly string[] }, path: string, table: TermTable, intern: (s: string) => string, code?: string) {
    this.id = c.id;
    this.path = path;
    this.startLine = c.startLine;
    this.endLine = c.endLine;
    this.language = intern(c.language);
    this.kind = intern(c.kind) as ChunkKind;
    this.defines = c.defines.length === 0 ? NO_NAMES : c.defines.map(intern);
    this.hash = c.hash;
    this.tokens = c.tokens;
    this.terms = code ?? table.encode(c.uses ?? []);
    this.table = table;
  }

  /** True when the chunk keeps its terms in `table` (nothing to convert). */
  numberedIn(table: TermTable): boolean {
    return this.table === table;
  }

  /** Subtokens used in the chunk (a fresh array on each read). */
  get uses(): string[] {
    return this.table.decode(this.terms);
  }

  /** What the chunk holds as plain data (JSON, worker messages and tests see the fields of `Chunk`). */
  toJSON(): Chunk {
    const { id, path, startLine, endLine, language, kind, defines, uses, hash, tokens } = this;
    return { id, path, startLine, endLine, language, kind, defines, uses, hash, tokens };
  }
}
