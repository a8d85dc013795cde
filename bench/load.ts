// `npm run bench:load`: a generated workspace of 100,000 files / ~1 GB (real
// JS/TS text from node_modules, cut and made unique per file), indexed through
// the engine with worker threads as the extension does. Measures, against the
// targets of issue 7: the event loop's longest stall while indexing (≤ 50 ms),
// how promptly an abort returns with partial results, peak RSS (≤ 1 GB), and
// that queries answer from partial results while indexing goes on.
// Options: --files N --mb M --abort-after S (0 = run to completion) --dir DIR (reuse) --keep
// --no-token-worker (tiktoken's BPE tables on this thread, as the CLI has them)
// --warm (then a second engine starts from the cache the first one wrote)
// --cache DIR (keep the index cache there) --warm-only (with --cache: only the warm start, in this fresh process)
// --workers N (index worker threads; default as the extension) --alloc-prof FILE (a sampled profile of everything this thread allocates while indexing, garbage included: open in DevTools)
// --heap-snapshot FILE (with --warm or --warm-only: a heap snapshot of the warm index after its first query)
// --gc-probe (with --warm or --warm-only, under node --expose-gc: times five full collections of the warm index;
//   a major GC's marking work grows with the objects the heap holds, and on two cores it queues behind the workers)
// --in-process (the engine on this thread, as the CLI runs it; by default it runs in the engine process as in the
//   extension, and this thread only sends calls: its event loop is what the editor would feel)
// --engine-nice N (the engine process's nice value; default the extension's, below normal)
// --engine-flags "FLAGS" (the engine process's V8 flags instead of the extension's)
// Measurements, not a test: nothing here fails a build.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import type { EngineOptions } from '../src/core/engine';
import { workerScriptPath } from '../src/core/assets';
import { emptySignals } from '../src/core/types';
import { ENGINE_PRIORITY, ENGINE_V8_FLAGS, EngineProcessClient } from '../src/extension/engineClient';
import { EngineSession, type EngineClient } from '../src/extension/engineSession';
import { walkSources } from './corpus';

