// Tests of the syntax-aware chunker (tree-sitter): exact boundaries, kinds and
// names on small fixtures in each language, the span invariants (order, no
// overlap, full coverage of non-blank lines), splitting and merging at the
// token cap, import extraction, and robustness on invalid input.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { SyntaxChunker, type ChunkSpan } from '../../src/core/chunk/syntax';

const FIXTURES = join(__dirname, '..', 'fixtures', 'chunking');
/** Deterministic stand-in for a tokenizer: one token per 4 characters. */
const count = (s: string): number => Math.ceil(s.length / 4);

const LANG_OF: Record<string, string> = {
  'sample.ts': 'typescript',
  'sample.tsx': 'typescriptreact',
  'sample.js': 'javascript',
  'sample.py': 'python',
  'sample.go': 'go',
  'Sample.java': 'java',
  'sample.rs': 'rust',
  'sample.c': 'c',
  'sample.cpp': 'cpp',
  'Sample.cs': 'csharp',
};
const FILES = Object.keys(LANG_OF);

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** Order, bounds, no overlap, every non-blank line covered, no span starting or ending on a blank line. */
function checkInvariants(text: string, spans: ChunkSpan[], label: string): void {
  const lines = text.split('\n');
  let prevEnd = 0;
  const covered = new Uint8Array(lines.length + 1);
  for (const s of spans) {
    assert.ok(Number.isInteger(s.startLine) && Number.isInteger(s.endLine), `${label}: integer lines`);
    assert.ok(s.startLine >= 1 && s.endLine <= lines.length, `${label}: ${s.startLine}-${s.endLine} inside the file (${lines.length} lines)`);
    assert.ok(s.startLine <= s.endLine, `${label}: ${s.startLine}-${s.endLine} not empty`);
    assert.ok(s.startLine > prevEnd, `${label}: ${s.startLine}-${s.endLine} after ${prevEnd} (ordered, no overlap)`);
    assert.notEqual(lines[s.startLine - 1]?.trim(), '', `${label}: span ${s.startLine}-${s.endLine} starts on a blank line`);
    assert.notEqual(lines[s.endLine - 1]?.trim(), '', `${label}: span ${s.startLine}-${s.endLine} ends on a blank line`);
    for (let l = s.startLine; l <= s.endLine; l++) covered[l] = 1;
    prevEnd = s.endLine;
    assert.ok(Array.isArray(s.defines) && s.defines.every((d) => typeof d === 'string' && d.length > 0), `${label}: defines are names`);
  }
  lines.forEach((line, i) => {
    if (line.trim() !== '') assert.equal(covered[i + 1], 1, `${label}: line ${i + 1} ${JSON.stringify(line)} is covered`);
  });
}

function textOf(text: string, s: ChunkSpan): string {
  return text.split('\n').slice(s.startLine - 1, s.endLine).join('\n');
}

