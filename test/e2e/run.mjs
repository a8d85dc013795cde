#!/usr/bin/env node
// End-to-end suite: packages the linux-x64 VSIX, installs it into a real VS Code
// (code-server 4.100.3, installed by test/e2e/setup.sh into test/e2e/.host/), opens
// the fixture workspace in Debian's Chromium through playwright-core and checks what
// is on screen. Nothing leaves the machine: code-server binds to 127.0.0.1 with its
// own --config, --user-data-dir, --extensions-dir and XDG dirs under .host/run/.
//
//   npm run test:e2e                    everything (packaging included)
//   node test/e2e/run.mjs --no-package  reuse the VSIX from the last `npm run package`
//   node test/e2e/run.mjs --vsix=FILE   test that VSIX
//   node test/e2e/run.mjs --only=panel  scenarios whose name contains "panel"
//   node test/e2e/run.mjs --all         also run scenarios whose prerequisites are missing
//
// A scenario whose prerequisite is not in the extension yet (a command missing from
// package.json, say) is reported as "pending" with the reason; it runs as soon as
// the prerequisite lands. Screenshots and logs go to test/e2e/artifacts/.
// Last line: "N passed, N failed". Exit code 1 when anything failed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const E2E = path.dirname(fileURLToPath(import.meta.url));
// E2E_PROJECT_ROOT: test another checkout's package.json, dist/ and VSIX with this harness.
const ROOT = process.env.E2E_PROJECT_ROOT ? path.resolve(process.env.E2E_PROJECT_ROOT) : path.resolve(E2E, '..', '..');
const HOST = process.env.E2E_HOST_DIR || path.join(E2E, '.host');
const CS_VERSION = '4.100.3';
const CS_ENTRY = path.join(HOST, `code-server-${CS_VERSION}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const RUN = path.join(HOST, 'run');
const ART = path.join(E2E, 'artifacts');
const FIXTURE = path.join(E2E, 'fixture');
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const MAX_VSIX_BYTES = 40 * 1024 * 1024;

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const EXT_ID = `${pkg.publisher}.${pkg.name}`;
const STATUS_ITEM_ID = 'contextBudget.status';
const STATUS_DOM_ID = `${EXT_ID}.${STATUS_ITEM_ID}`;
const WEBVIEW_FRAME = `iframe.webview.ready[src*="extensionId=${EXT_ID}"]`;

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ONLY = opt('only');
const RUN_ALL = flag('all');

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const log = (msg) => console.log(`[e2e ${elapsed()}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

function run(cmd, args, { cwd = ROOT, env = process.env, quiet = false } = {}) {
  const res = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status ?? res.signal}:\n${out.slice(-4000)}`);
  }
  if (!quiet && out.trim()) process.stdout.write(out.replace(/^/gm, '    '));
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function waitHttp(url, ms) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const once = () =>
      http
        .get(url, (r) => {
          r.resume();
          resolve();
        })
        .on('error', () => (Date.now() > end ? reject(new Error(`timeout waiting for ${url}`)) : setTimeout(once, 150)));
    once();
  });
}

/** 1-based line of the first line containing `needle` in a fixture file. */
function lineOf(rel, needle) {
  const lines = fs.readFileSync(path.join(FIXTURE, rel), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture ${rel} has no line with ${JSON.stringify(needle)}`);
  return i + 1;
}

/** Names in a zip's central directory. */
function zipEntries(file) {
  const buf = fs.readFileSync(file);
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    const n = buf.readUInt16LE(p + 28), m = buf.readUInt16LE(p + 30), k = buf.readUInt16LE(p + 32);
    names.push(buf.toString('utf8', p + 46, p + 46 + n));
    p += 46 + n + m + k;
  }
  return names;
}

/**
 * Numbers as the UI may render them: "1234", "1,234", "3.1k", "12k", "1.2M".
 * Each becomes the range [lo, hi] of exact values that would render that way.
 */
export function numbersIn(text) {
  const out = [];
  for (const m of text.matchAll(/(\d[\d,]*(?:\.\d+)?)\s*([kKM])?(?![\w])/g)) {
    const raw = m[1].replace(/,/g, '');
    const v = Number(raw);
    if (!Number.isFinite(v)) continue;
    const unit = m[2] ? (m[2] === 'M' ? 1e6 : 1e3) : 1;
    if (unit === 1) {
      out.push({ text: m[0], lo: v, hi: v });
      continue;
    }
    const decimals = raw.includes('.') ? raw.split('.')[1].length : 0;
    // Trailing zeros may have been trimmed ("3k" for 3.0k): allow one more decimal of slack.
    const half = (0.5 * unit) / 10 ** Math.max(0, decimals);
    out.push({ text: m[0], lo: v * unit - half, hi: v * unit + half });
  }
  return out;
}
const shows = (text, n) => numbersIn(text).some((r) => n >= r.lo && n <= r.hi);

