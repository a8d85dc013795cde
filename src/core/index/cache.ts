// The persisted index: one JSON file per (root, encoding), written atomically
// (temp file + rename) so two windows writing at once leave one whole snapshot.
// Anything unexpected — truncated, corrupted, other version — is ignored and
// the index is rebuilt; the cache is never trusted blindly.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ChunkOptions } from '../chunk/chunker';
import type { Chunk } from '../types';

/**
 * 3: identifier subtokens are stored once in `terms`; a chunk's `uses` is a
 * space-separated list of term numbers (parses fast, and loads into one shared
 * string per term instead of one per occurrence).
 */
export const INDEX_CACHE_VERSION = 3;
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

function validChunk(c: unknown, path: string): c is Chunk {
  if (!c || typeof c !== 'object') return false;
  const k = c as Record<string, unknown>;
  return (
    k.path === path && isStr(k.id) && isNum(k.startLine) && isNum(k.endLine) && (k.startLine as number) >= 1 &&
    (k.endLine as number) >= (k.startLine as number) && isStr(k.language) && isStr(k.kind) && isStrArr(k.defines) &&
    isStr(k.uses) && isStr(k.hash) && isNum(k.tokens) && (k.tokens as number) >= 0
  );
}

function validFile(f: unknown): f is CachedFile {
  if (!f || typeof f !== 'object') return false;
  const r = f as Record<string, unknown>;
  return (
    isStr(r.path) && isNum(r.size) && isNum(r.mtimeMs) && isStr(r.hash) && isStr(r.language) &&
    Array.isArray(r.chunks) && r.chunks.every((c) => validChunk(c, r.path as string)) &&
    Array.isArray(r.imports) && r.imports.every((i) => i && typeof i === 'object' && isStr(i.specifier) && isStrArr(i.names) && isNum(i.line))
  );
}

/** Loads the cache for this root/encoding/options, or undefined when absent or not trustworthy. */
export function loadIndexCache(cacheDir: string, root: string, encoding: string, chunkOptions: ChunkOptions): { files: Map<string, CachedFile> } | undefined {
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
    if (!Array.isArray(data.files) || !isStrArr(data.terms)) return undefined;
    const terms = data.terms;
    const files = new Map<string, CachedFile>();
    for (const f of data.files) {
      if (!validFile(f)) return undefined; // one bad record taints the whole file
      for (const c of f.chunks) {
        const coded = c.uses as unknown as string;
        const uses: string[] = [];
        if (coded !== '') {
          for (const n of coded.split(' ')) {
            const term = terms[Number(n)];
            if (term === undefined || !/^\d+$/.test(n)) return undefined;
            uses.push(term);
          }
        }
        c.uses = uses;
      }
      files.set(f.path, f);
    }
    return { files };
  } catch {
    return undefined;
  }
}

export function saveIndexCache(cacheDir: string, root: string, encoding: string, chunkOptions: ChunkOptions, files: Iterable<CachedFile>): void {
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
  const stored = [...files].map((f) => ({ ...f, chunks: f.chunks.map((c) => ({ ...c, uses: c.uses.map(code).join(' ') })) }));
  const data = { format: FORMAT, version: INDEX_CACHE_VERSION, root, encoding, chunkOptions, terms, files: stored };
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