const repoRoot = join(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const FILES = opt('files', 100_000);
const MB = opt('mb', 1000);
const ABORT_AFTER_S = opt('abort-after', 60);
const dirArg = args.includes('--dir') ? args[args.indexOf('--dir') + 1] : undefined;
/** --workers N: index worker threads (default: what the extension uses). */
const WORKERS: number | 'auto' = args.includes('--workers') ? opt('workers', 0) : 'auto';
/** --no-queries: measure the event loop under indexing alone (queries rank on the main thread). */
const QUERIES = !args.includes('--no-queries');
const IN_PROCESS = args.includes('--in-process');
const ENGINE_NICE = opt('engine-nice', ENGINE_PRIORITY);
const ENGINE_FLAGS = args.includes('--engine-flags') ? args[args.indexOf('--engine-flags') + 1].split(/\s+/).filter(Boolean) : ENGINE_V8_FLAGS;
const log = (s: string) => console.log(s);

/**
 * The engine as the bench drives it: the extension's engine process, or with
 * --in-process an EngineSession on this thread; both answer EngineClient's calls.
 */
interface BenchEngine {
  client: EngineClient;
  where: string;
  /** The file queries ask about: the first indexed (in process), or the generator's first file. */
  queryPath(): string | undefined;
  /** Waits for the cache save running behind the refresh (in the engine process: through dispose). */
  flush(): Promise<void>;
  /** The engine process's resident memory now, and its peak so far (bytes; Linux's /proc): none when it runs on this thread. */
  processMemory(): { rss: number; peak: number } | undefined;
  /** The tokenizer's counters (in process only). */
  tokenizerLine(): string | undefined;
  dispose(): Promise<void>;
}

async function openBenchEngine(options: Omit<EngineOptions, 'log'>, engineLog?: string[]): Promise<BenchEngine> {
  const logTo = (m: string) => engineLog?.push(m);
  if (IN_PROCESS) {
    const session = await EngineSession.open({ ...options, log: logTo });
    const { index } = session.engine;
    return {
      client: session,
      where: 'this thread (--in-process)',
      queryPath: () => index.files()[Symbol.iterator]().next().value as string | undefined,
      flush: () => index.flush(),
      tokenizerLine: () => {
        const tok = index.tokens.tokenizer.stats();
        return `tokenizer: ${tok.pieces.toLocaleString('en-US')} pieces remembered, ${tok.pieceMisses.toLocaleString('en-US')} encoded by BPE, ${tok.slowTexts} texts off the fast path; BPE tables built on this thread: ${tok.bpeBuilt}; worker: ${tok.worker ? JSON.stringify(tok.worker) : 'none (--no-token-worker)'}`;
      },
      processMemory: () => undefined,
      dispose: () => session.dispose(),
    };
  }
  const script = workerScriptPath('engineProcess.js');
  if (!script) throw new Error('dist/engineProcess.js is not built: run npm run build (or pass --in-process)');
  const client = await EngineProcessClient.open(script, options, { log: logTo }, { priority: ENGINE_NICE, v8Flags: ENGINE_FLAGS });
  let disposed: Promise<void> | undefined;
  const dispose = () => (disposed ??= client.dispose());
  const pid = client.pid;
  let last: { rss: number; peak: number } | undefined;
  const processMemory = () => (last = (pid !== undefined && procMemory(pid)) || last);
  return { client, where: `the engine process at nice ${ENGINE_NICE}${ENGINE_FLAGS.length ? ` with ${ENGINE_FLAGS.join(' ')}` : ''}, as in the extension`, queryPath: () => 'm0/p0/f0.js', flush: dispose, tokenizerLine: () => undefined, processMemory, dispose };
}

/** A process's resident and peak resident memory in bytes, from /proc (Linux); undefined elsewhere or once it has exited. */
function procMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const m = { rss: kb('VmRSS'), peak: kb('VmHWM') };
    return Number.isFinite(m.rss) && Number.isFinite(m.peak) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** This process's RSS plus the engine process's, sampled together: what the extension costs the machine. */
const totalRss = (engine: BenchEngine) => process.memoryUsage().rss + (engine.processMemory()?.rss ?? 0);

/** A query as the status bar asks it, for `path` at line 5. */
const statusQuery = (engine: BenchEngine, path: string, answerWhileBuilding: boolean) => engine.client.compute({ path, line: 5, column: 0 }, emptySignals(), { budget: 4000, answerWhileBuilding });
const la = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Real source text to cut files from: .js/.ts files of node_modules, up to ~24 MB. */
function sourcePool(): string[] {
  const pool: string[] = [];
  let bytes = 0;
  walkSources(
    join(repoRoot, 'node_modules'),
    (p, n, size) => {
      if (/\.(js|ts)$/.test(n) && !n.endsWith('.min.js') && size > 2000 && size < 200_000) {
        const t = readFileSync(p, 'utf8');
        if (!/^.{1000,}$/m.test(t)) {
          pool.push(t);
          bytes += t.length;
        }
      }
      return bytes <= 24e6;
    },
    { maxDepth: 8 },
  );
  return pool;
}

/** Writes FILES files totalling about MB megabytes; each is unique (no chunk shared by hash). */
function generate(root: string): { files: number; bytes: number; ms: number } {
  const t0 = performance.now();
  const pool = sourcePool();
  const lines = pool.flatMap((t) => t.split('\n'));
  const avg = (MB * 1e6) / FILES;
  let bytes = 0;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, `m${i % 100}`, `p${Math.floor(i / 100) % 100}`);
    if (i < 10_000) mkdirSync(dir, { recursive: true });
    const want = Math.max(200, Math.round(avg * (0.3 + 1.4 * rand())));
    let at = Math.floor(rand() * lines.length);
    const out: string[] = [`// generated file ${i}`];
    let size = 0;
    let k = 0;
    while (size < want) {
      const l = lines[at++ % lines.length];
      out.push(l);
      size += l.length + 1;
      if (++k % 37 === 0) out.push(`// mark ${i}.${k}`);
    }
    const text = out.join('\n');
    writeFileSync(join(dir, `f${i}.${i % 3 === 0 ? 'js' : 'ts'}`), text);
    bytes += text.length;
  }
  return { files: FILES, bytes, ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  log(`load bench: ${FILES} files, ~${MB} MB; ${cpus().length} cores; load average ${la()}`);
  const root = dirArg ?? mkdtempSync(join(tmpdir(), 'cb-load-'));
  if (!existsSync(join(root, 'm0'))) {
    const g = generate(root);
    log(`generated ${g.files} files, ${(g.bytes / 1e6).toFixed(0)} MB in ${(g.ms / 1000).toFixed(1)} s (${root})`);
  } else log(`reusing ${root}`);
  const cacheArg = args.includes('--cache') ? args[args.indexOf('--cache') + 1] : undefined;
  const cacheDir = cacheArg ?? mkdtempSync(join(tmpdir(), 'cb-load-cache-'));
  if (args.includes('--warm-only')) {
    await warmStart(root, cacheDir);
    return;
  }

  /** What the engine logs (the extension's output channel): printed at the end. */
  const engineLog: string[] = [];
  const engine = await openBenchEngine({ root, index: { cacheDir, workers: WORKERS, tokenWorker: !args.includes('--no-token-worker') }, ranker: { device: 'cpu' } }, engineLog);
  log(`engine on ${engine.where}`);
  let peakRss = totalRss(engine);
  let hostPeakRss = process.memoryUsage().rss;
  /** When the peak came (s since the refresh began), with this thread's heap and external memory then: the rest of RSS is worker threads, native code and allocator slack. */
  let peakAt = { s: 0, heap: 0, external: 0, workersBusy: false };
  // (Set once the refresh starts; the timer runs from before.)
  let refreshStart = performance.now();
  let indexing = false;
  const rssTimer = setInterval(() => {
    const m = process.memoryUsage();
    const rss = m.rss + (engine.processMemory()?.rss ?? 0);
    hostPeakRss = Math.max(hostPeakRss, m.rss);
    if (rss > peakRss) {
      peakRss = rss;
      peakAt = { s: (performance.now() - refreshStart) / 1000, heap: m.heapUsed, external: m.external, workersBusy: indexing };
    }
  }, 100);
  const h = monitorEventLoopDelay({ resolution: 5 });
  // A second, independent stall probe; times from the refresh's start, to match against a --cpu-prof profile.
  const ticks = timerGaps(() => started);
  // When monitorEventLoopDelay's maximum was set (checked every 100 ms), to find it in a profile.
  let eldMax = 0;
  let eldMaxAt = 0;
  const eldTimer = setInterval(() => {
    if (h.max > eldMax) {
      eldMax = h.max;
      eldMaxAt = (performance.now() - started) / 1000;
    }
  }, 100);
  // Garbage-collection pauses on this thread (the atomic part; incremental marking runs inside JS slices).
  const gcPauses: Array<{ at: number; ms: number; kind: number }> = [];
  /** Every collection on this thread by kind: how many, and their pauses summed (ms). */
  const gcByKind = new Map<number, { n: number; ms: number }>();
  /** Major collections: from the start of marking (an incremental-marking entry) to the end of its mark-compact pause, ms; concurrent marking runs on V8's helper threads in between. */
  const markingSpans: Array<{ at: number; ms: number }> = [];
  let markingSince: number | undefined;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) markingSince ??= e.startTime;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR && markingSince !== undefined) {
        markingSpans.push({ at: (markingSince - started) / 1000, ms: e.startTime + e.duration - markingSince });
        markingSince = undefined;
      }
      const k = gcByKind.get(kind) ?? { n: 0, ms: 0 };
      gcByKind.set(kind, { n: k.n + 1, ms: k.ms + e.duration });
      if (e.duration > 5) gcPauses.push({ at: (e.startTime + performance.timeOrigin - (performance.timeOrigin + started)) / 1000, ms: e.duration, kind });
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const abort = new AbortController();
  let lastProgress = { phase: '', done: 0, total: 0 };
  const queryTimes: number[] = [];
  const queryAnswers: string[] = [];
  const started = performance.now();
  refreshStart = started;
  indexing = true;
  /** The monotonic clock a --cpu-prof profile's timestamps use (µs), at `started`. */
  const startedMonoUs = Number(process.hrtime.bigint() / 1000n);
  const timesAtStart = threadTimes();
  h.enable();
  const allocSession = args.includes('--alloc-prof') ? new Session() : undefined;
  if (allocSession) {
    allocSession.connect();
    allocSession.post('HeapProfiler.startSampling', { samplingInterval: 256 * 1024, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true } as object);
  }
  const refreshing = engine.client.refresh({ signal: abort.signal, onProgress: (p) => (lastProgress = p) });
  let finished = false;
  let returnedAt = 0;
  let scanDoneAt = 0;
  const done = () => {
    finished = true;
    indexing = false;
    returnedAt = performance.now();
  };
  void refreshing.then(done, done);
  let abortedAt: number | undefined;
  // Queries from partial results while indexing goes on (what the status bar does).
  while (!finished) {
    for (let k = 0; k < 20 && !finished; k++) {
      await new Promise((r) => setTimeout(r, 100));
      if (!scanDoneAt && lastProgress.phase !== 'scan' && lastProgress.phase !== '') scanDoneAt = performance.now();
    }
    if (finished) break;
    const first = engine.queryPath();
    if (first && QUERIES) {
      const t = performance.now();
      try {
        const { report } = await statusQuery(engine, first, true);
        queryTimes.push(performance.now() - t);
        queryAnswers.push(`${report.totals.indexedFiles} files indexed → ${report.items.length} candidates, ${report.totals.promptTokens} prompt tokens in ${(performance.now() - t).toFixed(0)} ms`);
      } catch (err) {
        queryAnswers.push(`query failed: ${(err as Error).message}`);
      }
    }
    if (ABORT_AFTER_S > 0 && abortedAt === undefined && performance.now() - started > ABORT_AFTER_S * 1000) {
      abortedAt = performance.now();
      abort.abort();
    }
  }
  const stats = await refreshing;
  const returned = returnedAt;
  /** The event loop delay maximum until the refresh returned: indexing alone, before the queries after it, the save and the engine's exit. */
  const eldWhileIndexing = h.max;
  const timesAtEnd = threadTimes();
  // What the status bar does as indexing ends: a query at once (from the last BM25 index and
  // import graph while fresh ones are built), then again when they are in place.
  const afterIndexing = QUERIES ? await queriesAfterIndexing(engine) : [];
  // The cache is written behind the refresh: keep measuring until it is on disk.
  const engineRssAtEnd = engine.processMemory()?.rss;
  const flushStart = performance.now();
  await engine.flush();
  const savedAt = performance.now();
  h.disable();
  ticks.stop();
  if (allocSession) {
    await new Promise<void>((resolve) =>
      allocSession.post('HeapProfiler.stopSampling', (err, res) => {
        if (!err) writeFileSync(args[args.indexOf('--alloc-prof') + 1], JSON.stringify((res as { profile: unknown }).profile));
        resolve();
      }),
    );
  }
  clearInterval(rssTimer);
  clearInterval(eldTimer);
  gcObserver.disconnect();
  peakRss = Math.max(peakRss, totalRss(engine));
  const engineMemory = engine.processMemory();
  log(`indexing: ${stats.complete ? 'complete' : 'aborted'} after ${((returned - started) / 1000).toFixed(1)} s; phase ${lastProgress.phase} ${lastProgress.done}/${lastProgress.total}`);
  log(`  index: ${stats.files} files, ${stats.chunks} chunks, ${stats.tokens.toLocaleString('en-US')} tokens, ${(stats.bytes / 1e6).toFixed(0)} MB; skipped ${JSON.stringify(stats.skipped)}`);
  log(`  cache written ${((savedAt - returned) / 1000).toFixed(1)} s after the refresh returned (measured below too)`);
  if (timesAtStart && timesAtEnd) log(`  this thread while indexing: ${((timesAtEnd.cpuNs - timesAtStart.cpuNs) / 1e9).toFixed(1)} s on a CPU, ${((timesAtEnd.queuedNs - timesAtStart.queuedNs) / 1e9).toFixed(1)} s queued for one`);
  if (scanDoneAt) log(`  scan (100,000-file walk) done after ${((scanDoneAt - started) / 1000).toFixed(1)} s`);
  if (abortedAt !== undefined) log(`  abort → refresh returned in ${(returned - abortedAt).toFixed(0)} ms (partial: ${stats.files} files)`);
  log(`  event loop (monitorEventLoopDelay): max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, mean ${(h.mean / 1e6).toFixed(1)} ms; the max seen by ${eldMaxAt.toFixed(1)} s; while indexing (until the refresh returned) max ${(eldWhileIndexing / 1e6).toFixed(1)} ms  [target: max ≤ 50 ms]`);
  const maxGap = ticks.gaps.reduce((m, g) => Math.max(m, g.ms), 0);
  // The timer probe's longest gap in the 1.5 s before the maximum above was seen (it is checked every 100 ms):
  // the two probes see one stall alike, give or take their periods (5 and 10 ms).
  const nearMax = ticks.gaps.filter((g) => g.at > eldMaxAt - 1.5 && g.at <= eldMaxAt).sort((a, b) => b.ms - a.ms)[0];
  if (nearMax) log(`    the timer probe's longest gap in the 1.5 s before: ${describeGap(nearMax)}`);
  const longGaps = ticks.gaps.filter((g) => g.ms > 30);
  for (const g of longGaps) g.marking = markingSpans.some((m) => g.at < m.at + m.ms / 1000 && m.at < g.at + (g.ms + 10) / 1000);
  log(`  event loop (10 ms timer gaps, times from the refresh's start, monotonic ${startedMonoUs} µs): longest extra delay ${maxGap.toFixed(1)} ms; ${longGaps.filter((g) => g.ms > 50).length} over 50 ms, ${longGaps.length} over 30 ms${longGaps.length ? `, longest: ${[...longGaps].sort((a, b) => b.ms - a.ms).slice(0, 12).map(describeGap).join(', ')}` : ''}`);
  const gcKinds: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks' };
  log(`  GC on this thread: ${[...gcByKind].map(([kind, k]) => `${k.n} ${gcKinds[kind] ?? kind} (${(k.ms / 1000).toFixed(1)} s)`).join(', ')}`);
  const spans = markingSpans.map((m) => m.ms).sort((a, b) => a - b);
  if (spans.length) log(`  major GC cycles on this thread: ${spans.length}, marking to the end of the pause: median ${spans[spans.length >> 1].toFixed(0)} ms, longest ${spans[spans.length - 1].toFixed(0)} ms, ${(spans.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s in all`);
  log(`  GC pauses over 5 ms on this thread: ${gcPauses.length}${gcPauses.length ? `, longest: ${[...gcPauses].sort((a, b) => b.ms - a.ms).slice(0, 6).map((g) => `${g.ms.toFixed(0)} ms ${gcKinds[g.kind] ?? g.kind} at ${g.at.toFixed(2)} s`).join(', ')}` : ''}`);
  const mu = process.memoryUsage();
  log(`  at the end: RSS ${(mu.rss / 2 ** 20).toFixed(0)} MiB, JS heap ${(mu.heapUsed / 2 ** 20).toFixed(0)} MiB, external+WASM ${((mu.external + mu.arrayBuffers) / 2 ** 20).toFixed(0)} MiB`);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  if (engineMemory) {
    log(`  peak RSS, this process and the engine process sampled together every 100 ms: ${mib(peakRss)}  [target ≤ 1024 MiB]`);
    log(`    apart: this process ${mib(hostPeakRss)} (maxRSS ${mib(process.resourceUsage().maxRSS * 1024)}), the engine process ${mib(engineMemory.peak)} (its VmHWM); their sum ${mib(process.resourceUsage().maxRSS * 1024 + engineMemory.peak)} bounds the total`);
  } else log(`  peak RSS ${mib(peakRss)} (process.resourceUsage maxRSS ${mib(process.resourceUsage().maxRSS * 1024)})  [target ≤ 1024 MiB]`);
  log(`    at ${peakAt.s.toFixed(1)} s (${peakAt.workersBusy ? 'while indexing' : 'after the refresh'}): this thread's JS heap ${(peakAt.heap / 2 ** 20).toFixed(0)} MiB, external ${(peakAt.external / 2 ** 20).toFixed(0)} MiB`);
  if (engineRssAtEnd) {
    // The engine's process ends with the save (flush is its dispose). On this 2-core VM, any process that
    // exits holding hundreds of MiB stalls the others for tens of ms: a plain one of the same size is the baseline.
    const inSave = ticks.gaps.filter((g) => g.at >= (flushStart - started) / 1000).reduce((m, g) => Math.max(m, g.ms), 0);
    const plain = await exitBaseline(Math.round(engineRssAtEnd / 2 ** 20));
    log(`  the engine's save and exit (${mib(engineRssAtEnd)}): longest timer gap ${inSave.toFixed(1)} ms; baseline, a plain process holding as much exiting: ${plain.toFixed(1)} ms`);
  }
  const tokLine = engine.tokenizerLine();
  if (tokLine) log(`  ${tokLine}`);
  log(`  queries during indexing: ${queryTimes.length}, median ${(queryTimes.sort((a, b) => a - b)[Math.floor(queryTimes.length / 2)] ?? 0).toFixed(0)} ms, max ${Math.max(0, ...queryTimes).toFixed(0)} ms`);
  for (const q of args.includes("--all-queries") ? queryAnswers : queryAnswers.slice(0, 3).concat(queryAnswers.length > 3 ? ["…", queryAnswers[queryAnswers.length - 1]] : [])) log(`    ${q}`);
  for (const line of afterIndexing) log(`  ${line}`);
  for (const m of engineLog.slice(0, 10)) log(`  engine log: ${m}`);
  log(`load average at the end ${la()}`);
  await engine.dispose();
  if (args.includes('--warm')) await warmStart(root, cacheDir);
  if (!cacheArg) rmSync(cacheDir, { recursive: true, force: true });
  if (!dirArg && !args.includes('--keep')) rmSync(root, { recursive: true, force: true });
}