/** `path:12–40`, as webview/format.ts formatLocation renders it. */
const location = (p, a, b) => (a === b ? `${p}:${a}` : `${p}:${a}–${b}`);

function contributedCommand(id) {
  return (pkg.contributes?.commands ?? []).find((c) => c.command === id);
}
function commandLabel(id) {
  const c = contributedCommand(id);
  return c ? (c.category ? `${c.category}: ${c.title}` : c.title) : undefined;
}
const needCommand = (id) => () => (contributedCommand(id) ? null : `package.json contributes no command ${id}`);
const needFile = (rel) => () => (fs.existsSync(path.join(ROOT, rel)) ? null : `${rel} does not exist`);
const needAll = (...checks) => () => checks.map((c) => c()).find(Boolean) ?? null;

// ---------------------------------------------------------------------------
// The host: code-server sessions and the browser
// ---------------------------------------------------------------------------

const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.colorTheme': 'Default Dark Modern',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.commandCenter.enabled': false,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'npm.autoDetect': 'off',
  'typescript.tsserver.enabled': false,
  'typescript.validate.enable': false,
  'editor.minimap.enabled': false,
  'files.autoSave': 'off',
};

function xdgEnv(dir) {
  const env = { ...process.env };
  for (const k of ['XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME']) env[k] = path.join(dir, 'xdg', k.toLowerCase());
  delete env.VSCODE_IPC_HOOK_CLI;
  // No marketplace: a closed loopback port instead of open-vsx.org, so nothing can leave the machine.
  env.EXTENSIONS_GALLERY = JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item', resourceUrlTemplate: 'http://127.0.0.1:9/r/{publisher}/{name}/{version}/{path}' });
  return env;
}

function csArgs(dir) {
  return ['--config', path.join(dir, 'config.yaml'), '--user-data-dir', path.join(dir, 'ud'), '--extensions-dir', path.join(RUN, 'ext')];
}

