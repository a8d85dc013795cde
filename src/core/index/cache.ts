// The persisted index: one file per (root, encoding), one JSON value per line —
// a header, one line per file, an end line with the file count — written
// atomically (temp file + rename) so two windows writing at once leave one whole
// snapshot. Line by line, because a 100,000-file workspace makes more JSON than
// one JavaScript string can hold, and so that loading and saving can yield to
// the event loop between files. Anything unexpected — truncated, corrupted,
// other version — is ignored and the index is rebuilt; never trusted blindly.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { chunkId, type ChunkOptions } from '../chunk/chunker';
import { ChunkPack, IndexedFile, type ChunkFields, type TermTable } from './chunkStore';
import { slicer } from '../slices';
import type { PieceTable } from '../tokens/pieces';
import type { Chunk } from '../types';

/**
 * 5: one JSON value per line; identifier subtokens are numbered in order of
 * first use (each file line brings the terms it adds) and a chunk's `uses` is a
 * space-separated list of term numbers; chunks omit the id, path and language
 * that their file gives; the header carries the token counts of the
 * pre-tokenizer pieces seen, so a warm start needs no BPE tables.
 * 6: a file line may carry its resolved import links, so a warm start of an
 * unchanged workspace resolves no import again.
 * 7: same format; chunk spans changed (a declaration behind a long doc comment
 * is named on the piece holding its line), so older chunks are not reused.
 */
export const INDEX_CACHE_VERSION = 7;
const FORMAT = 'context-budget-index';

export interface CachedFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** Hash of the whole file text. */
  hash: string;
  language: string;
  chunks: Chunk[];
  imports: Array<{ specifier: string; names: string[]; line: number }>;
  /** The files its imports resolved to, each with the names imported from it (valid while the set of paths is unchanged). */
  links?: ImportLinks;
}

export type ImportLinks = Array<[target: string, names: string[]]>;

const isLinks = (v: unknown): v is ImportLinks => Array.isArray(v) && v.every((l) => Array.isArray(l) && l.length === 2 && isStr(l[0]) && isStrArr(l[1]));

interface CacheHeader {
  format: typeof FORMAT;
  version: number;
  root: string;
  encoding: string;
  chunkOptions: ChunkOptions;
  pieces: PieceTable;
}


export function indexCachePath(cacheDir: string, root: string, encoding: string): string {
  const key = createHash('sha1').update(root).digest('hex').slice(0, 12);
  return join(cacheDir, `index-v${INDEX_CACHE_VERSION}-${key}-${encoding}.json`);
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);

function validPieces(p: unknown): p is PieceTable {
  if (!p || typeof p !== 'object') return false;
  const { text, tokens } = p as Record<string, unknown>;
  return isStrArr(text) && Array.isArray(tokens) && tokens.length === text.length && tokens.every((n, i) => Number.isInteger(n) && n >= 1 && n <= text[i].length * 4);
}

/** A chunk as stored: without `id`, `path` and `language`, which its file gives. */
type StoredChunk = Omit<Chunk, 'id' | 'path' | 'language' | 'uses'> & { uses: string };

function validChunk(c: unknown): c is StoredChunk {
  if (!c || typeof c !== 'object') return false;
  const k = c as Record<string, unknown>;
  return (
    isNum(k.startLine) && isNum(k.endLine) && (k.startLine as number) >= 1 && (k.endLine as number) >= (k.startLine as number) &&
    isStr(k.kind) && isStrArr(k.defines) && isStr(k.uses) && isStr(k.hash) && isNum(k.tokens) && (k.tokens as number) >= 0
  );
}

type StoredFile = Omit<CachedFile, 'chunks'> & { chunks: StoredChunk[] };

function validFile(f: unknown): f is StoredFile {
  if (!f || typeof f !== 'object') return false;
  const r = f as Record<string, unknown>;
  return (
    isStr(r.path) && isNum(r.size) && isNum(r.mtimeMs) && isStr(r.hash) && isStr(r.language) &&
    Array.isArray(r.chunks) && r.chunks.every(validChunk) &&
    Array.isArray(r.imports) && r.imports.every((i) => i && typeof i === 'object' && isStr(i.specifier) && isStrArr(i.names) && isNum(i.line)) &&
    (r.links === undefined || isLinks(r.links))
  );
}

