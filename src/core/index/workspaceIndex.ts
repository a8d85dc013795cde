// The workspace index: every file's chunks with exact token counts, a symbol
// table (name → defining chunks) and the import graph. Built once (warm from
// the persisted cache when possible), then kept current file by file.
import { closeSync, constants as fsc, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CHUNK_OPTIONS, splitLines, type ChunkOptions, type SyntaxLike } from '../chunk/chunker';
import { decodeSource, readSource } from '../scan/readSource';
import { nextTurn, sliceSpent, slicer } from '../slices';
import { countSkip, IgnoreMatcher, scanWorkspace, type ScannedFile } from '../scan/scanner';
import { TokenCache } from '../tokens/tokenCache';
import { loadTokenizer, type EncodingName, type Tokenizer } from '../tokens/tokenizer';
import type { Chunk, SkipReason } from '../types';
import { loadIndexCache, saveIndexCache, type CachedFile, type ImportLinks } from './cache';
import { FileLookup, resolveImport } from './imports';
import { hashFileText, indexFileText } from './indexFile';
import { IndexWorkerPool, replyStrings, workerScript } from './indexWorkers';
import { IndexedFile, packFileChunks, TermTable } from './chunkStore';
import type { IndexView } from './indexView';
import { ChainedMap } from '../chainedMap';

export interface IndexOptions {
  encoding: EncodingName;
  /** Folder for the persisted index; none = no persistence. */
  cacheDir?: string;
  exclude?: string[];
  maxFileSizeKB?: number;
  chunk?: Partial<ChunkOptions>;
  /** Tree-sitter layer; without it every file is chunked by line windows. */
  syntax?: SyntaxLike & { ensureLanguage?(languageId: string): Promise<boolean> };
  /**
   * Worker threads for cold indexing: 'auto' uses them for large batches when the
   * bundled worker exists; a number forces that many; 0 keeps everything in-process.
   */
  workers?: 'auto' | number;
  /** Scan with synchronous stats (see ScanOptions.syncStat): for the CLI. */
  syncStat?: boolean;
  /**
   * Prompt text around snippets (headers, fences, line numbers). Its pieces are
   * counted ahead and persisted with the index, so that a warm start counts a
   * rendered prompt without building tiktoken's BPE tables (≈150 ms).
   */
  promptText?: { vocabulary: string; frame(path: string, language: string): string };
  /**
   * Build tiktoken's BPE tables in a worker thread and send it the pieces this
   * thread has not seen (the extension host: building them on its thread stalls it
   * ≈150–300 ms). `ready()` then waits for the worker.
   */
  tokenWorker?: boolean;
  log?: (msg: string) => void;
}

/** Below this many files to read, worker start-up costs more than it saves. */
const WORKER_MIN_FILES = 200;

export interface IndexProgress {
  phase: 'scan' | 'read' | 'done';
  done: number;
  total: number;
}

export interface RefreshOptions {
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
}

export interface IndexStats {
  files: number;
  chunks: number;
  tokens: number;
  bytes: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Files whose contents were read in the last refresh (0 on a warm start of an unchanged workspace). */
  filesRead: number;
  /** Files reused from the persisted cache in the last refresh. */
  filesFromCache: number;
  complete: boolean;
  ms: number;
}

/** One file as it comes to the index (from a worker, the cache or this thread); the index keeps it as an IndexedFile. */
export type FileRecord = CachedFile;

/** Imports that name nothing (side-effect imports, `import * as`) share one empty list. */
const NO_IMPORTED_NAMES: string[] = Object.freeze([]) as unknown as string[];

/** How many recent file changes (at least) incremental consumers (BM25) can catch up on. */
const CHANGE_LOG_LIMIT = 4096;
/** During a refresh, queries may use an import graph that misses the newest files at least this long (and until the workspace grew by half: staleGraphFresh). */
const STALE_GRAPH_MS = 15_000;

interface ImportGraph {
  out: Map<string, string[]>;
  in: Map<string, string[]>;
  names: Map<string, Map<string, string[]>>;
}

const emptyGraph = (): ImportGraph => ({ out: new Map(), in: new Map(), names: new Map() });

