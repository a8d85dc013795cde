// tiktoken's BPE in a worker thread (bpeService.ts): the same counts and
// encodings as on this thread, synchronously and not; a crashed worker replaced
// with its requests answered; a hung or broken one given up for this thread's
// encoder, said once. Needs dist/bpeWorker.js (npm test builds it).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assetPath } from '../../src/core/assets';
import { WorkspaceIndex } from '../../src/core/index/workspaceIndex';
import { LocalBpe, loadWasm, readEncoderData } from '../../src/core/tokens/bpe';
import { BpeService } from '../../src/core/tokens/bpeService';
import { loadTokenizer } from '../../src/core/tokens/tokenizer';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

let script: string | undefined;
try {
  script = assetPath('bpeWorker.js');
} catch {
  script = undefined;
}
const skip = !script && 'dist/bpeWorker.js not built (npm test builds it)';

const TEXTS = [
  'export function applyDiscount(price: number, rate = 0.15): number {\n  return Math.round(price * (1 - rate) * 100) / 100;\n}\n',
  'const 日本語 = "混合テキスト"; // émigré naïve café 🚀\r\n',
  '\t\tif (x_y_z === undefined) throw new TypeError(`bad ${x}`);\n\n\n',
  'a'.repeat(700) + ' ' + '=-'.repeat(300),
];