function writeSessionFiles(dir, { trust, port }) {
  fs.mkdirSync(path.join(dir, 'ud', 'User'), { recursive: true });
  const config = [
    `bind-addr: 127.0.0.1:${port}`,
    'auth: none',
    'cert: false',
    'disable-telemetry: true',
    'disable-update-check: true',
    'disable-getting-started-override: true',
    'disable-file-downloads: true',
    ...(trust ? [] : ['disable-workspace-trust: true']),
  ];
  fs.writeFileSync(path.join(dir, 'config.yaml'), config.join('\n') + '\n');
  const settings = {
    ...BASE_SETTINGS,
    ...(trust
      ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.emptyWindow': false }
      : {}),
  };
  fs.writeFileSync(path.join(dir, 'ud', 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  return settings;
}

async function startSession(name, { trust = false } = {}) {
  const dir = path.join(RUN, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const settings = writeSessionFiles(dir, { trust, port });
  const ws = path.join(dir, 'ws');
  fs.cpSync(FIXTURE, ws, { recursive: true });
  const logFile = path.join(dir, 'code-server.log');
  const fd = fs.openSync(logFile, 'w');
  const proc = spawn(process.execPath, [CS_ENTRY, ...csArgs(dir), ws], { stdio: ['ignore', fd, fd], env: xdgEnv(dir), detached: false });
  fs.closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/healthz`, 30_000);
  log(`code-server (${name}) listening on ${url}`);
  return { name, dir, ws, port, url, proc, logFile, settings, ud: path.join(dir, 'ud') };
}

async function stopSession(s) {
  if (!s?.proc || s.proc.exitCode !== null) return;
  s.proc.kill('SIGTERM');
  await Promise.race([new Promise((r) => s.proc.once('exit', r)), sleep(5000)]);
  if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
}

async function openWorkbench(browser, s) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
  const page = await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  await page.goto(`${s.url}/?folder=${encodeURIComponent(s.ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  // The status bar is part of the restored workbench; wait for the editor area too.
  await page.locator('.part.statusbar').waitFor({ timeout: 60_000 });
  s.workbenchReadyAt = Date.now();
  log(`workbench ready (${s.name})`);
  return { context, page, consoleLines };
}

// ---------------------------------------------------------------------------
// Driving the workbench like a person would
// ---------------------------------------------------------------------------

class Workbench {
  constructor(page, session) {
    this.page = page;
    this.s = session;
  }

  /** Opens the quick input (F1), types `text`; then clicks the row labelled exactly `rowLabel`, or presses Enter when none is given. */
  async quickInput(text, rowLabel) {
    const { page } = this;
    const input = page.locator('.quick-input-widget input');
    for (let attempt = 0; attempt < 3; attempt++) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      try {
        await input.waitFor({ state: 'visible', timeout: 5000 });
        break;
      } catch {
        // Focus may be inside a webview, which swallows F1: move focus to the workbench.
        await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => {});
      }
    }
    await input.fill(text);
    if (rowLabel) {
      const row = this.quickRow(rowLabel);
      await row.waitFor({ timeout: 15_000 });
      await row.click();
    } else {
      await sleep(300);
      await page.keyboard.press('Enter');
    }
  }

  /** The quick input row whose label is exactly `label`. */
  quickRow(label) {
    const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    return this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exact }) })
      .first();
  }

  async command(id) {
    const label = commandLabel(id);
    if (!label) throw new Error(`command ${id} is not contributed`);
    await this.quickInput(`>${label}`, label);
  }

  /** Opens a workspace file (path relative to the fixture) through Quick Open. */
  async openFile(rel) {
    await this.quickInput(rel, path.basename(rel));

    await this.page.locator(`.tabs-container .tab[data-resource-name="${path.basename(rel)}"]`).first().waitFor({ timeout: 15_000 });
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 15_000 });
  }

  /** Moves the cursor to `line` (1-based), column 1, and waits for the selection readout. */
  async gotoLine(line) {
    await this.quickInput(`:${line}`);
    await this.page.locator('[id="status.editor.selection"]', { hasText: `Ln ${line},` }).waitFor({ timeout: 10_000 });
  }

  statusItem() {
    return this.page.locator(`[id="${STATUS_DOM_ID}"]`);
  }

  /** Visible text plus accessible labels of the extension's status bar item. */
  async statusReadout() {
    const item = this.statusItem();
    if ((await item.count()) === 0) return null;
    return item.first().evaluate((el) => {
      const labels = [el, ...el.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label')).filter(Boolean);
      return { text: el.innerText.trim(), aria: labels.join(' | ') };
    });
  }

  /** Polls the status bar until `ok(readout)` holds; returns the last readout. */
  async waitStatus(ok, timeoutMs, what) {
    const end = Date.now() + timeoutMs;
    let last = null;
    while (Date.now() < end) {
      last = await this.statusReadout();
      if (last && ok(last)) return last;
      await sleep(250);
    }
    throw new Error(`status bar item ${STATUS_DOM_ID}: ${what} not seen within ${timeoutMs / 1000}s; last readout: ${JSON.stringify(last)}`);
  }

  /** The panel's webview document (the extension's HTML inside VS Code's webview host). */
  webview() {
    return this.page.frameLocator(WEBVIEW_FRAME).last().frameLocator('#active-frame');
  }

  async webviewText(timeoutMs = 30_000) {
    const body = this.webview().locator('body');
    await body.waitFor({ timeout: timeoutMs });
    return body.innerText();
  }

  /** Waits until the webview's text satisfies `ok`. */
  async waitWebview(ok, timeoutMs, what) {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      try {
        last = await this.webview().locator('body').innerText({ timeout: 2000 });
        if (ok(last)) return last;
      } catch {
        // frame not there yet
      }
      await sleep(300);
    }
    throw new Error(`panel: ${what} not seen within ${timeoutMs / 1000}s; panel text: ${JSON.stringify(last.slice(0, 600))}`);
  }

  /** Picks a colour theme through "Preferences: Color Theme", as a person would. `label` as the picker shows it ("Dark Modern"). */
  async setTheme(label) {
    await this.quickInput('>Preferences: Color Theme', 'Preferences: Color Theme');
    const input = this.page.locator('.quick-input-widget input');
    await this.quickRow('Dark Modern').waitFor({ timeout: 10_000 });
    await input.fill(label);
    // Only an exact label: never "Browse Additional Color Themes..." (a marketplace query).
    const row = this.quickRow(label);
    await row.waitFor({ timeout: 10_000 });
    await row.click();
  }

  async setUserSetting(key, value) {
    const file = path.join(this.s.ud, 'User', 'settings.json');
    const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
    settings[key] = value;
    fs.writeFileSync(file, JSON.stringify(settings, null, 2));
  }

  async screenshot(name) {
    const file = path.join(ART, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}

/** The CLI's view of the same position: `node dist/cli.js rank --root WS --file F --line N --json`. */
function cliRank(ws, file, line) {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const res = spawnSync(process.execPath, [cli, 'rank', '--root', ws, '--file', file, '--line', String(line), '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`CLI rank failed (${res.status}): ${(res.stderr || res.stdout).slice(-1500)}`);
  const report = JSON.parse(res.stdout);
  for (const k of ['cursor', 'totals', 'budget']) if (!(k in report)) throw new Error(`CLI rank --json has no "${k}" field`);
  return report;
}

/** The status readout shows the CLI's numbers: selected tokens, and the budget when it shows two numbers or more. */
function statusMatches(readout, report) {
  const all = `${readout.text} ${readout.aria}`;
  const nums = numbersIn(readout.text);
  if (!shows(all, report.totals.selectedTokens)) return false;
  if (nums.length >= 2 && !shows(all, report.budget)) return false;
  return true;
}
const expectText = (r) => `selectedTokens=${r.totals.selectedTokens} budget=${r.budget} cursor.tokens=${r.cursor.tokens}`;

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

const CART = 'src/cart.ts';
const PRICING = 'src/pricing.ts';
const state = {}; // shared between scenarios of one run

/** @type {{name: string, session?: 'main'|'untrusted', requires?: () => string|null, timeoutMs?: number, run: (ctx: any) => Promise<string|void>}[]} */
const SCENARIOS = [
  {
    name: 'vsix: ≤ 40 MB, file list = vsce ls whitelist, linux-x64 binaries only',
    async run({ vsix }) {
      const size = fs.statSync(vsix).size;
      if (size > MAX_VSIX_BYTES) throw new Error(`VSIX is ${(size / 1048576).toFixed(2)} MB > 40 MB`);
      const renamed = { 'readme.md': 'README.md', 'LICENSE.txt': 'LICENSE', 'changelog.md': 'CHANGELOG.md' };
      const files = zipEntries(vsix)
        .filter((e) => e.startsWith('extension/'))
        .map((e) => renamed[e.slice(10)] ?? e.slice(10))
        .sort();
      const listed = run(process.execPath, [path.join(ROOT, 'node_modules/@vscode/vsce/vsce'), 'ls', '--no-dependencies'], { quiet: true })
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !/^(npm )?warn/i.test(l))
        .sort();
      const extra = files.filter((f) => !listed.includes(f));
      const missing = listed.filter((f) => !files.includes(f));
      if (extra.length || missing.length) throw new Error(`VSIX differs from vsce ls: extra ${JSON.stringify(extra)}, missing ${JSON.stringify(missing)}`);
      const bad = files.filter((f) => /^(src|test|webview|scripts|bench)\/|\.map$|\.d\.ts$|\.ts$|\/(darwin|win32|arm64)\//.test(f));
      if (bad.length) throw new Error(`files outside the whitelist: ${bad.join(', ')}`);
      const bins = files.filter((f) => /\.(node|so(\.\d+)*|dll|dylib)$/.test(f));
      const foreign = bins.filter((f) => !f.startsWith('dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/'));
      if (foreign.length) throw new Error(`non-linux-x64 binaries: ${foreign.join(', ')}`);
      for (const need of ['onnxruntime_binding.node', 'libonnxruntime.so.1']) {
        if (!bins.some((b) => b.endsWith(need))) throw new Error(`VSIX lacks ${need}`);
      }
      return `${(size / 1048576).toFixed(2)} MB, ${files.length} files`;
    },
  },
  {
    name: 'vsix installs into a fresh extensions dir with no download',
    async run({ installOutput }) {
      const dirs = fs.readdirSync(path.join(RUN, 'ext')).filter((d) => d.startsWith(`${EXT_ID}-`));
      if (dirs.length !== 1) throw new Error(`expected one ${EXT_ID}-* folder in the extensions dir, found ${JSON.stringify(dirs)}`);
      const manifest = fs.readFileSync(path.join(RUN, 'ext', dirs[0], '.vsixmanifest'), 'utf8');
      if (!manifest.includes('TargetPlatform="linux-x64"')) throw new Error(`installed ${dirs[0]} is not the linux-x64 build`);
      const binding = path.join(RUN, 'ext', dirs[0], 'dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node');
      if (!fs.existsSync(binding)) throw new Error('installed extension lacks the ONNX Runtime binding');
      if (!/successfully installed/i.test(installOutput)) throw new Error(`install output: ${installOutput}`);
      return dirs[0];
    },
  },
  {
    name: 'status bar shows a token count equal to the CLI rank for the same position',
    session: 'main',
    requires: needFile('dist/cli.js'),
    timeoutMs: 120_000,
    async run({ wb, session }) {
      await wb.openFile(CART);
      const line = lineOf(CART, 'let sum = 0');
      await wb.gotoLine(line);
      const report = cliRank(session.ws, CART, line);
      state.first = { line, report };
      const r = await wb.waitStatus((x) => statusMatches(x, report), 60_000, `CLI numbers (${expectText(report)})`);
      state.first.readout = r;
      await wb.screenshot('status-bar');
      return `"${r.text}" matches ${expectText(report)}`;
    },
  },
  {
    name: 'cursor on a function using an imported symbol: readout changes, panel lists the definition as selected',
    session: 'main',
    requires: needAll(needFile('dist/cli.js'), needCommand('contextBudget.showPanel')),
    timeoutMs: 120_000,
    async run({ wb, session }) {
      if (!state.first) {
        await wb.openFile(CART);
      }
      const line = lineOf(CART, 'const net = applyDiscount(');
      await wb.gotoLine(line);
      const report = cliRank(session.ws, CART, line);
      const changed = !state.first || state.first.report.totals.selectedTokens !== report.totals.selectedTokens || state.first.report.budget !== report.budget;
      const r = await wb.waitStatus(
        (x) => statusMatches(x, report) && (!changed || !state.first?.readout || x.text !== state.first.readout.text),
        10_000,
        `updated CLI numbers (${expectText(report)})`,
      );
      // The definition of applyDiscount, as the CLI ranks it.
      const defLine = lineOf(PRICING, 'export function applyDiscount');
      const def = report.items.find((it) => it.path === PRICING && it.startLine <= defLine && defLine <= it.endLine);
      if (!def) throw new Error(`CLI rank lists no chunk of ${PRICING} covering line ${defLine}`);
      if (!def.selected) throw new Error(`CLI rank does not select the definition chunk ${def.id} (${def.reason})`);
      const loc = location(def.path, def.startLine, def.endLine);
      // Open the panel from the status bar, as a person would.
      await wb.statusItem().first().click();
      const text = await wb.waitWebview((t) => t.includes(loc), 30_000, `definition chunk "${loc}"`);
      const section = await selectedSectionText(wb);
      if (section !== null && !section.includes(loc)) throw new Error(`"${loc}" is in the panel but not in its selected list`);
      state.panelOpen = true;
      await wb.screenshot('panel-definition');
      return `status "${r.text}"; panel lists ${loc}${section === null ? ' (selected list not identifiable in the DOM)' : ' as selected'}; ${text.length} chars of panel text`;
    },
  },
  {
    name: 'panel opens from the command palette and lists chunks',
    session: 'main',
    requires: needCommand('contextBudget.showPanel'),
    timeoutMs: 90_000,
    async run({ wb }) {
      if (!state.first) {
        await wb.openFile(CART);
        await wb.gotoLine(lineOf(CART, 'const net = applyDiscount('));
      }
      await wb.command('contextBudget.showPanel');
      const text = await wb.waitWebview((t) => /\S+:\d+(–\d+)?/.test(t), 45_000, 'a chunk location (path:start–end)');
      state.panelOpen = true;
      const locs = text.match(/[\w./-]+\.\w+:\d+(–\d+)?/g) ?? [];
      return `${locs.length} chunk locations, e.g. ${locs.slice(0, 3).join(', ')}`;
    },
  },
  {
    name: 'lower budget: chunks move to dropped with reason "over budget"; a pinned chunk stays selected',
    session: 'main',
    requires: () => 'needs stable DOM hooks in the panel: budget input [data-testid="budget-input"], rows [data-testid="chunk-row"][data-chunk-id] with a pin button [data-testid="pin"], sections [data-testid="selected-list"] / [data-testid="dropped-list"]',
    timeoutMs: 90_000,
    async run({ wb }) {
      const view = wb.webview();
      const selectedRows = view.locator('[data-testid="selected-list"] [data-testid="chunk-row"]');
      await selectedRows.first().waitFor({ timeout: 30_000 });
      const pinId = await selectedRows.last().getAttribute('data-chunk-id');
      await selectedRows.last().locator('[data-testid="pin"]').click();
      const budget = view.locator('[data-testid="budget-input"]');
      await budget.fill(String(state.first?.report?.budgetSplit?.cursor ?? 256));
      await budget.press('Enter');
      const dropped = view.locator('[data-testid="dropped-list"] [data-testid="chunk-row"]', { hasText: 'over budget' });
      await dropped.first().waitFor({ timeout: 20_000 });
      const stillSelected = view.locator(`[data-testid="selected-list"] [data-chunk-id="${pinId}"]`);
      await stillSelected.waitFor({ timeout: 10_000 });
      return `${await dropped.count()} rows dropped "over budget"; pinned ${pinId} stays selected`;
    },
  },
  {
    name: '"Copy Context as Prompt": clipboard token count equals the panel total',
    session: 'main',
    requires: needCommand('contextBudget.copyPrompt'),
    timeoutMs: 90_000,
    async run({ wb, page }) {
      await page.evaluate(() => navigator.clipboard.writeText('')).catch(() => {});
      await wb.command('contextBudget.copyPrompt');
      let clip = '';
      const end = Date.now() + 20_000;
      while (!clip && Date.now() < end) {
        clip = await page.evaluate(() => navigator.clipboard.readText()).catch(() => '');
        if (!clip) await sleep(300);
      }
      if (!clip) throw new Error('clipboard stayed empty');
      const report = state.first?.report;
      const encoding = report?.encoding ?? 'o200k_base';
      const tokens = countTokens(clip, encoding);
      const panel = await wb.webviewText().catch(() => '');
      const total = panel.match(/(?:total|prompt)[^\d]{0,40}([\d,.]+\s*[kM]?)/i);
      if (!total) throw new Error(`no total in the panel text to compare with ${tokens} clipboard tokens`);
      if (!shows(total[0], tokens)) throw new Error(`clipboard has ${tokens} ${encoding} tokens; the panel shows "${total[0]}"`);
      return `${tokens} tokens (${encoding}); panel "${total[0]}"`;
    },
  },
  {
    name: 'dark and high-contrast themes: screenshots of the panel saved',
    session: 'main',
    timeoutMs: 60_000,
    async run({ wb, page }) {
      const shots = [];
      for (const [theme, cls, webviewCls, file] of [
        ['Dark Modern', 'vs-dark', 'vscode-dark', 'panel-dark'],
        ['Dark High Contrast', 'hc-black', 'vscode-high-contrast', 'panel-high-contrast'],
      ]) {
        await wb.setTheme(theme);
        await page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 20_000 });
        if (state.panelOpen) {
          await wb.webview().locator(`body.${webviewCls}`).waitFor({ timeout: 20_000 });
        }
        await sleep(800); // let the webview repaint with the new theme colours
        shots.push(path.relative(ROOT, await wb.screenshot(file)));
        if (state.panelOpen) {
          const panelFile = path.join(ART, `${file}-webview.png`);
          await page.locator(WEBVIEW_FRAME).last().screenshot({ path: panelFile });
          shots.push(path.relative(ROOT, panelFile));
        }
      }
      await wb.setTheme('Dark Modern');
      return `${shots.join(', ')}${state.panelOpen ? '' : ' (panel was not open: workbench only)'}`;
    },
  },
  {
    name: 'untrusted workspace: the extension runs as package.json declares (capabilities.untrustedWorkspaces)',
    session: 'untrusted',
    timeoutMs: 120_000,
    async run({ wb, page }) {
      const declared = pkg.capabilities?.untrustedWorkspaces?.supported ?? false;
      await page.locator('[id="status.workspaceTrust"]').first().waitFor({ timeout: 30_000 }).catch(() => {
        throw new Error('the workbench does not show Restricted Mode');
      });
      await wb.openFile(CART);
      await wb.gotoLine(lineOf(CART, 'const net = applyDiscount('));
      if (declared === false) {
        await sleep(8000);
        const r = await wb.statusReadout();
        if (r) throw new Error(`declared untrustedWorkspaces.supported=false, yet the status item shows "${r.text}"`);
        await wb.screenshot('untrusted');
        return 'restricted mode: extension disabled as declared';
      }
      const r = await wb.waitStatus((x) => x.text.length > 0, 45_000, 'any readout');
      await wb.screenshot('untrusted');
      return `restricted mode (supported=${JSON.stringify(declared)}): status "${r.text}"`;
    },
  },
  {
    name: 'extension host log: no errors or unhandled rejections; activation after the workbench is ready',
    session: 'after-main',
    async run({ session }) {
      const logs = findLogs(session.ud);
      if (!logs.exthost.length) throw new Error(`no extension host log under ${session.ud}/logs`);
      const problems = [];
      const activation = [];
      let eagerDone = false;
      for (const f of [...logs.exthost, ...logs.extension]) {
        for (const entry of logEntries(fs.readFileSync(f, 'utf8'))) {
          if (entry.includes('Eager extensions activated')) eagerDone = true;
          if (entry.includes(`_doActivateExtension ${EXT_ID},`)) {
            activation.push(entry.trim());
            if (!eagerDone) problems.push(`activated before the eager (startup) extensions finished: ${entry.trim()}`);
          }
          if (/^\S+ \S+ \[error\]/.test(entry) || /unhandled|rejected promise not handled/i.test(entry)) {
            problems.push(`${path.basename(f)}: ${entry.trim().split('\n').slice(0, 4).join('\n    ')}`);
          }
        }
      }
      // What the extension host forwards to the workbench (uncaught errors are attributed to an extension id).
      for (const line of session.consoleLines ?? []) {
        if (line.includes(`[${EXT_ID}]`) || (/rejected promise not handled/i.test(line) && line.includes(EXT_ID))) problems.push(`browser console: ${line.slice(0, 300)}`);
      }
      if (!activation.length) throw new Error(`the extension host never activated ${EXT_ID}`);
      const m = /startup: (\w+), activationEvent: '([^']*)'/.exec(activation[0]);
      if (m && m[1] === 'true') problems.push(`activated during startup (${m[2]}), before the workbench was ready`);
      const at = logTime(activation[0]);
      if (at && session.workbenchReadyAt && at < session.workbenchReadyAt - 2000) {
        problems.push(`activated at ${new Date(at).toISOString()}, before the workbench was ready (${new Date(session.workbenchReadyAt).toISOString()})`);
      }
      if (problems.length) throw new Error(problems.slice(0, 20).join('\n'));
      return `${logs.exthost.length + logs.extension.length} log files clean; ${m ? `activationEvent ${m[2]}` : activation[0]}`;
    },
  },
];

