// Chunks as the index holds them. A large workspace has a million chunks, so
// their per-object cost decides the extension host's memory and how long a
// full garbage collection holds the event loop. One file's chunks live in one
// `ChunkPack`: one string of 16-bit units holds their numbers (span, tokens,
// kind, hash halves, offsets), then their subtokens as term numbers, then the
// names they define as numbers of the index's name table. A chunk handed out
// is a small view (`IndexedChunk`: the pack and a place) made when it is read
// and dropped after: nothing keeps a view per chunk, so a million chunks are a
// hundred thousand packs to mark, not a million more objects (a full
// collection of the warm 100,000-file index took 332 ms with the views and
// their lists, 183 ms without; bench:load --gc-probe). Ids and hashes are made
// on demand: nothing reads them per chunk of the workspace on a keystroke.
import { chunkId } from '../chunk/chunker';
import { SubstringMap } from '../substringMap';
import type { Chunk, ChunkKind } from '../types';
import type { CachedFile } from './cache';
import { SegmentedInt32, SegmentedList, type ReadonlyList } from '../segmentedList';

/** Term numbers below this take one UTF-16 unit, the rest two (terms seen first, the common ones, stay short). */
const ONE_UNIT = 0x8000;

/** The units of one term code, written into a buffer that every code reuses (codes are made one at a time). */
let unitBuffer = new Uint16Array(1024);

class UnitWriter {
  private n = 0;

  term(id: number): void {
    if (this.n + 2 > unitBuffer.length) {
      const bigger = new Uint16Array(unitBuffer.length * 2);
      bigger.set(unitBuffer);
      unitBuffer = bigger;
    }
    if (id < ONE_UNIT) unitBuffer[this.n++] = id;
    else {
      unitBuffer[this.n++] = ONE_UNIT | (id >>> 15);
      unitBuffer[this.n++] = id & 0x7fff;
    }
  }

  done(): string {
    const { n } = this;
    // Arguments go on the stack: a few thousand at a time.
    if (n <= 4096) return String.fromCharCode.apply(null, unitBuffer.subarray(0, n) as unknown as number[]);
    let out = '';
    for (let i = 0; i < n; i += 4096) out += String.fromCharCode.apply(null, unitBuffer.subarray(i, Math.min(n, i + 4096)) as unknown as number[]);
    return out;
  }
}

/** Subtoken ↔ number, shared by every chunk of one index. */
export class TermTable {
  /** Term → number: the number is the term's place in insertion order. */
  private readonly ids = new SubstringMap();
  private nameTable: TermTable | undefined;

  /**
   * The names that chunks define, numbered in a table of their own (not
   * subtokens: BM25 never sees them, and they would push the subtokens' numbers
   * past one unit). Each name is kept once, however many chunks define it.
   */
  get names(): TermTable {
    return (this.nameTable ??= new TermTable());
  }

  /** The number of term[from, to) (numbered now if new). */
  number(term: string, from = 0, to = term.length): number {
    const id = this.ids.get(term, from, to);
    if (id !== undefined) return id;
    const fresh = this.ids.size;
    this.ids.set(from === 0 && to === term.length ? term : term.slice(from, to), fresh);
    return fresh;
  }

  term(id: number): string {
    return this.ids.keys()[id] as string;
  }

  /** The number of `term`, or undefined when it has none (nothing is numbered). */
  find(term: string): number | undefined {
    return this.ids.get(term, 0, term.length);
  }

  get size(): number {
    return this.ids.size;
  }

  encode(uses: readonly string[]): string {
    return this.code(uses.map((t) => this.number(t)));
  }

  /** The code of terms given joined by single spaces (as index workers send them), without splitting them into strings. */
  encodeJoined(joined: string): string {
    const units = new UnitWriter();
    for (let from = 0; from < joined.length; ) {
      let to = joined.indexOf(' ', from);
      if (to < 0) to = joined.length;
      units.term(this.number(joined, from, to));
      from = to + 1;
    }
    return units.done();
  }