type Expected = [number, number, string, string[]];
/** Exact chunks of each fixture at a cap of 64 (chars/4) tokens. */
const EXPECTED: Record<string, Expected[]> = {
  'sample.ts': [
    [1, 7, 'imports', []],
    [9, 12, 'declarations', ['RETRIES', 'Mode', 'Color', 'Color.Red', 'Red', 'Color.Green', 'Green']],
    [14, 21, 'class', ['FileCache', 'FileCache.entries', 'entries', 'FileCache.constructor', 'constructor']],
    [23, 28, 'class', ['FileCache.read', 'read']],
    [29, 32, 'class', []],
    [34, 37, 'members', ['FileCache.clear', 'clear']],
    [39, 41, 'interface', ['Reader', 'Reader.read', 'read']],
    [43, 46, 'function', ['createCache']],
    [48, 52, 'declarations', ['double', 'Internal', 'secret']],
  ],
  'sample.tsx': [
    [1, 2, 'imports', []],
    [4, 6, 'interface', ['CounterProps', 'CounterProps.start', 'start']],
    [8, 10, 'function', ['Counter']],
    [11, 17, 'function', []],
    [19, 19, 'function', ['Label']],
  ],
  'sample.js': [
    [1, 3, 'imports', []],
    [5, 9, 'function', ['loadConfig']],
    [11, 18, 'class', ['Store', 'Store.constructor', 'constructor', 'Store.add', 'add']],
    [20, 21, 'declarations', ['version']],
  ],
  'sample.py': [
    [1, 7, 'imports', []],
    [9, 9, 'const', ['MAX_SIZE']],
    [12, 21, 'class', ['Point', 'Point.x', 'x', 'Point.y', 'y', 'Point.norm', 'norm']],
    [23, 24, 'members', ['Point.scale', 'scale']],
    [27, 29, 'function', ['join_all']],
    [32, 37, 'declarations', ['fetch']],
  ],
  'sample.go': [
    [1, 7, 'imports', []],
    [9, 14, 'const', ['MaxItems', 'defaultName']],
    [16, 20, 'class', ['Store', 'Store.items', 'items', 'Store.name', 'name']],
    [22, 29, 'function', ['Store.Add', 'Add']],
    [31, 33, 'interface', ['Reader', 'Reader.Read', 'Read']],
    [35, 37, 'function', ['NewStore']],
  ],
  'Sample.java': [
    [1, 5, 'imports', []],
    [7, 14, 'class', ['Sample', 'Sample.names', 'names', 'Sample.Sample']],
    [16, 27, 'members', ['Sample.add', 'add', 'Sample.size', 'size']],
    [29, 35, 'declarations', ['Named', 'Named.name', 'name', 'Level', 'Level.LOW', 'LOW', 'Level.HIGH', 'HIGH', 'Pair']],
  ],
  'sample.rs': [
    [1, 5, 'imports', []],
    [7, 8, 'const', ['MAX']],
    [10, 14, 'class', ['Store', 'Store.entries', 'entries']],
    [16, 20, 'class', ['Store', 'Store.new', 'new']],
    [22, 26, 'members', ['Store.insert', 'insert']],
    [28, 30, 'interface', ['Named', 'Named.name', 'name']],
    [32, 34, 'function', ['unique']],
  ],
  'sample.c': [
    [1, 3, 'imports', []],
    [5, 5, 'const', ['MAX_ITEMS']],
    [7, 11, 'class', ['stack_t', 'stack_t.items', 'items', 'stack_t.top', 'top']],
    [13, 15, 'declarations', ['counter', 'push']],
    [17, 25, 'function', ['push']],
    [27, 32, 'function', ['main']],
  ],
  'sample.cpp': [
    [1, 4, 'imports', []],
    [6, 13, 'class', ['sample', 'Store', 'Store.Store', 'Store.add', 'add', 'Store.size', 'size']],
    [15, 17, 'members', ['Store.items_', 'items_']],
    [19, 24, 'function', ['clamp']],
    [26, 28, 'function', ['Store.reset', 'reset']],
  ],
  'Sample.cs': [
    [1, 3, 'imports', []],
    [5, 13, 'class', ['Example.Sample', 'Registry', 'Registry.names', 'names', 'Registry.Count', 'Count']],
    [15, 22, 'members', ['Registry.Registry', 'Registry', 'Registry.Add', 'Add']],
    [24, 27, 'interface', ['IRegistry', 'IRegistry.Add', 'Add']],
    [29, 30, 'type', ['Level', 'Level.Low', 'Low', 'Level.High', 'High']],
  ],
};

