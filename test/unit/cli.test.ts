import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadTokenizer } from '../../src/core/tokens/tokenizer';
import { runCli } from '../helpers/cli';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
const qdir = makeWorkspace({});
after(() => {
  w.cleanup();
  qdir.cleanup();
});

const base = () => ['rank', '--root', w.root, '--no-cache', '--device', 'cpu', '--json'];

describe('CLI rank contract', () => {
  let single: Record<string, any>;
  before(async () => {
    const r = await runCli([...base(), '--file', 'src/main.ts', '--line', '4', '--budget', '600']);
    assert.equal(r.code, 0, r.err);
    single = JSON.parse(r.out);
  });

  it('prints one JSON object with the documented fields', () => {
    for (const k of ['version', 'root', 'file', 'line', 'column', 'model', 'encoding', 'budget', 'device', 'cursor', 'chunks', 'totals', 'cost']) assert.ok(k in single, k);
    assert.equal(single.version, 1);
    assert.equal(single.file, 'src/main.ts');
    assert.equal(single.line, 4);
    assert.equal(single.column, 0);
    assert.equal(single.budget, 600);
    assert.equal(single.device, 'cpu');
    for (const k of ['startLine', 'endLine', 'tokens']) assert.equal(typeof single.cursor[k], 'number');
    for (const c of single.chunks) {
      for (const k of ['path', 'startLine', 'endLine', 'tokens', 'score', 'selected', 'reason']) assert.ok(k in c, k);
      assert.ok(!c.path.includes('\\') && !c.path.startsWith('/'));
    }
    for (const k of ['selectedTokens', 'candidates', 'indexedFiles']) assert.equal(typeof single.totals[k], 'number');
    assert.equal(typeof single.cost.priceUsd, 'number');
  });

  it('lists chunks best first, respects the budget and counts tokens exactly', async () => {
    const scores = single.chunks.map((c: any) => c.score);
    assert.deepEqual(scores, [...scores].sort((a: number, b: number) => b - a));
    const selected = single.chunks.filter((c: any) => c.selected);
    const sum = selected.reduce((s: number, c: any) => s + c.tokens, 0);
    assert.equal(sum, single.totals.selectedTokens);
    assert.ok(sum + single.cursor.tokens <= single.budget);
    assert.ok(single.totals.promptTokens <= single.budget);
    const tok = await loadTokenizer('o200k_base');
    const lines = SAMPLE_PROJECT['src/main.ts'].split('\n');
    assert.equal(single.cursor.tokens, tok.count(lines.slice(single.cursor.startLine - 1, single.cursor.endLine).join('\n')));
    const mathChunk = single.chunks.find((c: any) => c.path === 'src/math.ts');
    assert.ok(mathChunk, 'the imported file is a candidate');
  });

  it('batch mode answers each line in order, echoes ids, equals single runs, and reports bad lines in place', async () => {
    const q = join(qdir.root, 'queries.jsonl'); // outside the root: a new file there would change the index
    writeFileSync(
      q,
      [
        JSON.stringify({ file: 'src/main.ts', line: 4, id: 'a' }),
        '{not json',
        JSON.stringify({ file: 'src/main.ts', line: 999, id: 'b' }),
        JSON.stringify({ file: '../outside.ts', line: 1, id: 'c' }),
        JSON.stringify({ file: 'tools/report.py', line: 3, column: 2, id: 'd' }),
      ].join('\n'),
    );
    const r = await runCli([...base(), '--queries', q, '--budget', '600']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 5);
    assert.equal(lines[0].id, 'a');
    const { id: _id, ...first } = lines[0];
    assert.deepEqual({ ...first, cost: undefined }, { ...single, cost: undefined });
    assert.match(lines[1].error, /not a JSON object/);
    assert.equal(lines[2].id, 'b');
    assert.match(lines[2].error, /out of range/);
    assert.match(lines[3].error, /outside the root/);
    assert.equal(lines[4].id, 'd');
    assert.equal(lines[4].column, 2);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['missing root', ['rank', '--root', '/no/such/dir', '--file', 'a', '--line', '1', '--json'], /not a folder/],
    ['file outside root', ['rank', '--root', w.root, '--file', '/etc/passwd', '--line', '1', '--json', '--no-cache'], /outside the root/],
    ['line out of range', ['rank', '--root', w.root, '--file', 'src/main.ts', '--line', '99', '--json', '--no-cache'], /out of range/],
    ['line not a number', ['rank', '--root', w.root, '--file', 'src/main.ts', '--line', 'x', '--json', '--no-cache'], /integer/],
    ['unknown model', ['rank', '--root', w.root, '--file', 'src/main.ts', '--line', '1', '--model', 'gpt-99', '--json', '--no-cache'], /unknown model 'gpt-99'/],
    ['unreadable queries file', ['rank', '--root', w.root, '--queries', '/no/such.jsonl', '--json'], /cannot read queries file/],
    ['unknown option', ['rank', '--bogus'], /bogus/],
    ['unknown command', ['frobnicate'], /unknown command/],
    ['negative budget', ['rank', '--root', w.root, '--file', 'src/main.ts', '--line', '1', '--budget', '-5', '--json', '--no-cache'], /--budget/],
    ['stable share out of range', ['rank', '--root', w.root, '--file', 'src/main.ts', '--line', '1', '--stable-share', '1.5', '--json', '--no-cache'], /--stable-share must be a number from 0 to 1/],
  ];
  for (const [name, args, msg] of bad) {
    it(`bad input (${name}) → one line on stderr, exit 2`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, msg);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.equal(r.out, '');
    });
  }

  it('the built CLI exits 2 without a stack trace', { skip: !existsSync('dist/cli.js') && 'dist not built' }, () => {
    const res = spawnSync(process.execPath, ['dist/cli.js', 'rank', '--root', w.root, '--file', 'nope.ts', '--line', '1', '--json', '--no-cache', '--device', 'cpu'], { encoding: 'utf8' });
    assert.equal(res.status, 2);
    assert.doesNotMatch(res.stderr, /\n\s+at /);
  });
});

describe('CLI report, pack, index', () => {
  it('report prints a human table', async () => {
    const r = await runCli(['report', '--root', w.root, '--no-cache', 'src/main.ts:4', '--budget', '800']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Budget 800 tokens/);
    assert.match(r.out, /Selected \(\d+\)/);
  });

  it('pack prints a prompt whose count matches stderr and the budget', async () => {
    const tok = await loadTokenizer('o200k_base');
    for (const format of ['md', 'xml', 'json']) {
      const r = await runCli(['pack', '--root', w.root, '--no-cache', 'src/main.ts:4', '--budget', '500', '--format', format]);
      assert.equal(r.code, 0, r.err);
      const n = Number(/^\n?(\d+) tokens/.exec(r.err)![1]);
      assert.equal(tok.count(r.out), n);
      assert.ok(n <= 500);
    }
  });

  it('index --json reports files, chunks, tokens and skips', async () => {
    const r = await runCli(['index', '--root', w.root, '--no-cache', '--json']);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.ok(s.files >= 4 && s.chunks >= 4 && s.tokens > 0);
    assert.equal(typeof s.skipped, 'object');
  });

  it('--help works for every command', async () => {
    for (const c of ['report', 'rank', 'pack', 'cost', 'index']) {
      const r = await runCli([c, '--help']);
      assert.equal(r.code, 0, c);
      assert.match(r.out, /usage: context-budget/i);
    }
  });
});