/** Sets one file's outgoing import links (target, names imported from it) in a graph, replacing those it had. */
function setLinks(g: ImportGraph, path: string, links: ImportLinks): void {
  for (const t of g.out.get(path) ?? []) {
    const list = g.in.get(t);
    if (list) g.in.set(t, list.filter((p) => p !== path));
  }
  if (links.length === 0) {
    // Most files import nothing of the workspace: no entries (a Map per file is ≈200 bytes).
    g.out.delete(path);
    g.names.delete(path);
    return;
  }
  const targets = links.map(([t]) => t);
  g.out.set(path, targets);
  g.names.set(path, new Map(links));
  for (const t of targets) {
    const list = g.in.get(t);
    if (list) list.push(path);
    else g.in.set(t, [path]);
  }
}

export class WorkspaceIndex implements IndexView {
  private readonly records = new ChainedMap<string, IndexedFile>();
  /**
   * Name → the file defining it, or the files, in the order they came (most names have one:
   * no array, no set). Files, not chunks: the index keeps no object per chunk (chunkStore.ts).
   */
  private readonly definitions = new ChainedMap<string, string | string[]>();
  private readonly lookup = new FileLookup();
  private readonly overlays = new Map<string, string>();
  private readonly textCache = new Map<string, { mtimeMs: number; text: string }>();
  /** Split lines of recently rendered files (packing slices the same files on every cursor move). */
  private readonly linesCache = new Map<string, { text: string; lines: string[] }>();
  private importGraph: ImportGraph | undefined;
  private graphBuild: Promise<void> | undefined;
  /** Changes whenever a path is added or removed (import resolution may change anywhere). */
  private pathsVersion = 0;
  /** The last graph, while the set of paths moved on: when it was made, and for how many files. */
  private staleGraph: { graph: ImportGraph; at: number; files: number } | undefined;
  private refreshing = false;
  private saving: Promise<void> | undefined;
  private saveAgain = false;
  private readonly changeLog: Array<{ version: number; path: string }> = [];
  private readonly chunkOptions: ChunkOptions;
  private readonly ignoreMatcher: IgnoreMatcher;
  private lastStats: IndexStats = { files: 0, chunks: 0, tokens: 0, bytes: 0, skipped: {}, filesRead: 0, filesFromCache: 0, complete: false, ms: 0 };
  private dirtySinceSave = false;
  private readonly strings = new ChainedMap<string, string>();
  private readonly nameLists = new Map<string, string[]>();
  private readonly totals = { chunks: 0, tokens: 0, bytes: 0 };
  /** Subtokens of every chunk, numbered (chunks keep their `uses` as term numbers). */
  private readonly terms = new TermTable();
  /** Bumped on every change to the set of chunks (caches built over all chunks key on it). */
  private changes = 0;

  private tokenCache: TokenCache | undefined;
  private readonly tokenizerLoad: Promise<Tokenizer>;

  private constructor(
    readonly root: string,
    readonly options: IndexOptions,
  ) {
    this.chunkOptions = { ...DEFAULT_CHUNK_OPTIONS, ...options.chunk };
    this.ignoreMatcher = new IgnoreMatcher(root, options.exclude);
    // The encoder loads while the first refresh scans the disk.
    this.tokenizerLoad = loadTokenizer(options.encoding);
    this.tokenizerLoad.catch(() => undefined); // reported by ready()
  }

  /** An empty index; call `refresh()` to fill it (queries work on partial results meanwhile). */
  static async create(root: string, options: IndexOptions): Promise<WorkspaceIndex> {
    return new WorkspaceIndex(root, options);
  }

  /** Resolves once the tokenizer is loaded (refresh, updateFile and the engine await it). */
  async ready(): Promise<void> {
    if (this.tokenCache) return;
    const tokenizer = await this.tokenizerLoad;
    if (this.options.tokenWorker) await tokenizer.useWorker({ log: this.options.log });
    this.tokenCache ??= new TokenCache(tokenizer);
  }

  /** Token counts cached by chunk hash. Available after `ready()`. */
  get tokens(): TokenCache {
    if (!this.tokenCache) throw new Error('the index is not ready: await index.ready() first');
    return this.tokenCache;
  }

  /** Creates and fully refreshes an index. */
  static async build(root: string, options: IndexOptions, refresh: RefreshOptions = {}): Promise<WorkspaceIndex> {
    const index = await WorkspaceIndex.create(root, options);
    await index.refresh(refresh);
    await index.flush();
    return index;
  }

