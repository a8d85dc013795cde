// The host/webview protocol: validators for messages from the webview, the
// host-message check, JSON-safety of PanelState, and path containment.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  emptyPanelState,
  isHostMessage,
  isInsideRoot,
  isWebviewMessage,
  LIMITS,
  parseWebviewMessage,
  resolveInsideRoot,
} from '../../src/shared/protocol';
import type { WebviewToHost } from '../../src/shared/protocol';
import { indexingState, sampleState } from '../../webview/dev/sampleState';

const fuzzRuns = (base: number): number => Number(process.env.CONTEXT_BUDGET_FUZZ_RUNS ?? base);

const valid: WebviewToHost[] = [
  { type: 'ready' },
  { type: 'reveal', path: 'src/a.ts', startLine: 1, endLine: 10 },
  { type: 'reveal', path: 'src/a.ts', startLine: 7, endLine: 7 },
  { type: 'togglePin', id: 'src/a.ts#1-10' },
  { type: 'toggleExclude', id: 'src/a.ts#1-10' },
  { type: 'toggleExcludeFile', path: 'src/a.ts' },
  { type: 'setBudget', tokens: 8192 },
  { type: 'selectModel', id: 'llama-3.1-8b' },
  { type: 'selectHardware', id: 'h100-sxm' },
  { type: 'copyPrompt', format: 'markdown' },
  { type: 'copyPrompt', format: 'xml' },
  { type: 'recompute' },
];