const EXPECTED_IMPORTS: Record<string, Array<{ specifier: string; names: string[]; line: number }>> = {
  'sample.ts': [{specifier: 'node:fs', names: ['readFileSync'], line: 3}, {specifier: 'node:path', names: ['*'], line: 4}, {specifier: './options', names: ['Options'], line: 5}, {specifier: './helper', names: ['helper', 'other'], line: 6}, {specifier: './legacy', names: ['legacy'], line: 7}],
  'sample.tsx': [{specifier: 'react', names: ['React', 'useState'], line: 1}, {specifier: './button', names: ['Button'], line: 2}],
  'sample.js': [{specifier: 'fs', names: ['fs'], line: 2}, {specifier: 'path', names: ['join', 'resolve'], line: 3}],
  'sample.py': [{specifier: 'os', names: [], line: 3}, {specifier: 'os.path', names: [], line: 4}, {specifier: '.', names: ['sibling'], line: 5}, {specifier: '..pkg.mod', names: ['alpha', 'beta'], line: 6}, {specifier: 'typing', names: ['*'], line: 7}],
  'sample.go': [{specifier: 'fmt', names: [], line: 5}, {specifier: 'strings', names: ['str'], line: 6}],
  'Sample.java': [{specifier: 'java.util.ArrayList', names: ['ArrayList'], line: 3}, {specifier: 'java.util.List', names: ['List'], line: 4}, {specifier: 'java.util.Collections', names: ['*'], line: 5}],
  'sample.rs': [{specifier: 'std::collections::HashMap', names: ['HashMap'], line: 3}, {specifier: 'std::collections::HashSet', names: ['HashSet'], line: 3}, {specifier: 'crate::util::helpers', names: ['helpers'], line: 4}, {specifier: 'config', names: ['config'], line: 5}],
  'sample.c': [{specifier: '<stdio.h>', names: [], line: 2}, {specifier: 'sample.h', names: [], line: 3}],
  'sample.cpp': [{specifier: '<string>', names: [], line: 2}, {specifier: '<vector>', names: [], line: 3}, {specifier: 'store.hpp', names: [], line: 4}],
  'Sample.cs': [{specifier: 'System', names: [], line: 1}, {specifier: 'System.Collections.Generic', names: [], line: 2}, {specifier: 'System.IO', names: ['Io'], line: 3}],
};

let chunker: SyntaxChunker;

before(async () => {
  chunker = await SyntaxChunker.create();
  for (const lang of new Set(Object.values(LANG_OF))) {
    assert.equal(await chunker.ensureLanguage(lang), true, `grammar for ${lang} loads`);
  }
});

describe('SyntaxChunker languages', () => {
  it('supports the VS Code ids of every language with a grammar, and nothing else', async () => {
    for (const id of ['typescript', 'typescriptreact', 'javascript', 'javascriptreact', 'python', 'go', 'java', 'rust', 'c', 'cpp', 'csharp']) {
      assert.equal(chunker.supports(id), true, id);
    }
    for (const id of ['markdown', 'plaintext', 'ruby', 'json', '']) assert.equal(chunker.supports(id), false, id);
    assert.equal(await chunker.ensureLanguage('markdown'), false);
    assert.equal(chunker.spans('# hi\n', 'markdown', 512, count), undefined);
    assert.equal(chunker.imports('# hi\n', 'markdown'), undefined);
  });

  it('returns undefined for a supported language whose grammar is not loaded yet', async () => {
    const fresh = await SyntaxChunker.create();
    try {
      assert.equal(fresh.spans('int x;\n', 'java', 512, count), undefined);
      assert.equal(await fresh.ensureLanguage('javascriptreact'), true);
      assert.ok(fresh.spans('const a = 1;\n', 'javascriptreact', 512, count));
    } finally {
      fresh.dispose();
    }
    assert.equal(fresh.spans('const a = 1;\n', 'javascriptreact', 512, count), undefined, 'after dispose');
  });
});

describe('SyntaxChunker fixtures: exact boundaries, kinds and names', () => {
  for (const file of FILES) {
    it(`${file} (${LANG_OF[file]})`, () => {
      const text = fixture(file);
      const spans = chunker.spans(text, LANG_OF[file]!, 64, count);
      assert.ok(spans, 'parsed');
      checkInvariants(text, spans, file);
      assert.deepEqual(
        spans.map((s) => [s.startLine, s.endLine, s.kind, s.defines]),
        EXPECTED[file],
      );
    });
  }

  it('keeps invariants at every cap, for LF and CRLF line ends', () => {
    for (const file of FILES) {
      for (const eol of ['\n', '\r\n']) {
        const text = fixture(file).replace(/\n/g, eol);
        for (const cap of [1, 8, 16, 32, 64, 128, 512, 100_000]) {
          const spans = chunker.spans(text, LANG_OF[file]!, cap, count);
          assert.ok(spans, `${file} cap ${cap}`);
          checkInvariants(text, spans, `${file} cap ${cap} ${JSON.stringify(eol)}`);
        }
      }
    }
  });
});