  /** The code of terms already numbered (the index cache maps its own numbers to these). */
  code(ids: readonly number[]): string {
    const units = new UnitWriter();
    for (const id of ids) units.term(id);
    return units.done();
  }

  /** The terms of `code` (or of its units from..to). */
  decode(code: string, from = 0, to = code.length): string[] {
    const out: string[] = [];
    out.length = this.decodeInto(code, from, to, out);
    return out;
  }

  /** Writes the term numbers of code[from, to) to out[0..n) and returns n (as decodeInto, without the strings). */
  idsInto(code: string, from: number, to: number, out: number[]): number {
    let n = 0;
    for (let i = from; i < to; i++) {
      const u = code.charCodeAt(i);
      out[n++] = u < ONE_UNIT ? u : ((u & 0x7fff) << 15) | code.charCodeAt(++i);
    }
    return n;
  }

  /**
   * Writes the terms of code[from, to) to out[0..n) and returns n; `out` keeps
   * its length where it is longer (emptying an array gives its storage away,
   * and the next writes would allocate it again).
   */
  decodeInto(code: string, from: number, to: number, out: string[]): number {
    const terms = this.ids.keys();
    let n = 0;
    for (let i = from; i < to; i++) {
      const u = code.charCodeAt(i);
      const term = terms[u < ONE_UNIT ? u : ((u & 0x7fff) << 15) | code.charCodeAt(++i)] as string;
      if (n < out.length) out[n] = term;
      else out.push(term);
      n++;
    }
    return n;
  }
}

/** Name numbers of one chunk, read by placesDefining (reused: it runs for every defining file of a name). */
const nameIds: number[] = [];

/** No defines: one shared array (most chunks of a file body name nothing). */
const NO_NAMES: string[] = Object.freeze([]) as unknown as string[];

/** Chunk kinds ↔ small numbers (a handful of kinds, shared by every index). */
const KINDS: string[] = [];
const KIND_NUMBERS = new Map<string, number>();
function kindNumber(kind: string): number {
  let n = KIND_NUMBERS.get(kind);
  if (n === undefined) {
    n = KINDS.length;
    KINDS.push(kind);
    KIND_NUMBERS.set(kind, n);
  }
  return n;
}

/** Columns per chunk in `ChunkPack.cols`. */
const START = 0;
const END = 1;
const TOKENS = 2;
const KIND = 3;
const HASH_HI = 4;
const HASH_LO = 5;
/** Where the chunk's term code ends, counted from the pack's first term unit. */
const TERMS_END = 6;
/** Where the chunk's name code ends, counted from the pack's first name unit. */
const NAMES_END = 7;
const COLS = 8;

const HEX16 = /^[0-9a-f]{16}$/;

/** 32-bit integers as a string of two UTF-16 units each (high half first). */
function unitsOf(values: readonly number[]): string {
  let out = '';
  const units: number[] = [];
  const flush = () => {
    out += String.fromCharCode(...units);
    units.length = 0;
  };
  for (const v of values) {
    units.push((v >>> 16) & 0xffff, v & 0xffff);
    if (units.length >= 4096) flush();
  }
  flush();
  return out;
}

/** A chunk's fields as a pack takes them: `uses` as terms (or, from the cache, no `uses` and the term codes given apart). */
export type ChunkFields = Omit<Chunk, 'id' | 'path' | 'language' | 'uses'> & { uses?: readonly string[] };

/** One file's chunks, packed (see the top of this file). */
export class ChunkPack {
  /** How many chunks. */
  readonly count: number;
  /**
   * First, per chunk, COLS 32-bit integers as two UTF-16 units each: 32 bytes a
   * chunk (a plain array of numbers takes 64, and a typed array per file is one
   * more ArrayBuffer for V8 to account). Then the chunks' term codes, back to
   * back, from `termsBase`; then their name codes, from `namesBase`. One string,
   * not three: a string is one object for the collector, however long.
   */
  private readonly data: string;
  private readonly namesBase: number;
  /** Hashes that are not 16 hex digits (tests and hand-made chunks), by position. */
  private readonly oddHashes: Map<number, string> | undefined;
  readonly language: string;

