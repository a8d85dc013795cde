// No network anywhere in the product: the CLI and the core (index, rank, pack,
// cost) run with every network API stubbed to record and throw, and nothing calls
// them. The lint forbids importing network modules in product code, with an
// allow-list that is empty.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContextEngine } from '../../src/core/engine';
import { estimateCost } from '../../src/core/cost/costModel';
import { loadProfiles } from '../../src/core/cost/profiles';
import { emptySignals } from '../../src/core/types';
import { runCli } from '../helpers/cli';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const NETWORK_MODULES = ['http', 'https', 'http2', 'net', 'tls', 'dgram', 'dns'];
const calls: string[] = [];
const restore: Array<() => void> = [];

function stubAll(): void {
  for (const name of NETWORK_MODULES) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(name) as Record<string, unknown>;
    const targets: Array<[Record<string, unknown>, string]> = [[mod, name]];
    if (mod.promises && typeof mod.promises === 'object') targets.push([mod.promises as Record<string, unknown>, `${name}.promises`]);
    for (const [obj, label] of targets) {
      for (const key of Object.keys(obj)) {
        const orig = obj[key];
        if (typeof orig !== 'function') continue;
        const stub = function (this: unknown) {
          calls.push(`${label}.${key}`);
          throw new Error(`network API ${label}.${key} called`);
        };
        try {
          obj[key] = stub;
          restore.push(() => (obj[key] = orig));
        } catch {
          /* read-only export */
        }
      }
    }
  }
  const g = globalThis as Record<string, unknown>;
  for (const key of ['fetch', 'WebSocket', 'EventSource']) {
    const orig = g[key];
    g[key] = () => {
      calls.push(key);
      throw new Error(`${key} called`);
    };
    restore.push(() => (g[key] = orig));
  }
  Module.syncBuiltinESMExports();
}

const w = makeWorkspace(SAMPLE_PROJECT);
before(stubAll);
after(() => {
  for (const r of restore.splice(0).reverse()) r();
  Module.syncBuiltinESMExports();
  w.cleanup();
});

describe('no network', { timeout: 120_000 }, () => {
  it('the stubs are live (a call is recorded and throws)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    assert.throws(() => (require('https') as typeof import('https')).request('https://example.invalid'));
    assert.throws(() => (globalThis.fetch as () => unknown)());
    assert.deepEqual(calls.splice(0), ['https.request', 'fetch']);
  });

  it('CLI: index, rank, report, pack and cost call no network API', async () => {
    const cacheDir = join(w.root, '.cache-nonet');
    const common = ['--root', w.root, '--cache-dir', cacheDir, '--exclude', '.cache-nonet/', '--device', 'auto'];
    for (const args of [
      ['index', ...common, '--json'],
      ['rank', ...common, '--file', 'src/main.ts', '--line', '4', '--json'],
      ['report', ...common, 'src/main.ts:4'],
      ['pack', ...common, '--format', 'xml', 'src/main.ts:4'],
      ['cost', '--model', 'gpt-4o', '--tokens', '8000', '--json'],
      ['cost', '--list'],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, `${args[0]}: ${r.err}`);
    }
    assert.deepEqual(calls, []);
  });

  it('core: index, rank, pack and cost through the engine call no network API', async () => {
    const engine = await ContextEngine.open({ root: w.root, index: { workers: 0 }, ranker: { device: 'auto' } });
    try {
      await engine.refresh();
      const { report, prompt } = await engine.compute({ path: 'src/main.ts', line: 4, column: 0 }, emptySignals(), { budget: 500 });
      assert.ok(report.items.length > 0 && prompt.tokens > 0);
      const p = loadProfiles();
      estimateCost(p.models.get('gpt-4o')!, p.hardware.get('h100-sxm')!, { inputTokens: 1000, outputTokens: 100 });
    } finally {
      await engine.dispose();
    }
    assert.deepEqual(calls, []);
  });
});

describe('lint forbids network modules in product code', () => {
  it('importing https, http, net, tls, dgram, undici or calling fetch under src/core is an error', { timeout: 120_000 }, async () => {
    const { ESLint } = await import('eslint');
    const root = join(__dirname, '..', '..');
    const eslint = new ESLint({ cwd: root });
    const cases = [
      "import https from 'https';\nexport const x = https;\n",
      "import * as http from 'node:http';\nexport const x = http;\n",
      "import { connect } from 'net';\nexport const x = connect;\n",
      "import tls from 'tls';\nexport const x = tls;\n",
      "import dgram from 'node:dgram';\nexport const x = dgram;\n",
      "import { request } from 'undici';\nexport const x = request;\n",
      'export const x = () => fetch("https://example.invalid");\n',
    ];
    for (const code of cases) {
      for (const filePath of ['src/core/__network_probe.ts', 'src/cli/__network_probe.ts', 'src/extension/__network_probe.ts']) {
        const [res] = await eslint.lintText(code, { filePath: join(root, filePath) });
        const msgs = res.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals');
        assert.ok(msgs.length > 0 && msgs.every((m) => m.severity === 2), `${filePath}: ${code.split('\n')[0]} → ${JSON.stringify(res.messages)}`);
      }
    }
  });

  it('the network allow-list in eslint.config.mjs is empty', () => {
    const text = readFileSync(join(__dirname, '..', '..', 'eslint.config.mjs'), 'utf8');
    assert.match(text, /const networkAllowList = \[\];/);
    for (const name of ['http', 'https', 'net', 'tls', 'dgram', 'undici']) assert.ok(text.includes(`'${name}'`), name);
  });
});