/** Waits until the extension host log shows our activation (or the time runs out: scenarios then report why). */
async function waitActivation(session, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const f of findLogs(session.ud).exthost) {
      const line = fs.readFileSync(f, 'utf8').split('\n').find((l) => l.includes(`_doActivateExtension ${EXT_ID}`));
      if (line) {
        log(`${EXT_ID} activated (${/activationEvent: '([^']*)'/.exec(line)?.[1] ?? '?'})`);
        return true;
      }
    }
    await sleep(250);
  }
  log(`${EXT_ID} not activated after ${ms / 1000}s`);
  return false;
}

/** Text of the panel's "selected" list, or null when the DOM has no recognisable one. */
async function selectedSectionText(wb) {
  const view = wb.webview();
  for (const sel of ['[data-testid="selected-list"]', '#selected', '.selected-list', 'section.selected']) {
    const loc = view.locator(sel);
    if ((await loc.count()) > 0) return loc.first().innerText();
  }
  return null;
}

function countTokens(text, encoding) {
  const { Tiktoken } = require(path.join(ROOT, 'node_modules/tiktoken/lite'));
  const enc = require(path.join(ROOT, `node_modules/tiktoken/encoders/${encoding}.json`));
  const t = new Tiktoken(enc.bpe_ranks, enc.special_tokens, enc.pat_str);
  try {
    return t.encode(text, 'all').length;
  } finally {
    t.free();
  }
}