/** Loads the cache for this root/encoding/options, or undefined when absent or not trustworthy. */
export async function loadIndexCache(
  cacheDir: string,
  root: string,
  encoding: string,
  chunkOptions: ChunkOptions,
  /** The index's chunk store: chunks are then built compact straight from the cache's term numbers. */
  store?: { terms: TermTable; intern: (s: string) => string },
): Promise<{ files: Map<string, CachedFile>; pieces: PieceTable } | undefined> {
  let lines: LineReader;
  try {
    lines = await LineReader.open(indexCachePath(cacheDir, root, encoding));
  } catch {
    return undefined;
  }
  const nextLine = async (): Promise<unknown> => {
    const line = await lines.next();
    return line === undefined ? undefined : JSON.parse(line);
  };
  const breathe = slicer();
  try {
    const header = (await nextLine()) as Partial<CacheHeader> | undefined;
    if (!header || header.format !== FORMAT || header.version !== INDEX_CACHE_VERSION || header.root !== root || header.encoding !== encoding) return undefined;
    if (JSON.stringify(header.chunkOptions) !== JSON.stringify(chunkOptions) || !validPieces(header.pieces)) return undefined;
    await breathe(); // the header (every piece the tokenizer knew) is the largest line
    const terms: string[] = [];
    /** The store's number for each of the cache's term numbers. */
    const ids: number[] = [];
    const files = new Map<string, CachedFile>();
    for (;;) {
      const line = (await nextLine()) as { terms?: unknown; file?: unknown; end?: unknown } | undefined;
      if (!line || typeof line !== 'object') return undefined; // truncated: no end line
      if ('end' in line) return line.end === files.size && (await lines.atEnd()) ? { files, pieces: header.pieces } : undefined;
      const f = line.file;
      if (!isStrArr(line.terms) || !validFile(f)) return undefined; // one bad record taints the whole file
      terms.push(...line.terms);
      if (store) for (const t of line.terms) ids.push(store.terms.number(t));
      const fields: ChunkFields[] = [];
      const codes: string[] = [];
      for (const c of f.chunks) {
        const nums: number[] = [];
        if (c.uses !== '') {
          for (const n of c.uses.split(' ')) {
            const k = Number(n);
            if (terms[k] === undefined || !/^\d+$/.test(n)) return undefined;
            nums.push(k);
          }
        }
        const { startLine, endLine, kind, defines, hash, tokens } = c;
        if (store) {
          fields.push({ startLine, endLine, kind, defines, hash, tokens });
          codes.push(store.terms.code(nums.map((k) => ids[k])));
        } else fields.push({ startLine, endLine, kind, defines, hash, tokens, uses: nums.map((k) => terms[k]) });
      }
      const file = { path: f.path, size: f.size, mtimeMs: f.mtimeMs, hash: f.hash, language: f.language, imports: f.imports, links: f.links };
      // Into an index's store: packed as the index keeps them, with no object per chunk.
      if (store) files.set(f.path, new IndexedFile(file, new ChunkPack(f.path, f.language, fields, store.terms, store.intern, codes)));
      else files.set(f.path, { ...file, chunks: fields.map((c) => ({ ...c, id: chunkId(f.path, c.startLine, c.endLine), path: f.path, language: f.language, uses: c.uses as string[] })) });
      await breathe();
    }
  } catch {
    return undefined;
  } finally {
    await lines.close();
  }
}

/**
 * The cache file's lines, read a few megabytes at a time: read whole, the cache
 * of 100,000 files (≈400 MB) sat in memory while its records were built
 * (bench:load warm start: peak RSS 1.3 GB).
 */
export class LineReader {
  private buf = Buffer.alloc(0);
  private start = 0;
  private eof = false;

  private constructor(
    private readonly fh: FileHandle,
    private readonly readBytes: number,
  ) {}

  static async open(path: string, readBytes = 4 << 20): Promise<LineReader> {
    return new LineReader(await open(path, 'r'), readBytes);
  }