  /** Resolves when no save is pending (a refresh saves behind its return). */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
  }

  /** True while a refresh (scan and read) is running. */
  get isRefreshing(): boolean {
    return this.refreshing;
  }

  get encoding(): EncodingName {
    return this.options.encoding;
  }

  stats(): IndexStats {
    return this.lastStats;
  }

  /**
   * Brings the index in line with the disk: unchanged files (same size and
   * mtime as in memory or in the persisted cache) are not read again.
   */
  async refresh(opts: RefreshOptions = {}): Promise<IndexStats> {
    this.refreshing = true;
    try {
      return await this.refreshFiles(opts);
    } finally {
      this.refreshing = false;
      // A query in flight may read the graph next: the last one answers while a fresh one is built in slices (see graph()).
      if (!this.importGraph && this.staleGraph && !this.graphBuild) void this.startGraphBuild();
    }
  }

  private async refreshFiles(opts: RefreshOptions): Promise<IndexStats> {
    const started = performance.now();
    opts.onProgress?.({ phase: 'scan', done: 0, total: 0 });
    const scanning = scanWorkspace(this.root, {
      exclude: this.options.exclude,
      maxFileSizeKB: this.options.maxFileSizeKB,
      signal: opts.signal,
      syncStat: this.options.syncStat,
      onProgress: (n) => opts.onProgress?.({ phase: 'scan', done: n, total: 0 }),
    });
    // The persisted index loads (in slices) while the scan waits on the disk.
    const loading = this.records.size === 0 && this.options.cacheDir ? loadIndexCache(this.options.cacheDir, this.root, this.encoding, this.chunkOptions, { terms: this.terms, intern: this.intern }) : undefined;
    await this.ready();
    const scan = await scanning;
    const skipped = { ...scan.skipped };
    const cached = await loading;
    // Let the event loop breathe: the extension host must stay responsive.
    const breatheIfDue = slicer();
    // Files gone since the last refresh. (On a cold start there is nothing to drop: hashing
    // 100,000 paths into a set took one 30–45 ms turn, bench:load.)
    if (this.records.size > 0) {
      const present = new Set<string>();
      for (const f of scan.files) {
        present.add(f.path);
        await breatheIfDue();
      }
      for (const path of [...this.records.keys()]) {
        if (!present.has(path)) this.dropRecord(path);
        await breatheIfDue();
      }
    }

    let filesRead = 0;
    let filesFromCache = 0;
    const toRead: ScannedFile[] = [];
    for (const file of scan.files) {
      // A warm start puts every file (100,000 of them take seconds); a cold one looks each up.
      await breatheIfDue();
      const known = this.records.get(file.path) ?? cached?.files.get(file.path);
      if (known && known.size === file.size && known.mtimeMs === file.mtimeMs) {
        if (!this.records.has(file.path)) {
          this.putRecord(known); // its links live in the graph, not in the record
          filesFromCache++;
        }
      } else {
        toRead.push(file);
      }
    }
    let graphFromLinks: Promise<void> | undefined;
    // Records loaded from the cache are what the cache already says: loading them is no change.
    if (cached && filesFromCache === cached.files.size && this.records.size === filesFromCache) {
      this.dirtySinceSave = false;
      // The same set of paths: every import resolves as it did, so the saved links are the graph.
      // In slices behind the rest of the refresh, which waits for it at its end (taking links is cheap: ≈30 ms at 100,000 files).
      if (!this.importGraph && !this.graphBuild && [...cached.files.values()].every((f) => f.links)) graphFromLinks = this.startGraphBuild(cached.files);
    }
    if (cached) this.tokens.tokenizer.learnPieces(cached.pieces);

    let done = 0;
    const onFileDone = async () => {
      done++;
      if (sliceSpent()) {
        opts.onProgress?.({ phase: 'read', done, total: toRead.length });
        await nextTurn();
      }
    };
    /** Reads and indexes one file on this thread; false when it was skipped. */
    const readAndIndex = async (file: { path: string; abs: string }): Promise<boolean> => {
      const res = await readSource(file.abs, (this.options.maxFileSizeKB ?? 1024) * 1024);
      if ('skip' in res) {
        countSkip(skipped, res.skip);
        this.dropRecord(file.path);
        return false;
      }
      await this.indexText(file.path, res.text, res.size, res.mtimeMs);
      return true;
    };
    const pool = this.workerPool(toRead.length);
    if (pool) {
      try {
        let next = 0;
        let nextId = 0;
        const runOne = async (): Promise<void> => {
          while (next < toRead.length && !opts.signal?.aborted) {
            const file = toRead[next++];
            const reply = await pool.run({ id: nextId++, path: file.path, abs: file.abs });
            // Replies arrive together, on I/O: each waits for a turn once the running slice is spent.
            await breatheIfDue();
            if ('record' in reply) {
              const { chunks } = reply.record;
              const n = chunks.length;
              const strings = replyStrings(reply);
              await this.finishCounts(reply.record, reply.counts, strings.slice(n), pool);
              // Counting may have waited on the BPE worker: the replies then all resume together,
              // on I/O, and the rest of each file's work would run back to back (61 ms, bench:load).
              await breatheIfDue();
              // Terms go straight from the joined strings to term numbers (no string per term).
              const codes = chunks.map((_, i) => this.terms.encodeJoined(strings[i]));
              this.putRecord(reply.record, codes);
              filesRead++;
            } else if ('skip' in reply) {
              countSkip(skipped, reply.skip);
              this.dropRecord(file.path);
            } else if (!opts.signal?.aborted && (await readAndIndex(file))) {
              // A worker failed on this file (out of memory on a huge one, say): the main thread tries it.
              filesRead++;
            }
            await onFileDone();
          }
        };
        await Promise.all(Array.from({ length: pool.capacity }, runOne));
      } finally {
        await pool.close();
      }
    } else {
      for (const file of toRead) {
        if (opts.signal?.aborted) break;
        if (await readAndIndex(file)) filesRead++;
        await onFileDone();
      }
    }
    await graphFromLinks;
    const complete = !opts.signal?.aborted;
    this.lastStats = { ...this.countTotals(), skipped, filesRead, filesFromCache, complete, ms: performance.now() - started };
    opts.onProgress?.({ phase: 'done', done, total: toRead.length });
    // Saved behind the refresh (the index answers queries meanwhile); flush() waits for it.
    if (complete && (filesRead > 0 || this.dirtySinceSave || !cached)) void this.save();
    return this.lastStats;
  }

  /** Kept as records come and go: summing a million chunks on every edit would cost the editor tens of milliseconds. */
  private countTotals() {
    return { files: this.records.size, ...this.totals };
  }

  private tally(rec: IndexedFile, sign: 1 | -1): void {
    const { pack } = rec;
    let tokens = 0;
    for (let i = 0; i < pack.count; i++) tokens += pack.tokens(i);
    this.totals.chunks += sign * pack.count;
    this.totals.tokens += sign * tokens;
    this.totals.bytes += sign * rec.size;
  }

  /**
   * Token counts for a record from an index worker (`counts` and `unknown` as in
   * WorkerReply): the worker summed the pieces it knew; the pieces it did not
   * are counted here (remembered ones at once, new ones by the BPE worker while
   * this thread goes on) and taught to every worker. The record's prompt frame
   * is learnt along.
   */
  private async finishCounts(rec: FileRecord, counts: Int32Array, unknown: string[], pool: IndexWorkerPool): Promise<void> {
    const { chunks } = rec;
    const n = chunks.length;
    const frame = this.promptFrame(rec);
    const [pieceCounts] = await Promise.all([unknown.length ? this.tokens.tokenizer.countPieces(unknown) : [], frame === undefined ? undefined : this.tokens.tokenizer.countMany([frame])]);
    pool.teach({ text: unknown, tokens: pieceCounts });
    for (let i = 0; i < n; i++) {
      chunks[i].tokens = this.tokens.countWith(chunks[i].hash, () => {
        let sum = counts[i];
        for (let k = i === 0 ? 2 * n : 2 * n + counts[n + i - 1]; k < 2 * n + counts[n + i]; k++) sum += pieceCounts[counts[k]];
        return sum;
      });
    }
  }

  /** The prompt text around this file's snippets, whose pieces are counted ahead (see IndexOptions.promptText). */
  private promptFrame(rec: FileRecord): string | undefined {
    return this.options.promptText?.frame(rec.path, rec.language);
  }

  private countFrameAhead(rec: FileRecord): void {
    const frame = this.promptFrame(rec);
    if (frame !== undefined) this.tokens.tokenizer.count(frame);
  }

  /**
   * Persists the index (atomic write, in slices that leave the event loop free).
   * Saves asked for while one runs are folded into one more after it. No-op
   * without a cache folder.
   */
  save(): Promise<void> {
    const cacheDir = this.options.cacheDir;
    if (!cacheDir) return Promise.resolve();
    if (this.saving) {
      this.saveAgain = true;
      return this.saving;
    }
    this.saving = (async () => {
      do {
        this.saveAgain = false;
        // The resolved import links go with the records, so the graph is built first (in slices).
        if (!this.importGraph) await (this.graphBuild ?? this.startGraphBuild());
        this.dirtySinceSave = false;
        if (this.options.promptText) this.tokens.tokenizer.count(this.options.promptText.vocabulary);
        const g = this.importGraph;
        const linksOf = g ? (path: string): ImportLinks => (g.out.get(path) ?? []).map((t) => [t, g.names.get(path)?.get(t) ?? []]) : undefined;
        await saveIndexCache(cacheDir, this.root, this.encoding, this.chunkOptions, this.records.values(), this.tokens.tokenizer.knownPieces(), linksOf);
      } while (this.saveAgain);
    })().finally(() => (this.saving = undefined));
    return this.saving;
  }

  /** Re-chunks one file from the given text (an editor buffer) or from disk. Returns its chunks. */
  async updateFile(path: string, text?: string): Promise<readonly Chunk[]> {
    await this.ready();
    if (await this.ignoreMatcher.ignores(path)) {
      this.dropRecord(path);
      return [];
    }
    if (text === undefined) {
      const res = await readSource(join(this.root, path), (this.options.maxFileSizeKB ?? 1024) * 1024);
      if ('skip' in res) {
        this.dropRecord(path);
        return [];
      }
      await this.indexText(path, res.text, res.size, res.mtimeMs);
    } else {
      const prev = this.records.get(path);
      await this.indexText(path, text, Buffer.byteLength(text), prev?.mtimeMs ?? 0);
    }
    this.lastStats = { ...this.lastStats, ...this.countTotals() };
    return this.chunksOf(path);
  }

  removeFile(path: string): void {
    this.dropRecord(path);
    this.overlays.delete(path);
    this.lastStats = { ...this.lastStats, ...this.countTotals() };
  }

  async renameFile(from: string, to: string): Promise<void> {
    const overlay = this.overlays.get(from);
    this.removeFile(from);
    await this.updateFile(to, overlay);
  }

  /** The editor text set for `path`, if any. */
  overlayOf(path: string): string | undefined {
    return this.overlays.get(path);
  }

  /** The editor's unsaved text for a file; chunkText/fileText read it instead of the disk. */
  setOverlay(path: string, text: string | undefined): void {
    if (text === undefined) this.overlays.delete(path);
    else this.overlays.set(path, text);
  }

  /** Forgets a folder's cached .gitignore (call when it changes). */
  ignoreRulesChanged(dir: string): void {
    this.ignoreMatcher.forget(dir);
  }

  private workerPool(files: number): IndexWorkerPool | undefined {
    const want = this.options.workers ?? 'auto';
    if (want === 0 || (want === 'auto' && files < WORKER_MIN_FILES)) return undefined;
    const script = workerScript();
    if (!script) return undefined;
    try {
      return new IndexWorkerPool(script, {
        chunkOptions: this.chunkOptions,
        maxBytes: (this.options.maxFileSizeKB ?? 1024) * 1024,
        syntax: this.options.syntax !== undefined,
        pieces: { pattern: this.tokens.tokenizer.piecePattern, known: this.tokens.tokenizer.knownPieces() },
        size: typeof want === 'number' ? want : undefined,
        log: this.options.log,
      });
    } catch (err) {
      this.options.log?.(`index workers unavailable, indexing in-process: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  private async indexText(path: string, text: string, size: number, mtimeMs: number): Promise<void> {
    const prev = this.records.get(path);
    if (prev && prev.hash === hashFileText(text)) {
      prev.mtimeMs = mtimeMs;
      prev.size = size;
      this.dirtySinceSave = true;
      return;
    }
    const record = await indexFileText(path, text, size, mtimeMs, this.tokens, this.chunkOptions, this.options.syntax);
    this.countFrameAhead(record);
    this.textCache.set(path, { mtimeMs, text });
    trimCache(this.textCache, 256);
    this.putRecord(record);
  }

  /** One copy of each identifier string: records from workers and the cache arrive as fresh copies. (A bound function: the chunk store and the cache loader call it.) */
  private readonly intern = (s: string): string => {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size > 2_000_000) this.strings.clear(); // names of long-gone files: start over
    this.strings.set(s, s);
    return s;
  };

  /** One shared copy of each list of imported names (`{ useState, useEffect }` recurs across files); never mutated. */
  private internNames(names: string[]): string[] {
    if (names.length === 0) return NO_IMPORTED_NAMES;
    const key = names.join('\0');
    let known = this.nameLists.get(key);
    if (!known) {
      if (this.nameLists.size > 500_000) this.nameLists.clear(); // lists of long-gone files: start over
      known = Object.freeze(names.map(this.intern)) as string[];
      this.nameLists.set(key, known);
    }
    return known;
  }

  /** `codes`: the chunks' term codes in this index's table, when the chunks come without `uses` (from a worker). */
  private putRecord(rec: FileRecord, codes?: readonly string[]): void {
    // Re-indexing a known file leaves the set of paths, and so every other file's
    // import resolution, unchanged: only this file's edges move.
    const replacing = this.records.has(rec.path);
    this.removeRecord(rec.path);
    // Records from workers arrive as plain objects: kept compact (chunkStore.ts). The cache loader packs them itself.
    const pack = rec instanceof IndexedFile && rec.pack.table === this.terms ? rec.pack : packFileChunks(rec.path, rec.language, rec.chunks, this.terms, this.intern, codes);
    // Specifiers and imported names repeat across files ('react', 'useState'): one copy each.
    const imports = rec.imports.map(({ specifier, names, line }) => ({ specifier: this.intern(specifier), names: this.internNames(names), line }));
    const { path } = rec;
    const stored = new IndexedFile({ path, size: rec.size, mtimeMs: rec.mtimeMs, hash: rec.hash, language: rec.language, imports }, pack);
    this.records.set(path, stored);
    this.tally(stored, 1);
    this.lookup.add(path);
    for (let i = 0; i < pack.count; i++) {
      for (const name of pack.defines(i)) {
        const known = this.definitions.get(name);
        if (!known) this.definitions.set(name, path);
        else if (Array.isArray(known)) {
          // Pushed, not copied at exact size: copies saved ≈2% of the heap but, at 30,000 files, left 130 MB of garbage in the old generation.
          // This file's old names were just forgotten, so it can only be there already, last,
          // from a name two of its chunks define: no scan of a list that a common name grows
          // to thousands of entries (a scan cost 2% of indexing at 100,000 files).
          if (known[known.length - 1] !== path) known.push(path);
        } else if (known !== path) this.definitions.set(name, [known, path]);
      }
    }
    if (!replacing) this.pathsVersion++;
    if (replacing && this.importGraph) this.linkImports(this.importGraph, rec);
    else this.invalidateGraph();
    this.changed(rec.path);
  }

  private dropRecord(path: string): void {
    if (!this.records.has(path)) return;
    this.removeRecord(path);
    this.pathsVersion++;
    this.invalidateGraph(); // a path left: other files' imports may resolve differently
    this.changed(path);
  }

  private removeRecord(path: string): void {
    const rec = this.records.get(path);
    if (!rec) return;
    const { pack } = rec;
    for (let i = 0; i < pack.count; i++) for (const name of pack.defines(i)) this.forgetDefinition(name, path);
    this.tally(rec, -1);
    this.records.delete(path);
    this.lookup.delete(path);
    this.textCache.delete(path);
  }

  private changed(path: string): void {
    this.dirtySinceSave = true;
    this.changes++;
    this.changeLog.push({ version: this.changes, path });
    // Trimmed in batches: moving 4,096 entries on every change was 2% of indexing at 100,000 files.
    if (this.changeLog.length >= 2 * CHANGE_LOG_LIMIT) this.changeLog.splice(0, this.changeLog.length - CHANGE_LOG_LIMIT);
  }

  /** Files whose chunks changed after `version`, or undefined when that is too far back to know. */
  changedSince(version: number): string[] | undefined {
    if (version === this.changes) return [];
    const first = this.changeLog[0];
    if (!first || first.version > version + 1) return undefined;
    const paths = new Set<string>();
    for (const e of this.changeLog) if (e.version > version) paths.add(e.path);
    return [...paths];
  }

  /** (Re)computes one file's outgoing import edges in an existing graph. */
  private linkImports(g: ImportGraph, rec: FileRecord): void {
    const perTarget = new Map<string, string[]>();
    for (const imp of rec.imports) {
      for (const t of resolveImport(rec.path, imp.specifier, rec.language, this.lookup)) {
        if (t === rec.path) continue;
        perTarget.set(t, [...(perTarget.get(t) ?? []), ...imp.names]);
      }
    }
    setLinks(g, rec.path, [...perTarget]);
  }

  private invalidateGraph(): void {
    if (this.importGraph) this.staleGraph = { graph: this.importGraph, at: Date.now(), files: this.records.size };
    this.importGraph = undefined;
  }

  /**
   * Makes the next import-graph lookup cheap without holding the event loop:
   * a due full build (every import of the workspace resolved again — seconds
   * for 100,000 files) runs in slices. While a refresh is adding files, the last
   * graph keeps answering and a fresh one is built behind it at most every
   * STALE_GRAPH_MS. With `answerWhileBuilding`, the last graph answers once
   * the refresh is over too, while the fresh one is built: the returned
   * promise resolves when it is in place (and rejects if a build fails).
   */
  async prepareGraph(opts: { answerWhileBuilding?: boolean } = {}): Promise<{ behind?: Promise<void> }> {
    for (let round = 0; round < 3 && !this.importGraph; round++) {
      if (this.refreshing && this.staleGraph) {
        if (!this.graphBuild && !this.staleGraphFresh()) void this.startGraphBuild();
        return {};
      }
      const build = this.graphBuild ?? this.startGraphBuild();
      if (opts.answerWhileBuilding && this.staleGraph) {
        const behind = build.then(() => this.prepareGraph()).then(() => undefined);
        behind.catch(() => undefined);
        return { behind };
      }
      await build;
    }
    return {};
  }

  /** `saved`: links saved with the cache for this same set of paths, taken as they are instead of resolving every import again. */
  private startGraphBuild(saved?: ReadonlyMap<string, CachedFile>): Promise<void> {
    this.graphBuild = this.buildGraphInSlices(saved).finally(() => (this.graphBuild = undefined));
    this.graphBuild.catch(() => undefined); // some start it without waiting; those who wait see the error
    return this.graphBuild;
  }

  private async buildGraphInSlices(saved?: ReadonlyMap<string, CachedFile>): Promise<void> {
    await nextTurn(); // never inside the caller's turn
    const paths = this.pathsVersion;
    const since = this.changes;
    const g = emptyGraph();
    const breathe = slicer();
    for (const rec of [...this.records.values()]) {
      const links = saved?.get(rec.path)?.links;
      // Saved links keep `in` lists in record order, as linkImports makes them.
      if (links) setLinks(g, rec.path, links);
      else this.linkImports(g, rec);
      await breathe();
    }
    if (this.importGraph) return; // built in the meantime by a synchronous caller
    if (this.pathsVersion === paths) {
      // Same set of paths: files re-indexed meanwhile only need their own edges again.
      for (const path of this.changedSince(since) ?? this.records.keys()) {
        const rec = this.records.get(path);
        if (rec) this.linkImports(g, rec);
      }
      this.importGraph = g;
      this.staleGraph = undefined;
    } else {
      this.staleGraph = { graph: g, at: Date.now(), files: this.records.size };
    }
  }

  /**
   * While a refresh adds files, the last graph serves until it is STALE_GRAPH_MS old
   * and the workspace has grown by half since: each full build resolves every import
   * again (seconds at 100,000 files) and leaves the previous graph as garbage.
   */
  private staleGraphFresh(): boolean {
    const g = this.staleGraph;
    return !!g && (Date.now() - g.at < STALE_GRAPH_MS || this.records.size < 1.5 * g.files);
  }

  private graph(): ImportGraph {
    // While a refresh adds thousands of files, queries use the last graph for a
    // while instead of re-resolving every import of the workspace each time; and
    // while a fresh one is being built in slices, the last one answers, refresh
    // or not. A query whose stage 1 went on after the refresh ended (between two
    // of its slices) otherwise resolved every import at once: an 826 ms turn at
    // 100,000 files (bench:load, a query in flight as indexing ended). Queries
    // wait for the fresh graph in prepareGraph() before they start, unless they
    // asked to answer while it is built.
    if (!this.importGraph && this.staleGraph && (this.graphBuild || (this.refreshing && this.staleGraphFresh()))) return this.staleGraph.graph;
    if (!this.importGraph) {
      const g = emptyGraph();
      for (const rec of this.records.values()) this.linkImports(g, rec);
      this.importGraph = g;
      this.staleGraph = undefined;
    }
    return this.importGraph;
  }

  // ---- IndexView ----

  version(): number {
    return this.changes;
  }

  fileCount(): number {
    return this.records.size;
  }

  files(): Iterable<string> {
    return this.records.keys();
  }

  *allChunks(): Iterable<Chunk> {
    for (const { pack } of this.records.values()) for (let i = 0; i < pack.count; i++) yield pack.view(i);
  }

  chunksOf(path: string): readonly Chunk[] {
    return this.records.get(path)?.pack.views() ?? [];
  }

  record(path: string): IndexedFile | undefined {
    return this.records.get(path);
  }

  definitionsOf(name: string, limit = Infinity): readonly Chunk[] {
    const known = this.definitions.get(name);
    const id = this.terms.names.find(name);
    if (known === undefined || id === undefined) return [];
    const out: Chunk[] = [];
    const places: number[] = [];
    for (const path of typeof known === 'string' ? [known] : known) {
      const pack = this.records.get(path)?.pack;
      if (!pack) continue;
      // Found by the name's number in each file's pack: a query asks this for every identifier near the cursor.
      places.length = 0;
      pack.placesDefining(id, places, limit - out.length);
      for (const i of places) out.push(pack.view(i));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** `path` no longer defines `name` (its record is going); a no-op when it was not listed. */
  private forgetDefinition(name: string, path: string): void {
    const known = this.definitions.get(name);
    if (known === path) this.definitions.delete(name);
    else if (Array.isArray(known)) {
      const at = known.indexOf(path);
      if (at >= 0) known.splice(at, 1);
      if (known.length === 1) this.definitions.set(name, known[0]);
    }
  }

  importsOf(path: string): readonly string[] {
    return this.graph().out.get(path) ?? [];
  }

  importersOf(path: string): readonly string[] {
    return this.graph().in.get(path) ?? [];
  }

  importedNamesOf(path: string): ReadonlyMap<string, readonly string[]> {
    return this.graph().names.get(path) ?? new Map();
  }

  fileText(path: string): string | undefined {
    const overlay = this.overlays.get(path);
    if (overlay !== undefined) return overlay;
    const rec = this.records.get(path);
    const abs = join(this.root, path);
    const cached = this.textCache.get(path);
    if (cached && rec && cached.mtimeMs === rec.mtimeMs) return cached.text;
    try {
      const read = readTextSync(abs);
      if (!read) return undefined;
      const { text, mtimeMs } = read;
      this.textCache.set(path, { mtimeMs, text });
      trimCache(this.textCache, 256);
      return text;
    } catch {
      return undefined;
    }
  }

  chunkText(chunk: Chunk): string {
    return this.lineRange(chunk.path, chunk.startLine, chunk.endLine);
  }

  /** Lines start..end (1-based, inclusive) of a file's current text, '' when unreadable. */
  lineRange(path: string, startLine: number, endLine: number): string {
    const text = this.fileText(path);
    if (text === undefined) return '';
    let cached = this.linesCache.get(path);
    if (!cached || cached.text !== text) {
      cached = { text, lines: splitLines(text) };
      this.linesCache.set(path, cached);
      trimCache(this.linesCache, 64);
    }
    return cached.lines.slice(startLine - 1, endLine).join('\n');
  }

}

/**
 * A file's text decoded as the indexer decodes it (BOM, UTF-16), so chunk line ranges
 * and hashes match what is sliced from it. Undefined for anything but a regular file:
 * a FIFO must not block the (synchronous) caller.
 */
function readTextSync(abs: string): { text: string; mtimeMs: number } | undefined {
  const fd = openSync(abs, fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const bytes = readFileSync(fd);
    // Binary-looking bytes still give the editor's view of them (a cursor can sit in any file).
    return { text: decodeSource(bytes) ?? bytes.toString('utf8'), mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

function trimCache<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const first = map.keys().next().value as K;
    map.delete(first);
  }
}