let reference: LocalBpe;
const dirs: string[] = [];
before(async () => {
  await loadWasm();
  reference = new LocalBpe(readEncoderData('o200k_base'));
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function service(opts: { script?: string; syncTimeoutMs?: number; logs?: string[] } = {}) {
  const local = new LocalBpe(readEncoderData('o200k_base'));
  const svc = new BpeService({ script: opts.script ?? script!, encoding: 'o200k_base', syncTimeoutMs: opts.syncTimeoutMs, log: (m) => opts.logs?.push(m) }, local);
  return { svc, local };
}

/** A worker script that never answers, or one that reports it cannot build its tables. */
function fakeWorker(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-bpe-'));
  dirs.push(dir);
  const file = join(dir, 'worker.js');
  writeFileSync(file, body);
  return file;
}

describe('BPE worker', { skip }, () => {
  it('counts, encodes and decodes as this thread does, blocking and not, without building tables here', async () => {
    const logs: string[] = [];
    const { svc, local } = service({ logs });
    try {
      assert.equal(await svc.ready, true);
      assert.match(logs.join('\n'), /o200k_base BPE tables built in a worker thread in \d+ ms/);
      const want = reference.countEach(TEXTS);
      assert.deepEqual(svc.countEach(TEXTS), want);
      assert.deepEqual(await svc.countEachAsync(TEXTS), want);
      for (const t of TEXTS) {
        const tokens = svc.encode(t);
        assert.deepEqual([...tokens], [...reference.encode(t)]);
        assert.deepEqual([...(await svc.encodeAsync(t))], [...tokens]);
        assert.equal(svc.decode(tokens), t);
        assert.equal(await svc.decodeAsync(tokens), t);
      }
      assert.equal(local.built, false, 'the tables were built on this thread');
      assert.equal(svc.localAnswers, 0);
      assert.ok(svc.syncCalls >= 9 && svc.asyncCalls >= 9);
    } finally {
      await svc.close();
    }
  });

  it('leaves the worker thread at normal CPU priority (Linux: a lowered one starved holding locks the editor\'s thread waits on)', { skip: process.platform !== 'linux' && 'per-thread priority is Linux only' }, async () => {
    const { svc } = service();
    try {
      await svc.ready;
      const nice = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]);
      const tids = readdirSync('/proc/self/task');
      assert.ok(tids.length > 1, 'the worker thread is running');
      assert.deepEqual(tids.filter((t) => nice(t) !== 0), [], 'every thread of this process at nice 0');
    } finally {
      await svc.close();
    }
  });

  it('a crashed worker is replaced; requests in flight and later ones are answered', async () => {
    const logs: string[] = [];
    const { svc } = service({ logs });
    try {
      await svc.ready;
      svc.crashWorker();
      const inFlight = svc.countEachAsync(TEXTS); // queued behind the crash: sent again to the new worker
      assert.deepEqual(await inFlight, reference.countEach(TEXTS));
      assert.equal(svc.restarts, 1);
      assert.match(logs.join('\n'), /tokenizer worker exited \(code 3\); restarting it and resending 1 request/);
      // A blocking call right after a crash: answered here or by the new worker, never lost, never wrong.
      svc.crashWorker();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(svc.countEach(TEXTS), reference.countEach(TEXTS));
      assert.equal(svc.usingWorker, true);
    } finally {
      await svc.close();
    }
  });

  it('after repeated crashes it gives up, says so once, and counts on this thread', async () => {
    const logs: string[] = [];
    const { svc, local } = service({ logs });
    try {
      await svc.ready;
      for (let i = 0; i <= 3; i++) {
        svc.crashWorker();
        assert.deepEqual(await svc.countEachAsync(TEXTS.slice(0, 1)), reference.countEach(TEXTS.slice(0, 1)));
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(svc.usingWorker, false);
      assert.equal(logs.filter((l) => /counting new pieces on the extension host's thread/.test(l)).length, 1, logs.join('\n'));
      assert.deepEqual(svc.countEach(TEXTS), reference.countEach(TEXTS));
      assert.equal(local.built, true);
    } finally {
      await svc.close();
    }
  });

  it('a worker that never answers: a blocking call times out, is answered here, and the worker is replaced', async () => {
    const logs: string[] = [];
    const { svc } = service({ script: fakeWorker('setInterval(() => {}, 1000);\n'), syncTimeoutMs: 150, logs });
    try {
      const t = performance.now();
      assert.deepEqual(svc.countEach(TEXTS), reference.countEach(TEXTS));
      assert.ok(performance.now() - t < 5000);
      assert.equal(svc.localAnswers, 1);
      assert.match(logs.join('\n'), /did not answer within 150 ms; replacing it/);
    } finally {
      await svc.close();
    }
  });

  it('a worker that cannot build its tables: ready says false, counting stays here', async () => {
    const logs: string[] = [];
    const { svc } = service({
      script: fakeWorker("require('node:worker_threads').parentPort.postMessage({ id: -1, error: 'encoders/o200k_base.json: unexpected end of JSON' });\n"),
      logs,
    });
    try {
      assert.equal(await svc.ready, false);
      assert.equal(svc.usingWorker, false);
      assert.deepEqual(await svc.countEachAsync(TEXTS), reference.countEach(TEXTS));
      assert.match(logs.join('\n'), /could not build its tables \(encoders\/o200k_base\.json: unexpected end of JSON\)/);
    } finally {
      await svc.close();
    }
  });
});

describe('tokenizer and index with the BPE worker', { skip }, () => {
  it('the tokenizer counts exactly with its tables in the worker, and builds none here', async () => {
    const tok = await loadTokenizer('o200k_base');
    assert.equal(await tok.useWorker(), true);
    const texts = [...TEXTS, ...TEXTS.map((t) => t.toUpperCase()), 'zq'.repeat(40)];
    for (const t of texts) assert.equal(tok.count(t), reference.encode(t).length, JSON.stringify(t.slice(0, 40)));
    const fresh = texts.map((t) => `${t}\nlet fresh_${t.length}_identifierXyz = 1;\n`);
    assert.deepEqual(
      await tok.countMany(fresh),
      fresh.map((t) => reference.encode(t).length),
    );
    const s = tok.stats();
    assert.equal(s.bpeBuilt, false);
    assert.ok(s.worker?.running && s.worker.syncCalls > 0 && s.worker.asyncCalls > 0 && s.worker.localAnswers === 0, JSON.stringify(s.worker));
  });

  it('an index built through index workers and the BPE worker equals one built in-process', async () => {
    const w = makeWorkspace(SAMPLE_PROJECT);
    try {
      const inProcess = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 0 });
      const threaded = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 2, tokenWorker: true });
      const dump = (i: WorkspaceIndex) => [...i.files()].sort().map((f) => [f, JSON.parse(JSON.stringify(i.chunksOf(f)))]);
      assert.deepEqual(dump(threaded), dump(inProcess));
      assert.equal(threaded.stats().tokens, inProcess.stats().tokens);
    } finally {
      w.cleanup();
    }
  });
});