  /** The next line (without its '\n'); undefined when no complete line is left. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const nl = this.buf.indexOf(10, this.start);
      if (nl >= 0) {
        const line = this.buf.toString('utf8', this.start, nl);
        this.start = nl + 1;
        return line;
      }
      if (this.eof) return undefined;
      await this.fill();
    }
  }

  /** Whether nothing at all follows the last line read. */
  async atEnd(): Promise<boolean> {
    while (this.start === this.buf.length && !this.eof) await this.fill();
    return this.start === this.buf.length;
  }

  /** Reads more, keeping the unread rest (a line longer than a read grows the buffer). */
  private async fill(): Promise<void> {
    const rest = this.buf.length - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.readBytes, 2 * rest));
    this.buf.copy(next, 0, this.start);
    const { bytesRead } = await this.fh.read(next, rest, next.length - rest, null);
    if (bytesRead === 0) this.eof = true;
    this.buf = next.subarray(0, rest + bytesRead);
    this.start = 0;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** A temp file of this index untouched this long is a cut-off save's (removed by the next save). */
export const ABANDONED_TEMP_MS = 10 * 60_000;

/** Writes the cache (temp file + rename), yielding to the event loop between files. A failure costs the warm start, nothing else. */
export async function saveIndexCache(
  cacheDir: string,
  root: string,
  encoding: string,
  chunkOptions: ChunkOptions,
  files: Iterable<CachedFile>,
  pieces: PieceTable,
  linksOf?: (path: string) => ImportLinks | undefined,
): Promise<void> {
  const target = indexCachePath(cacheDir, root, encoding);
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const snapshot = [...files]; // a changed file gets a new record, so this stays one consistent state
  const numbers = new Map<string, number>();
  const breathe = slicer();
  // Written by the thread pool: a synchronous write of a megabyte held the event loop 25 ms (bench:load, --cpu-prof).
  let out: FileHandle | undefined;
  try {
    mkdirSync(cacheDir, { recursive: true });
    out = await open(tmp, 'w');
    const header: CacheHeader = { format: FORMAT, version: INDEX_CACHE_VERSION, root, encoding, chunkOptions, pieces };
    let lines: string[] = [JSON.stringify(header)];
    let pending = 0;
    for (const f of snapshot) {
      const added: string[] = [];
      const code = (t: string) => {
        let n = numbers.get(t);
        if (n === undefined) {
          numbers.set(t, (n = numbers.size));
          added.push(t);
        }
        return n;
      };
      const file: StoredFile = {
        path: f.path,
        size: f.size,
        mtimeMs: f.mtimeMs,
        hash: f.hash,
        language: f.language,
        imports: f.imports,
        links: linksOf?.(f.path),
        chunks: f.chunks.map(({ startLine, endLine, kind, defines, uses, hash, tokens }) => ({ startLine, endLine, kind, defines, uses: uses.map(code).join(' '), hash, tokens })),
      };
      const line = JSON.stringify({ terms: added, file });
      lines.push(line);
      pending += line.length;
      if (pending > 1 << 20) {
        await out.write(lines.join('\n') + '\n');
        lines = [];
        pending = 0;
      }
      await breathe();
    }
    lines.push(JSON.stringify({ end: snapshot.length }));
    await out.write(lines.join('\n') + '\n');
    const closing = out;
    out = undefined;
    await closing.close();
    renameSync(tmp, target);
    // Older formats of this same index will never be read again, nor will the
    // temp files of saves that were cut off (a window closed, a worker ended):
    // a save in progress writes to its own at least every few seconds.
    const name = basename(target);
    const same = name.replace(/^index-v\d+-/, '');
    const now = Date.now();
    for (const f of readdirSync(cacheDir)) {
      if (f !== name && f.endsWith(same) && /^index-v\d+-/.test(f)) unlinkSync(join(cacheDir, f));
      else if (f.startsWith(`${name}.`) && f.endsWith('.tmp') && now - statSync(join(cacheDir, f)).mtimeMs > ABANDONED_TEMP_MS) unlinkSync(join(cacheDir, f));
    }
  } catch {
    // A read-only or full disk costs us the warm start, nothing else.
    try {
      await out?.close();
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}