/** A gap, and where the main thread's time went during it (Linux; see threadTimes). */
interface Gap {
  at: number;
  ms: number;
  /** ms on a CPU, ms runnable but waiting for one, ms stolen by the hypervisor (all CPUs). */
  cpu?: number;
  queued?: number;
  steal?: number;
  /** It overlaps a major GC of this thread's heap (marking on V8's helper threads, or the pause). */
  marking?: boolean;
}

/**
 * This thread's CPU time and run-queue wait (ns) from /proc/thread-self/schedstat,
 * and the machine's steal time (ms) from /proc/stat. Read on every 10 ms tick
 * (≈30 µs), so a long gap says whether the thread was working (JS, GC, native
 * code), runnable but not scheduled (other threads on the 2 cores, or the
 * hypervisor), or blocked (a lock, a page fault on I/O).
 */
function threadTimes(): { cpuNs: number; queuedNs: number; stealMs: number } | undefined {
  try {
    // Read every 10 ms on the thread being measured: files kept open and read from
    // their start into one buffer (opening and reading them whole cost ≈3 s of this
    // thread's CPU in a 100,000-file run).
    procFiles ??= { schedstat: openSync('/proc/thread-self/schedstat', 'r'), stat: openSync('/proc/stat', 'r'), buf: Buffer.alloc(256) };
    const { schedstat, stat, buf } = procFiles;
    const [cpuNs, queuedNs] = buf.toString('latin1', 0, readSync(schedstat, buf, 0, buf.length, 0)).split(' ').map(Number);
    const cpuLine = buf.toString('latin1', 0, readSync(stat, buf, 0, buf.length, 0)).split('\n', 1)[0].trim().split(/\s+/);
    return { cpuNs, queuedNs, stealMs: Number(cpuLine[8]) * 10 };
  } catch {
    return undefined;
  }
}
let procFiles: { schedstat: number; stat: number; buf: Buffer } | undefined;