describe('SyntaxChunker rules', () => {
  it('keeps doc comments, decorators and attributes with the declaration they document', () => {
    const at = (file: string, name: string): ChunkSpan => {
      const s = chunker.spans(fixture(file), LANG_OF[file]!, 64, count)!.find((x) => x.defines[0] === name || x.defines.includes(name));
      assert.ok(s, `${file}: a chunk defines ${name}`);
      return s;
    };
    // TS: JSDoc block + @injectable() decorator above `export class FileCache`.
    const ts = fixture('sample.ts');
    const cache = at('sample.ts', 'FileCache');
    assert.match(textOf(ts, cache), /^\/\*\*\n \* A cache of parsed files\.\n \*\/\n@injectable\(\)\nexport class FileCache/);
    // Member doc comment stays with its method.
    assert.match(textOf(ts, at('sample.ts', 'FileCache.read')), /^ {2}\/\*\* Reads a file through the cache\. \*\/\n {2}read\(/);
    // Python decorator + comment, Rust doc comment + attribute, Java Javadoc + annotation, C# doc + attribute, Go doc comment.
    assert.match(textOf(fixture('sample.py'), at('sample.py', 'Point')), /^@dataclass\nclass Point:/);
    assert.match(textOf(fixture('sample.py'), at('sample.py', 'join_all')), /^# Helper that joins paths\.\ndef join_all/);
    assert.match(textOf(fixture('sample.rs'), at('sample.rs', 'Store')), /^\/\/\/ A store of entries\.\n#\[derive\(Debug, Default\)\]\npub struct Store/);
    assert.match(textOf(fixture('Sample.java'), at('Sample.java', 'Sample')), /^\/\*\*\n \* Keeps a list of names\.\n \*\/\n@SuppressWarnings\("unused"\)\npublic class Sample/);
    assert.match(textOf(fixture('Sample.java'), at('Sample.java', 'Sample.add')), /^ {4}\/\*\* Adds a name\. \*\/\n {4}@Deprecated\n {4}public void add/);
    assert.match(textOf(fixture('Sample.cs'), at('Sample.cs', 'Registry')), /\/\/\/ <summary>Keeps names\.<\/summary>\n {4}\[Serializable\]\n {4}public class Registry/);
    assert.match(textOf(fixture('sample.go'), at('sample.go', 'Store.Add')), /^\/\/ Add appends an item\.\nfunc \(s \*Store\) Add/);
    assert.match(textOf(fixture('sample.c'), at('sample.c', 'stack_t')), /^\/\* A fixed-size stack\. \*\/\ntypedef struct stack/);
  });

  it('splits an oversized class at member boundaries, and an oversized member by line windows of the parent kind', () => {
    const spans = chunker.spans(fixture('sample.ts'), 'typescript', 64, count)!;
    const parts = spans.filter((s) => s.startLine >= 14 && s.endLine <= 37);
    assert.deepEqual(parts.map((s) => s.kind), ['class', 'class', 'class', 'members']);
    assert.deepEqual(parts[0]!.defines.slice(0, 1), ['FileCache'], 'the head piece defines the class');
    assert.deepEqual(parts[1]!.defines, ['FileCache.read', 'read'], 'first window of read() names it');
    assert.deepEqual(parts[2]!.defines, [], 'later windows define nothing');
    // At a large cap the whole class is one chunk that names its members.
    const whole = chunker.spans(fixture('sample.ts'), 'typescript', 512, count)!.find((s) => s.defines[0] === 'FileCache')!;
    assert.deepEqual([whole.startLine, whole.endLine, whole.kind], [14, 37, 'class']);
    assert.ok(whole.defines.includes('FileCache.clear') && whole.defines.includes('clear'));
  });

  it('merges runs of small declarations and imports up to the cap', () => {
    const ts = chunker.spans(fixture('sample.ts'), 'typescript', 512, count)!;
    assert.deepEqual(ts.map((s) => [s.startLine, s.endLine, s.kind]), [
      [1, 7, 'imports'],
      [9, 12, 'declarations'],
      [14, 37, 'class'],
      [39, 52, 'declarations'],
    ]);
    assert.deepEqual(ts[3]!.defines, ['Reader', 'Reader.read', 'read', 'createCache', 'double', 'Internal', 'secret']);
    // A run of constants only keeps the constant kind.
    const consts = chunker.spans('export const a = 1;\nexport const b = 2;\nlet c = 3, d = 4;\n', 'typescript', 512, count)!;
    assert.deepEqual(consts, [{ startLine: 1, endLine: 3, kind: 'const', defines: ['a', 'b', 'c', 'd'] }]);
  });

  it('never lets a merged run or member run exceed the cap (sum of line counts)', () => {
    const methods = Array.from({ length: 120 }, (_, i) => `  method${i}(x: number): number {\n    return x * ${i};\n  }\n`).join('\n');
    const text = `import { a } from './a';\n\n/** Big. */\nexport class Big {\n${methods}}\n\n${Array.from({ length: 80 }, (_, i) => `export const k${i} = ${i};`).join('\n')}\n`;
    const cap = 100;
    const spans = chunker.spans(text, 'typescript', cap, count)!;
    checkInvariants(text, spans, 'big');
    const lines = text.split('\n');
    for (const s of spans) {
      let sum = 0;
      for (let l = s.startLine; l <= s.endLine; l++) sum += lines[l - 1]!.trim() === '' ? 1 : count(`${lines[l - 1]}\n`);
      assert.ok(sum <= cap, `${s.startLine}-${s.endLine} has ${sum} > ${cap} tokens`);
    }
    const members = spans.filter((s) => s.kind === 'members');
    assert.ok(members.length > 5, 'the class is split into member chunks');
    for (const m of members) {
      assert.ok(m.defines.length > 0 && m.defines.every((d) => /^(Big\.)?method\d+$/.test(d)), JSON.stringify(m.defines));
      assert.match(lines[m.startLine - 1]!, /^ {2}method\d+\(/, 'member chunks start at a member');
    }
    const head = spans.find((s) => s.defines[0] === 'Big')!;
    assert.equal(head.kind, 'class');
    assert.equal(head.startLine, 3, 'the head piece starts at the doc comment');
    const consts = spans.filter((s) => s.startLine > head.endLine && s.kind === 'const');
    assert.ok(consts.length >= 2, 'the constants are merged into a few runs');
    assert.equal(consts.flatMap((s) => s.defines).length, 80);
  });

  it('splits oversized functions at statements and wrapping statements (IIFE, describe) like a file', () => {
    const body = Array.from({ length: 60 }, (_, i) => `  const v${i} = compute(${i});`).join('\n');
    const fn = `export function huge() {\n${body}\n  return 0;\n}\n`;
    const spans = chunker.spans(fn, 'typescript', 60, count)!;
    checkInvariants(fn, spans, 'huge');
    assert.ok(spans.length > 3);
    assert.ok(spans.every((s) => s.kind === 'function'));
    assert.deepEqual(spans[0]!.defines, ['huge']);
    assert.ok(spans.slice(1).every((s) => s.defines.length === 0));

    const fns = Array.from({ length: 30 }, (_, i) => `  function helper${i}(a) {\n    return a + ${i};\n  }`).join('\n\n');
    const iife = `(function () {\n  'use strict';\n${fns}\n})();\n`;
    const ispans = chunker.spans(iife, 'javascript', 60, count)!;
    checkInvariants(iife, ispans, 'iife');
    assert.ok(ispans.some((s) => s.defines.includes('helper0')) && ispans.some((s) => s.defines.includes('helper29')));
  });

  it('names a declaration on the piece that holds its declaration line, when a long doc comment comes first', () => {
    const doc = ['/**', ...Array.from({ length: 60 }, (_, i) => ` * Explains part ${i} of how the lock support parks and unparks threads.`), ' */'];
    const members = Array.from({ length: 8 }, (_, i) => `    static void park${i}(Object blocker) {\n        U.park(false, ${i}L);\n    }`);
    const declLine = (text: string, decl: RegExp) => text.split('\n').findIndex((l) => decl.test(l)) + 1;
    const cases: Array<[string, string, string, RegExp, string]> = [
      ['java, class with members', 'java', ['package p;', '', ...doc, 'public class LockSupport {', ...members, '}'].join('\n'), /^public class LockSupport/, 'LockSupport'],
      ['java, one long method', 'java', ['class A {', ...doc.map((l) => `    ${l}`), '    void run() {', ...Array.from({ length: 40 }, (_, i) => `        step(${i});`), '    }', '}'].join('\n'), /void run\(\)/, 'run'],
      ['typescript, long function', 'typescript', [...doc, 'export function parkAll(threads: Thread[]): void {', ...Array.from({ length: 40 }, (_, i) => `  threads[${i}].park();`), '}'].join('\n'), /^export function parkAll/, 'parkAll'],
    ];
    for (const [label, lang, text, decl, name] of cases) {
      const spans = chunker.spans(text, lang, 120, count)!;
      checkInvariants(text, spans, label);
      const line = declLine(text, decl);
      const holder = spans.find((s) => s.startLine <= line && line <= s.endLine)!;
      assert.ok(holder.defines.includes(name), `${label}: the piece with line ${line} defines ${name} (spans ${JSON.stringify(spans.map((s) => [s.startLine, s.endLine, s.defines.slice(0, 2)]))})`);
      for (const s of spans) if (s !== holder) assert.ok(!s.defines.includes(name), `${label}: only that piece defines ${name}`);
    }
  });

  it('splits oversized namespaces like a file, keeping the namespace name on the first piece', () => {
    const classes = Array.from({ length: 12 }, (_, i) => `    public class C${i}\n    {\n        public int Value${i}() { return ${i}; }\n    }`).join('\n\n');
    const text = `using System;\n\nnamespace Big.Space\n{\n${classes}\n}\n`;
    const spans = chunker.spans(text, 'csharp', 40, count)!;
    checkInvariants(text, spans, 'namespace');
    const first = spans.find((s) => s.startLine >= 3)!;
    assert.equal(first.startLine, 3);
    assert.equal(first.defines[0], 'Big.Space');
    assert.ok(spans.some((s) => s.kind === 'class' && s.defines.includes('C11')));
  });

  it('windows big comment blocks (commented-out code, comment-only files) instead of attaching them whole', () => {
    const block = Array.from({ length: 200 }, (_, i) => `// old line ${i}: x = compute(x, ${i});`).join('\n');
    const lines = (t: string): string[] => t.split('\n');
    for (const text of [`package p\n\nfunc a() {}\n\n${block}\n`, `${block}\n`, `package p\n\n${block}\n\nfunc b() {}\n`]) {
      const spans = chunker.spans(text, 'go', 100, count)!;
      checkInvariants(text, spans, 'comments');
      for (const s of spans) {
        const sum = lines(text).slice(s.startLine - 1, s.endLine).reduce((a, l) => a + (l.trim() === '' ? 1 : count(`${l}\n`)), 0);
        assert.ok(sum <= 100, `${s.startLine}-${s.endLine}: ${sum} tokens`);
      }
      assert.ok(spans.length > 5);
    }
  });

  it('treats C header guards as transparent', () => {
    const text = '#ifndef STORE_H\n#define STORE_H\n\n#include <stddef.h>\n\nstruct store { int n; };\n\nint store_add(struct store *s, int v);\n\n#endif\n';
    const spans = chunker.spans(text, 'c', 8, count)!;
    checkInvariants(text, spans, 'guard');
    assert.ok(spans.some((s) => s.kind === 'imports' && s.startLine === 4));
    assert.ok(spans.some((s) => s.defines.includes('store_add')));
    assert.ok(spans.some((s) => s.defines.includes('store')));
  });

  it('handles empty, blank and comment-only files', () => {
    assert.deepEqual(chunker.spans('', 'typescript', 512, count), []);
    assert.deepEqual(chunker.spans('\n\n  \n', 'python', 512, count), []);
    const c = '// just a comment\n\n/* and another */\n';
    assert.deepEqual(chunker.spans(c, 'go', 512, count), [{ startLine: 1, endLine: 3, kind: 'declarations', defines: [] }]);
  });

  it('does not throw on invalid code or garbage, in any language', () => {
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = 'abc{}()[];:<>=,."\'`/*#\n\t @!$%&|\\x0\u00e9\u{1F600}';
    const samples = [
      'class { function ( { { ]]] import from ;\n}}}}\n',
      '\u0000\u0001\u0002 binary \uFFFD\n',
      'def f(:\n  return\n    class\n',
      fixture('sample.ts').slice(0, 400),
      Array.from({ length: 3000 }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''),
    ];
    for (const lang of new Set(Object.values(LANG_OF))) {
      for (const text of samples) {
        for (const cap of [4, 64]) {
          const spans = chunker.spans(text, lang, cap, count);
          if (spans) checkInvariants(text, spans, `garbage ${lang}`);
        }
        const imps = chunker.imports(text, lang);
        assert.ok(imps === undefined || Array.isArray(imps));
      }
    }
  });
});

describe('SyntaxChunker imports', () => {
  for (const file of FILES) {
    it(`${file} (${LANG_OF[file]})`, () => {
      assert.deepEqual(chunker.imports(fixture(file), LANG_OF[file]!), EXPECTED_IMPORTS[file]);
    });
  }

  it('finds imports outside the top level and ignores keywords in strings and comments', () => {
    const js = "// import x from 'nope'\nconst s = \"require('nope')\";\nfunction lazy() {\n  const m = require('./lazy').thing;\n  return import('./dyn');\n}\nexport * from './all';\n";
    assert.deepEqual(chunker.imports(js, 'javascript'), [
      { specifier: './lazy', names: ['thing'], line: 4 },
      { specifier: './dyn', names: [], line: 5 },
      { specifier: './all', names: ['*'], line: 7 },
    ]);
    const py = 'def f():\n    import json\n    from .util import helper as h\n    s = "import nope"\n';
    assert.deepEqual(chunker.imports(py, 'python'), [
      { specifier: 'json', names: [], line: 2 },
      { specifier: '.util', names: ['helper'], line: 3 },
    ]);
    const rs = 'mod a {\n    use super::b::{self, C as D, e::*};\n}\nfn f() { use std::io; }\n';
    assert.deepEqual(chunker.imports(rs, 'rust'), [
      { specifier: 'super::b', names: ['b'], line: 2 },
      { specifier: 'super::b::C', names: ['C'], line: 2 },
      { specifier: 'super::b::e', names: ['*'], line: 2 },
      { specifier: 'std::io', names: ['io'], line: 4 },
    ]);
    const cpp = '#ifdef WIN\n#include "win.h"\n#else\n#  include "posix.h"\n#endif\n';
    assert.deepEqual(chunker.imports(cpp, 'cpp')!.map((r) => r.specifier), ['win.h', 'posix.h']);
    const cs = 'global using System.Linq;\nnamespace N { using static System.Math; }\n';
    assert.deepEqual(chunker.imports(cs, 'csharp')!.map((r) => r.specifier), ['System.Linq', 'System.Math']);
    const ts = "import type { A } from './types';\nimport './side-effect';\nimport def, * as ns from 'lib';\nimport c = require('c');\n";
    assert.deepEqual(chunker.imports(ts, 'typescript'), [
      { specifier: './types', names: ['A'], line: 1 },
      { specifier: './side-effect', names: [], line: 2 },
      { specifier: 'lib', names: ['def', '*'], line: 3 },
      { specifier: 'c', names: ['c'], line: 4 },
    ]);
  });

  it('spans() and imports() of the same text agree after the tree is reused', () => {
    const text = fixture('sample.go');
    const a = chunker.spans(text, 'go', 64, count);
    const b = chunker.imports(text, 'go');
    const c = chunker.spans(text, 'go', 64, count);
    assert.deepEqual(a, c);
    assert.deepEqual(b, EXPECTED_IMPORTS['sample.go']);
  });
});