function findLogs(ud) {
  const out = { exthost: [], extension: [] };
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (/exthost\.log$/.test(n)) out.exthost.push(p);
      else if (p.includes(EXT_ID) && n.endsWith('.log')) out.extension.push(p);
    }
  };
  walk(path.join(ud, 'logs'));
  return out;
}

/** A log file split into entries: a line starting with a timestamp plus its continuation lines (stacks). */
function logEntries(text) {
  const entries = [];
  for (const line of text.split('\n')) {
    if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(line) || !entries.length) entries.push(line);
    else entries[entries.length - 1] += `\n${line}`;
  }
  return entries;
}

/** "2025-11-27 20:50:01.123 [info] ..." → epoch ms (local time). */
function logTime(line) {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d+)/.exec(line);
  return m ? new Date(`${m[1]}T${m[2]}`).getTime() : null;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main() {
  const results = [];
  const record = (name, status, detail, ms) => {
    results.push({ name, status, detail, ms });
    const tag = { pass: 'PASS', fail: 'FAIL', pending: 'PENDING' }[status];
    console.log(`${tag.padEnd(7)} ${name}${ms !== undefined ? ` (${(ms / 1000).toFixed(1)}s)` : ''}${detail ? `\n        ${String(detail).replace(/\n/g, '\n        ')}` : ''}`);
  };
  fs.mkdirSync(ART, { recursive: true });
  for (const f of fs.readdirSync(ART)) if (f.endsWith('.png') || f.endsWith('.log') || f.endsWith('.json')) fs.rmSync(path.join(ART, f));

  // 1. Host.
  log('setup (cached in test/e2e/.host)');
  run('bash', [path.join(E2E, 'setup.sh')]);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install -y chromium`);

  // 2. VSIX.
  let vsix = opt('vsix') && path.resolve(opt('vsix'));
  if (!vsix) {
    if (!flag('no-package')) {
      log('npm run package');
      run('npm', ['run', '--silent', 'package'], { quiet: true });
    }
    vsix = path.join(ROOT, `${pkg.name}-linux-x64-${pkg.version}.vsix`);
  }
  if (!fs.existsSync(vsix)) throw new Error(`no VSIX at ${vsix}`);
  log(`VSIX ${path.relative(ROOT, vsix)} (${(fs.statSync(vsix).size / 1048576).toFixed(2)} MB)`);

  // 3. Fresh extensions dir; install like a user would.
  fs.rmSync(RUN, { recursive: true, force: true });
  fs.mkdirSync(path.join(RUN, 'ext'), { recursive: true });
  const installDir = path.join(RUN, 'install');
  writeSessionFiles(installDir, { trust: false, port: await freePort() });
  const installOutput = run(process.execPath, [CS_ENTRY, ...csArgs(installDir), '--install-extension', vsix], { env: xdgEnv(installDir), quiet: true });
  log(`installed: ${installOutput.trim().split('\n').pop()}`);

  const selected = SCENARIOS.filter((s) => !ONLY || s.name.includes(ONLY));
  const ready = (s) => (RUN_ALL || !s.requires ? null : s.requires());

  async function runScenario(s, ctx) {
    const why = ready(s);
    if (why) return record(s.name, 'pending', why);
    const start = Date.now();
    try {
      const detail = await Promise.race([
        s.run(ctx),
        sleep(s.timeoutMs ?? 60_000).then(() => {
          throw new Error(`timed out after ${(s.timeoutMs ?? 60_000) / 1000}s`);
        }),
      ]);
      record(s.name, 'pass', detail, Date.now() - start);
    } catch (e) {
      const safe = s.name.replace(/[^\w]+/g, '-').slice(0, 60);
      if (ctx.wb) await ctx.wb.screenshot(`FAIL-${safe}`).catch(() => {});
      record(s.name, 'fail', e instanceof Error ? e.message : String(e), Date.now() - start);
    }
  }

  const pre = selected.filter((s) => !s.session);
  for (const s of pre) await runScenario(s, { vsix, installOutput });

  const { chromium } = require('playwright-core');
  let browser;
  const sessions = [];
  try {
    const needBrowser = selected.some((s) => s.session && !ready(s));
    if (needBrowser) {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'],
      });
    }
    for (const [sessionName, trust] of [['main', false], ['untrusted', true]]) {
      const group = selected.filter((s) => s.session === sessionName);
      const after = sessionName === 'main' ? selected.filter((s) => s.session === 'after-main') : [];
      if (!group.some((s) => !ready(s)) && !after.some((s) => !ready(s))) {
        for (const s of [...group, ...after]) await runScenario(s, {});
        continue;
      }
      const session = await startSession(sessionName, { trust });
      sessions.push(session);
      const { context, page, consoleLines } = await openWorkbench(browser, session);
      const wb = new Workbench(page, session);
      await waitActivation(session, trust ? 15_000 : 60_000);
      for (const s of group) await runScenario(s, { wb, page, session });
      await sleep(2000); // late errors still reach the log
      session.consoleLines = consoleLines;
      fs.writeFileSync(path.join(ART, `browser-console-${sessionName}.log`), consoleLines.join('\n'));
      await context.close();
      await stopSession(session);
      for (const s of after) await runScenario(s, { session });
      collectLogs(session);
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    for (const s of sessions) await stopSession(s);
  }

  const passed = results.filter((r) => r.status === 'pass').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  const pending = results.filter((r) => r.status === 'pending');
  fs.writeFileSync(path.join(ART, 'summary.json'), JSON.stringify({ results, seconds: (Date.now() - t0) / 1000 }, null, 2));
  console.log('');
  if (pending.length) console.log(`pending (prerequisite missing, not run): ${pending.length}`);
  console.log(`total time ${elapsed()}; artifacts in ${path.relative(ROOT, ART)}/`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

function collectLogs(session) {
  const dest = path.join(ART, `logs-${session.name}`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  fs.copyFileSync(session.logFile, path.join(dest, 'code-server.log'));
  const logs = findLogs(session.ud);
  for (const f of [...logs.exthost, ...logs.extension]) fs.copyFileSync(f, path.join(dest, path.basename(f)));
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[e2e] ${e instanceof Error ? e.stack : e}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