function describeGap(g: Gap): string {
  const where = g.cpu === undefined ? '' : ` (on CPU ${g.cpu.toFixed(0)}, queued ${g.queued!.toFixed(0)}, asleep ${Math.max(0, g.ms + 10 - g.cpu - g.queued!).toFixed(0)}, steal ${g.steal!.toFixed(0)}${g.marking ? ', in a major GC' : ''})`;
  return `${g.ms.toFixed(0)} ms at ${g.at.toFixed(2)} s${where}`;
}

/** Every gap between 10 ms timer ticks beyond the 10 ms, with when it began (s from `origin()`): a stall probe independent of monitorEventLoopDelay. */
function timerGaps(origin: () => number): { gaps: Gap[]; stop(): void } {
  let lastTick = performance.now();
  let last = threadTimes();
  const gaps: Gap[] = [];
  const timer = setInterval(() => {
    const now = performance.now();
    const times = threadTimes();
    const gap: Gap = { at: (lastTick - origin()) / 1000, ms: now - lastTick - 10 };
    if (times && last) {
      gap.cpu = (times.cpuNs - last.cpuNs) / 1e6;
      gap.queued = (times.queuedNs - last.queuedNs) / 1e6;
      gap.steal = times.stealMs - last.stealMs;
    }
    gaps.push(gap);
    lastTick = now;
    last = times;
  }, 10);
  return { gaps, stop: () => clearInterval(timer) };
}