describe('parseWebviewMessage', () => {
  it('accepts every message type with the right shape and returns an equal, fresh object', () => {
    for (const m of valid) {
      const r = parseWebviewMessage(JSON.parse(JSON.stringify(m)));
      assert.ok(r.ok, `${m.type}: ${r.ok ? '' : r.error}`);
      assert.deepEqual(r.msg, m);
      assert.ok(isWebviewMessage(m));
    }
  });

  it('rejects non-objects and unknown types', () => {
    for (const raw of [null, undefined, 1, 'ready', [], [{ type: 'ready' }], {}, { type: 'Ready' }, { type: 'eval' }, { type: '__proto__' }, { type: 'toString' }, { type: 42 }]) {
      const r = parseWebviewMessage(raw);
      assert.equal(r.ok, false, JSON.stringify(raw) ?? String(raw));
    }
  });

  it('rejects missing fields, extra fields and wrong types', () => {
    const bad: unknown[] = [
      { type: 'reveal', path: 'a.ts', startLine: 1 },
      { type: 'reveal', path: 'a.ts', startLine: 1, endLine: 2, extra: true },
      { type: 'ready', x: 1 },
      { type: 'reveal', path: 1, startLine: 1, endLine: 2 },
      { type: 'reveal', path: 'a.ts', startLine: '1', endLine: 2 },
      { type: 'togglePin', id: ['a'] },
      { type: 'togglePin' },
      { type: 'toggleExcludeFile', id: 'a.ts' },
      { type: 'setBudget', tokens: '8192' },
      { type: 'copyPrompt', format: 'html' },
      { type: 'copyPrompt', format: 'MARKDOWN' },
      { type: 'selectModel', id: { toString: () => 'x' } },
    ];
    for (const raw of bad) assert.equal(parseWebviewMessage(raw).ok, false, JSON.stringify(raw));
  });

  it('rejects non-finite, fractional, negative, zero and huge numbers', () => {
    for (const n of [NaN, Infinity, -Infinity, 1.5, -1, 0, LIMITS.line + 1, Number.MAX_SAFE_INTEGER]) {
      assert.equal(parseWebviewMessage({ type: 'reveal', path: 'a.ts', startLine: n, endLine: 5 }).ok, false, `startLine ${n}`);
    }
    for (const n of [NaN, Infinity, 0.5, -8192, 0, LIMITS.budgetTokens + 1]) {
      assert.equal(parseWebviewMessage({ type: 'setBudget', tokens: n }).ok, false, `tokens ${n}`);
    }
  });

  it('rejects reversed line ranges', () => {
    assert.equal(parseWebviewMessage({ type: 'reveal', path: 'a.ts', startLine: 10, endLine: 9 }).ok, false);
  });

  it('rejects empty, over-long and control-character strings', () => {
    assert.equal(parseWebviewMessage({ type: 'toggleExcludeFile', path: '' }).ok, false);
    assert.equal(parseWebviewMessage({ type: 'toggleExcludeFile', path: 'a'.repeat(LIMITS.path + 1) }).ok, false);
    assert.ok(parseWebviewMessage({ type: 'toggleExcludeFile', path: 'a'.repeat(LIMITS.path) }).ok);
    assert.equal(parseWebviewMessage({ type: 'selectModel', id: 'm'.repeat(LIMITS.choiceId + 1) }).ok, false);
    assert.equal(parseWebviewMessage({ type: 'togglePin', id: 'a\u0000b' }).ok, false);
    assert.equal(parseWebviewMessage({ type: 'reveal', path: 'a\nb.ts', startLine: 1, endLine: 1 }).ok, false);
  });

  it('does not copy unexpected prototype properties into the result', () => {
    const raw = Object.create({ injected: true }) as Record<string, unknown>;
    raw.type = 'recompute';
    const r = parseWebviewMessage(raw);
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.msg), ['type']);
  });

  it('never throws and only accepts well-formed messages (fuzz)', () => {
    const types = [...valid.map((v) => v.type), 'nope', ''];
    const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.constantFrom('markdown', 'xml', 'src/a.ts'), fc.array(fc.integer(), { maxLength: 2 }));
    const arb = fc.record(
      { type: fc.constantFrom(...types), path: value, id: value, startLine: value, endLine: value, tokens: value, format: value, other: value },
      { requiredKeys: ['type'] },
    );
    fc.assert(
      fc.property(arb, (raw) => {
        const r = parseWebviewMessage(raw);
        if (!r.ok) return true;
        // Anything accepted has exactly the fields its type declares, with sane values.
        const m = r.msg as unknown as Record<string, unknown>;
        for (const [k, v] of Object.entries(m)) {
          if (typeof v === 'number') assert.ok(Number.isInteger(v) && v > 0, `${k}=${v}`);
          if (typeof v === 'string' && k !== 'type') assert.ok(v.length > 0 && v.length <= LIMITS.chunkId);
        }
        assert.ok(!('other' in m));
        return true;
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});

describe('isHostMessage', () => {
  it('accepts state and copied messages, rejects the rest', () => {
    assert.ok(isHostMessage({ type: 'state', state: sampleState() }));
    assert.ok(isHostMessage({ type: 'copied', format: 'xml', tokens: 12, ok: true }));
    assert.equal(isHostMessage({ type: 'state', state: { ...sampleState(), version: 2 } }), false);
    assert.equal(isHostMessage({ type: 'state' }), false);
    assert.equal(isHostMessage({ type: 'copied', format: 'pdf', ok: true }), false);
    assert.equal(isHostMessage({ type: 'ready' }), false);
    assert.equal(isHostMessage(null), false);
  });
});

describe('PanelState', () => {
  it('survives a JSON round trip unchanged (serializer / setState)', () => {
    for (const s of [emptyPanelState(), sampleState(), indexingState()]) {
      const copy = JSON.parse(JSON.stringify(s));
      // undefined-valued optional fields disappear in JSON; nothing else may change.
      assert.deepEqual(copy, JSON.parse(JSON.stringify(copy)));
      assert.deepEqual(stripUndefined(s), copy);
    }
  });

  it('contains no functions, class instances or non-finite numbers', () => {
    const walk = (v: unknown, path: string): void => {
      if (typeof v === 'number') assert.ok(Number.isFinite(v), `${path} is ${v}`);
      else if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') assert.fail(`${path} is a ${typeof v}`);
      else if (v && typeof v === 'object') {
        const proto = Object.getPrototypeOf(v);
        assert.ok(proto === Object.prototype || proto === Array.prototype || proto === null, `${path} is a class instance`);
        for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
      }
    };
    walk(sampleState(), 'state');
    walk(emptyPanelState(), 'empty');
  });
});

function stripUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

describe('resolveInsideRoot / isInsideRoot', () => {
  const root = '/home/u/proj';
  it('resolves relative paths inside the root to segments', () => {
    assert.deepEqual(resolveInsideRoot(root, 'src/a.ts'), ['src', 'a.ts']);
    assert.deepEqual(resolveInsideRoot(root, './src//a.ts'), ['src', 'a.ts']);
    assert.deepEqual(resolveInsideRoot(root, 'src\\win\\a.ts'), ['src', 'win', 'a.ts']);
    assert.deepEqual(resolveInsideRoot(root, '.hidden/x'), ['.hidden', 'x']);
    assert.deepEqual(resolveInsideRoot(root, 'a..b/c'), ['a..b', 'c']);
  });

  it('accepts absolute paths under the root only', () => {
    assert.deepEqual(resolveInsideRoot(root, '/home/u/proj/src/a.ts'), ['src', 'a.ts']);
    assert.deepEqual(resolveInsideRoot('/home/u/proj/', '/home/u/proj/a.ts'), ['a.ts']);
    assert.equal(resolveInsideRoot(root, '/home/u/project2/a.ts'), undefined);
    assert.equal(resolveInsideRoot(root, '/home/u/proj'), undefined);
    assert.equal(resolveInsideRoot(root, '/etc/passwd'), undefined);
    assert.equal(resolveInsideRoot(root, '/home/u/proj-other/a.ts'), undefined);
  });

  it('rejects any .. segment', () => {
    for (const p of ['../secret', 'src/../../etc/passwd', 'src/../a.ts', '..', 'a/..', '..\\x', '/home/u/proj/../proj/a.ts', 'src\\..\\..\\x']) {
      assert.equal(isInsideRoot(root, p), false, p);
    }
  });

  it('rejects URIs, UNC paths, control characters and empty input', () => {
    for (const p of ['file:///etc/passwd', 'file://host/share/a', 'untitled:Untitled-1', 'vscode-remote://x/a', 'http://x/a', '//server/share/a', '\\\\server\\share\\a', 'a\u0000b', '', '.', './']) {
      assert.equal(isInsideRoot(root, p), false, JSON.stringify(p));
    }
    assert.equal(isInsideRoot('', 'a.ts'), false);
  });

  it('handles Windows roots with drive letters, case-insensitively', () => {
    const win = 'C:\\Users\\u\\proj';
    assert.deepEqual(resolveInsideRoot(win, 'src\\a.ts'), ['src', 'a.ts']);
    assert.deepEqual(resolveInsideRoot(win, 'c:\\users\\U\\PROJ\\src\\a.ts'), ['src', 'a.ts']);
    assert.deepEqual(resolveInsideRoot(win, 'C:/Users/u/proj/a.ts'), ['a.ts']);
    assert.equal(resolveInsideRoot(win, 'D:\\Users\\u\\proj\\a.ts'), undefined);
    assert.equal(resolveInsideRoot(win, 'C:a.ts'), undefined);
    assert.equal(resolveInsideRoot(win, '/Users/u/proj/a.ts'), undefined);
  });

  it('never returns a .. or empty segment (fuzz)', () => {
    const seg = fc.oneof(fc.constantFrom('..', '.', '', 'src', 'a.ts', 'C:', 'file:', '~'), fc.string({ maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 6 }), fc.constantFrom('/', '\\'), fc.boolean(), (segs, sep, abs) => {
        const cand = (abs ? sep : '') + segs.join(sep);
        const r = resolveInsideRoot(root, cand);
        if (r) for (const s of r) assert.ok(s !== '..' && s !== '' && s !== '.' && !s.includes('/') && !s.includes('\\'), `${cand} → ${JSON.stringify(r)}`);
        return true;
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});