  /**
   * `intern` gives one copy of each repeated string (the language);
   * `codes[i]`, when given, is chunk i's term code in `table` (the cache loader numbers terms itself).
   */
  constructor(
    readonly path: string,
    language: string,
    fields: readonly ChunkFields[],
    readonly table: TermTable,
    intern: (s: string) => string,
    codes?: readonly string[],
  ) {
    this.language = intern(language);
    const cols = new Array<number>(fields.length * COLS);
    const parts: string[] = [];
    const nameParts: string[] = [];
    let odd: Map<number, string> | undefined;
    let end = 0;
    let namesEnd = 0;
    fields.forEach((c, i) => {
      const at = i * COLS;
      const code = codes?.[i] ?? table.encode(c.uses ?? []);
      parts.push(code);
      end += code.length;
      cols[at + START] = c.startLine;
      cols[at + END] = c.endLine;
      cols[at + TOKENS] = c.tokens;
      cols[at + KIND] = kindNumber(c.kind);
      if (HEX16.test(c.hash)) {
        cols[at + HASH_HI] = parseInt(c.hash.slice(0, 8), 16) | 0;
        cols[at + HASH_LO] = parseInt(c.hash.slice(8), 16) | 0;
      } else {
        cols[at + HASH_HI] = cols[at + HASH_LO] = 0;
        (odd ??= new Map()).set(i, c.hash);
      }
      cols[at + TERMS_END] = end;
      if (c.defines.length > 0) {
        const names = table.names.encode(c.defines);
        nameParts.push(names);
        namesEnd += names.length;
      }
      cols[at + NAMES_END] = namesEnd;
    });
    this.namesBase = 2 * COLS * fields.length + end;
    // Joined at once: a flat string (`+` would make a rope of pieces until first read).
    this.data = [unitsOf(cols), ...parts, ...nameParts].join('');
    this.oddHashes = odd;
    this.count = fields.length;
  }

  /** A view of chunk i (a fresh object: compare views with `sameChunk`). */
  view(i: number): IndexedChunk {
    return new IndexedChunk(this, i);
  }

  /** Views of every chunk, in line order. */
  views(): IndexedChunk[] {
    const out = new Array<IndexedChunk>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = new IndexedChunk(this, i);
    return out;
  }

  /** Column `col` of chunk i. */
  private at(i: number, col: number): number {
    const k = 2 * (i * COLS + col);
    return (this.data.charCodeAt(k) << 16) | this.data.charCodeAt(k + 1);
  }

  /** Where the term codes start in `data`. */
  private get termsBase(): number {
    return 2 * COLS * this.count;
  }

  startLine(i: number): number {
    return this.at(i, START);
  }

  endLine(i: number): number {
    return this.at(i, END);
  }

  tokens(i: number): number {
    return this.at(i, TOKENS);
  }

  kind(i: number): ChunkKind {
    return KINDS[this.at(i, KIND)] as ChunkKind;
  }

  /** Where chunk i's run starts in the column of run ends `col` (TERMS_END, NAMES_END): where chunk i - 1's ends. */
  private runStart(i: number, col: number): number {
    return i === 0 ? 0 : this.at(i - 1, col);
  }

  /** Chunk i's names (a fresh array, or the shared empty one). */
  defines(i: number): string[] {
    const from = this.runStart(i, NAMES_END);
    const to = this.at(i, NAMES_END);
    return from === to ? NO_NAMES : this.table.names.decode(this.data, this.namesBase + from, this.namesBase + to);
  }

  /**
   * Writes to `out` the places of the chunks that define the name numbered `nameId`
   * in `table.names`, in line order, until `out` holds `limit`: no name strings made.
   */
  placesDefining(nameId: number, out: number[], limit: number): void {
    const { data, namesBase } = this;
    for (let i = 0; i < this.count && out.length < limit; i++) {
      const n = this.table.names.idsInto(data, namesBase + this.runStart(i, NAMES_END), namesBase + this.at(i, NAMES_END), nameIds);
      for (let k = 0; k < n; k++) {
        if (nameIds[k] === nameId) {
          out.push(i);
          break;
        }
      }
    }
  }