/** Queries as the refresh returns, as the status bar asks them (answerWhileBuilding, then again once current). */
async function queriesAfterIndexing(engine: BenchEngine): Promise<string[]> {
  const first = engine.queryPath();
  if (!first) return [];
  const ask = async () => {
    const t = performance.now();
    const c = await statusQuery(engine, first, true);
    return { c, ms: performance.now() - t };
  };
  const out: string[] = [];
  const a = await ask();
  out.push(`first query after indexing: ${a.ms.toFixed(0)} ms, ${a.c.behind ? 'from the last index while a fresh one is built' : 'from a current index'}; ${a.c.report.totals.promptTokens} prompt tokens`);
  if (a.c.behind) {
    const t = performance.now();
    await a.c.behind;
    const b = await ask();
    out.push(`  fresh index in place ${((performance.now() - t - b.ms) / 1000).toFixed(1)} s later; the query asked again: ${b.ms.toFixed(0)} ms${b.c.behind ? ' (behind again)' : ''}, ${b.c.report.totals.promptTokens} prompt tokens`);
  }
  return out;
}

/** --warm: a second engine on the cache the first one wrote, as when the editor opens the workspace again. */
async function warmStart(root: string, cacheDir: string): Promise<void> {
  const engine = await openBenchEngine({ root, index: { cacheDir, workers: WORKERS, tokenWorker: !args.includes('--no-token-worker') }, ranker: { device: 'cpu' } });
  log(`warm start: engine on ${engine.where}`);
  let peak = totalRss(engine);
  const rssTimer = setInterval(() => (peak = Math.max(peak, totalRss(engine))), 100);
  const h = monitorEventLoopDelay({ resolution: 5 });
  const t = performance.now();
  const ticks = timerGaps(() => t);
  const gaps = ticks.gaps;
  h.enable();
  log(`warm start: monotonic ${Number(process.hrtime.bigint() / 1000n)} µs at the refresh's start`);
  const stats = await engine.client.refresh();
  const refreshMs = performance.now() - t;
  const first = engine.queryPath()!;
  const q = performance.now();
  const { report } = await statusQuery(engine, first, false);
  const queryMs = performance.now() - q;
  if (IN_PROCESS) await engine.flush();
  h.disable();
  // A heap snapshot (after the first query: BM25 built), to see what this thread's heap holds: the warm index with --in-process.
  if (args.includes('--heap-snapshot')) log(`  heap snapshot: ${writeHeapSnapshot(args[args.indexOf('--heap-snapshot') + 1])}`);
  ticks.stop();
  if (args.includes('--gc-probe')) gcProbe();
  clearInterval(rssTimer);
  const sorted = [...gaps].sort((a, b) => b.ms - a.ms);
  log(`warm start: ${stats.files} files in ${(refreshMs / 1000).toFixed(1)} s (${stats.filesFromCache} from the cache, ${stats.filesRead} read); first query ${queryMs.toFixed(0)} ms, ${report.totals.promptTokens} prompt tokens`);
  log(`  event loop: monitorEventLoopDelay max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms; 10 ms timer gaps: ${gaps.filter((g) => g.ms > 50).length} over 50 ms, longest ${sorted.slice(0, 8).map(describeGap).join(', ')}  [target: max ≤ 50 ms]`);
  const engineMemory = engine.processMemory();
  log(`  peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB${engineMemory ? ` (this process and the engine process sampled together; the engine process's VmHWM ${(engineMemory.peak / 2 ** 20).toFixed(0)} MiB)` : ''}${args.includes('--warm-only') || engineMemory ? '' : ' (this process held the cold index until just before: run --warm-only --cache DIR for a fresh one)'}`);
  await engine.dispose();
}

/** --gc-probe: full, stop-the-world collections of what the warm index holds (the work a major GC must do, with no worker competing). */
function gcProbe(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    log('  gc probe: run node with --expose-gc');
    return;
  }
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    gc();
    times.push(performance.now() - t);
  }
  const { heapUsed, external, arrayBuffers } = process.memoryUsage();
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  log(`  gc probe: full GC of the warm heap (${mib(heapUsed)} used; external ${mib(external)}, of which array buffers ${mib(arrayBuffers)}) ${times.map((t) => t.toFixed(0)).join(', ')} ms; median ${[...times].sort((a, b) => a - b)[2].toFixed(0)} ms`);
}

/**
 * This thread's longest timer gap (the same 10 ms probe as the run's) while a
 * plain child process holding `mib` MiB exits.
 */
async function exitBaseline(mib: number): Promise<number> {
  const child = fork(__filename, ['--exit-baseline-child', String(mib)], { execArgv: [] });
  await once(child, 'message');
  const ticks = timerGaps(() => 0);
  const exited = once(child, 'exit');
  child.disconnect();
  await exited;
  await new Promise((r) => setTimeout(r, 200));
  ticks.stop();
  return ticks.gaps.reduce((m, g) => Math.max(m, g.ms), 0);
}

/** The child of exitBaseline: fills `mib` MiB, says so, and exits when its parent lets go. */
function exitBaselineChild(mib: number): void {
  const held: Buffer[] = [];
  for (let i = 0; i < mib; i++) held.push(Buffer.alloc(2 ** 20, i & 255));
  process.on('disconnect', () => process.exit(0));
  process.send!('filled');
}

if (args[0] === '--exit-baseline-child') exitBaselineChild(Number(args[1]));
else {
  void main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
