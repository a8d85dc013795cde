// The persisted index: one JSON file per (root, encoding), written atomically
// (temp file + rename) so two windows writing at once leave one whole snapshot.
// Anything unexpected — truncated, corrupted, other version — is ignored and
// the index is rebuilt; the cache is never trusted blindly.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chunkId, type ChunkOptions } from '../chunk/chunker';
import type { PieceTable } from '../tokens/pieces';
import type { Chunk } from '../types';

/**
 * 3: identifier subtokens are stored once in `terms`; a chunk's `uses` is a
 * space-separated list of term numbers (parses fast, and loads into one shared
 * string per term instead of one per occurrence).
 */
/**
 * 4: also the token counts of the pre-tokenizer pieces seen, so a warm start
 * needs no BPE tables; chunks no longer repeat their file's path and language
 * or their id (derived), a quarter less JSON to parse.
 */
export const INDEX_CACHE_VERSION = 4;
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
}

interface CacheFile {
  terms: string[];
  pieces: PieceTable;
  format: typeof FORMAT;
  version: number;
  root: string;
  encoding: string;
  chunkOptions: ChunkOptions;
  files: CachedFile[];
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
    Array.isArray(r.imports) && r.imports.every((i) => i && typeof i === 'object' && isStr(i.specifier) && isStrArr(i.names) && isNum(i.line))
  );
}

/** Loads the cache for this root/encoding/options, or undefined when absent or not trustworthy. */
export function loadIndexCache(cacheDir: string, root: string, encoding: string, chunkOptions: ChunkOptions): { files: Map<string, CachedFile>; pieces: PieceTable } | undefined {
  let raw: string;
  try {
    raw = readFileSync(indexCachePath(cacheDir, root, encoding), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const data = JSON.parse(raw) as Partial<CacheFile>;
    if (data.format !== FORMAT || data.version !== INDEX_CACHE_VERSION || data.root !== root || data.encoding !== encoding) return undefined;
    if (JSON.stringify(data.chunkOptions) !== JSON.stringify(chunkOptions)) return undefined;
    if (!Array.isArray(data.files) || !isStrArr(data.terms) || !validPieces(data.pieces)) return undefined;
    const terms = data.terms;
    const files = new Map<string, CachedFile>();
    for (const f of data.files) {
      if (!validFile(f)) return undefined; // one bad record taints the whole file
      const chunks: Chunk[] = [];
      for (const c of f.chunks) {
        const uses: string[] = [];
        if (c.uses !== '') {
          for (const n of c.uses.split(' ')) {
            const term = terms[Number(n)];
            if (term === undefined || !/^\d+$/.test(n)) return undefined;
            uses.push(term);
          }
        }
        const { startLine, endLine, kind, defines, hash, tokens } = c;
        chunks.push({ id: chunkId(f.path, startLine, endLine), path: f.path, startLine, endLine, language: f.language, kind, defines, uses, hash, tokens });
      }
      files.set(f.path, { ...f, chunks });
    }
    return { files, pieces: data.pieces };
  } catch {
    return undefined;
  }
}

export function saveIndexCache(cacheDir: string, root: string, encoding: string, chunkOptions: ChunkOptions, files: Iterable<CachedFile>, pieces: PieceTable): void {
  const target = indexCachePath(cacheDir, root, encoding);
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const numbers = new Map<string, number>();
  const terms: string[] = [];
  const code = (t: string) => {
    let n = numbers.get(t);
    if (n === undefined) {
      numbers.set(t, (n = terms.length));
      terms.push(t);
    }
    return n;
  };
  const stored: StoredFile[] = [...files].map((f) => ({
    ...f,
    chunks: f.chunks.map(({ startLine, endLine, kind, defines, uses, hash, tokens }) => ({ startLine, endLine, kind, defines, uses: uses.map(code).join(' '), hash, tokens })),
  }));
  const data = { format: FORMAT, version: INDEX_CACHE_VERSION, root, encoding, chunkOptions, terms, pieces, files: stored };
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, target);
    // Older formats of this same index will never be read again.
    const name = basename(target);
    const same = name.replace(/^index-v\d+-/, '');
    for (const f of readdirSync(cacheDir)) {
      if (f !== name && f.endsWith(same) && /^index-v\d+-/.test(f)) unlinkSync(join(cacheDir, f));
    }
  } catch {
    // A read-only or full disk costs us the warm start, nothing else.
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}