  hash(i: number): string {
    const odd = this.oddHashes?.get(i);
    if (odd !== undefined) return odd;
    const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    return hex(this.at(i, HASH_HI)) + hex(this.at(i, HASH_LO));
  }

  /** Chunk i's subtokens (a fresh array on each read). */
  uses(i: number): string[] {
    return this.table.decode(this.data, this.termsBase + this.runStart(i, TERMS_END), this.termsBase + this.at(i, TERMS_END));
  }

  /** Chunk i's subtokens written to out[0..n); returns n (see TermTable.decodeInto). */
  usesInto(i: number, out: string[]): number {
    return this.table.decodeInto(this.data, this.termsBase + this.runStart(i, TERMS_END), this.termsBase + this.at(i, TERMS_END), out);
  }

  /** Chunk i's subtokens as their numbers in `table`, written to out[0..n); returns n. */
  termIdsInto(i: number, out: number[]): number {
    return this.table.idsInto(this.data, this.termsBase + this.runStart(i, TERMS_END), this.termsBase + this.at(i, TERMS_END), out);
  }
}

/** One chunk of a pack: a view that reads its fields from the pack. */
export class IndexedChunk implements Chunk {
  constructor(
    /** The pack that holds the chunk. */
    readonly pack: ChunkPack,
    /** The chunk's place in its pack. */
    readonly at: number,
  ) {}

  get id(): string {
    return chunkId(this.pack.path, this.startLine, this.endLine);
  }
  get path(): string {
    return this.pack.path;
  }
  get language(): string {
    return this.pack.language;
  }
  get startLine(): number {
    return this.pack.startLine(this.at);
  }
  get endLine(): number {
    return this.pack.endLine(this.at);
  }
  get kind(): ChunkKind {
    return this.pack.kind(this.at);
  }
  get defines(): string[] {
    return this.pack.defines(this.at);
  }
  get hash(): string {
    return this.pack.hash(this.at);
  }
  get tokens(): number {
    return this.pack.tokens(this.at);
  }
  /** Subtokens used in the chunk (a fresh array on each read). */
  get uses(): string[] {
    return this.pack.uses(this.at);
  }

  /** The subtokens written to out[0..n), returning n: for passes over every chunk, which would otherwise make an array per chunk. */
  usesInto(out: string[]): number {
    return this.pack.usesInto(this.at, out);
  }

  /** True when the chunk keeps its terms in `table` (nothing to convert). */
  numberedIn(table: TermTable): boolean {
    return this.pack.table === table;
  }

  /** The table that numbers this chunk's subtokens. */
  get termTable(): TermTable {
    return this.pack.table;
  }

  /** The subtokens' numbers in `termTable`, written to out[0..n); returns n. */
  termIdsInto(out: number[]): number {
    return this.pack.termIdsInto(this.at, out);
  }

  /** What the chunk holds as plain data (JSON, worker messages and tests see the fields of `Chunk`). */
  toJSON(): Chunk {
    const { id, path, startLine, endLine, language, kind, defines, uses, hash, tokens } = this;
    return { id, path, startLine, endLine, language, kind, defines, uses, hash, tokens };
  }
}

/** True when a and b are the same chunk of an index: the same object, or views of the same place in the same pack. */
export function sameChunk(a: Chunk, b: Chunk): boolean {
  return a === b || (a instanceof IndexedChunk && b instanceof IndexedChunk && a.pack === b.pack && a.at === b.at);
}

/** Packs one file's chunks (views of all of one pack of `table`, in order, give that pack back). */
export function packFileChunks(path: string, language: string, chunks: readonly ChunkFields[], table: TermTable, intern: (s: string) => string, codes?: readonly string[]): ChunkPack {
  const first = chunks[0];
  if (first instanceof IndexedChunk) {
    const { pack } = first;
    if (pack.table === table && pack.path === path && pack.count === chunks.length && chunks.every((c, i) => c instanceof IndexedChunk && c.pack === pack && c.at === i)) return pack;
  }
  return new ChunkPack(path, language, chunks, table, intern, codes);
}

const NO_IMPORTS: never[] = Object.freeze([]) as unknown as never[];

/** Imports as (specifier, names, line) triples in an array of exactly that size (flatMap's result keeps spare room: 12 MB at 100,000 files). */
function tripleList(imports: CachedFile['imports']): Array<string | readonly string[] | number> {
  const out = new Array<string | readonly string[] | number>(3 * imports.length);
  imports.forEach(({ specifier, names, line }, i) => {
    out[3 * i] = specifier;
    out[3 * i + 1] = names;
    out[3 * i + 2] = line;
  });
  return out;
}

/**
 * A file as the index holds it: its fields, and its chunks in a pack (`chunks`
 * makes views on each read). `links` only on the way from the cache: the index
 * keeps them in its import graph.
 */
export class IndexedFile implements CachedFile {
  readonly path: string;
  size: number;
  mtimeMs: number;
  readonly hash: string;
  readonly language: string;
  /**
   * The imports back to back, three entries each (specifier, names, line): an
   * object per import was the largest set of objects left in the heap (448,000 at
   * 100,000 files, bench:load --heap-snapshot), and every full collection marks them.
   */
  private readonly importList: ReadonlyArray<string | readonly string[] | number>;
  readonly links?: CachedFile['links'];

  constructor(
    file: Omit<CachedFile, 'chunks'>,
    readonly pack: ChunkPack,
  ) {
    this.path = file.path;
    this.size = file.size;
    this.mtimeMs = file.mtimeMs;
    this.hash = file.hash;
    this.language = file.language;
    this.importList = file.imports.length === 0 ? NO_IMPORTS : tripleList(file.imports);
    if (file.links) this.links = file.links;
  }

  /** The imports (fresh objects on each read). */
  get imports(): CachedFile['imports'] {
    const list = this.importList;
    const out: CachedFile['imports'] = [];
    for (let i = 0; i < list.length; i += 3) out.push({ specifier: list[i] as string, names: list[i + 1] as string[], line: list[i + 2] as number });
    return out;
  }

  get chunks(): IndexedChunk[] {
    return this.pack.views();
  }
}

/**
 * Chunks by ordinal (BM25's documents) without a view per chunk: per ordinal,
 * the place of its holder (a pack, or a plain chunk) and its place in that pack,
 * in typed arrays that the garbage collector does not look into.
 */
export class ChunkList implements ReadonlyList<Chunk> {
  /** Packs and plain chunks, in the order their chunks came (consecutive chunks of one pack share an entry). */
  private readonly holders = new SegmentedList<ChunkPack | Chunk>();
  private readonly holderOf = new SegmentedInt32();
  /** The chunk's place in its pack; -1 for a plain chunk. */
  private readonly placeOf = new SegmentedInt32();

  get length(): number {
    return this.holderOf.length;
  }

  push(c: Chunk): void {
    const last = this.holders.length - 1;
    if (c instanceof IndexedChunk) {
      if (last < 0 || this.holders.at(last) !== c.pack) this.holders.push(c.pack);
      this.placeOf.push(c.at);
    } else {
      this.holders.push(c);
      this.placeOf.push(-1);
    }
    this.holderOf.push(this.holders.length - 1);
  }

  at(i: number): Chunk {
    if (!(i >= 0 && i < this.length)) return undefined as unknown as Chunk;
    const holder = this.holders.at(this.holderOf.at(i));
    const place = this.placeOf.at(i);
    return place < 0 ? (holder as Chunk) : (holder as ChunkPack).view(place);
  }

  /**
   * Chunk i's subtokens as their numbers in `table`, written to out[0..n), returning n
   * (as IndexedChunk.termIdsInto, with no view made: a full BM25 build reads every chunk);
   * -1 when chunk i is not numbered in `table`.
   */
  termIdsInto(i: number, table: TermTable, out: number[]): number {
    const place = this.placeOf.at(i);
    if (place < 0) return -1;
    const pack = this.holders.at(this.holderOf.at(i)) as ChunkPack;
    return pack.table === table ? pack.termIdsInto(place, out) : -1;
  }

  *[Symbol.iterator](): Iterator<Chunk> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}
