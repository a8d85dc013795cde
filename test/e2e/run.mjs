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
//   node test/e2e/run.mjs --only=panel,theme  scenarios whose name contains "panel" or "theme"
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
/** The token budget the suite sets in user settings and passes to the CLI (small, so that ranking decides). */
const BUDGET = 2048;

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

/** `path:12–40`, as src/core/format.ts formatLocation renders it. */
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
  'contextBudget.budget': BUDGET,
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

  /** Hovers the status item and returns the hover's text ('' when none shows). */
  async statusHover() {
    const { page } = this;
    const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: /\S/ });
    await this.statusItem().first().hover();
    try {
      await hover.last().waitFor({ state: 'visible', timeout: 4000 });
      return await hover.last().innerText();
    } catch {
      return '';
    } finally {
      await page.mouse.move(700, 450);
      await page.keyboard.press('Escape');
    }
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

/**
 * The CLI's view of the same position:
 * `node dist/cli.js rank --root WS --file F --line N --budget B --open F --no-cache --json`
 * (the editor has F open in a tab; the CLI learns that from --open).
 */
function cliRank(ws, file, line, open = [file]) {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const args = [cli, 'rank', '--root', ws, '--file', file, '--line', String(line), '--budget', String(BUDGET), '--no-cache', '--json'];
  for (const o of open) args.push('--open', o);
  const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: xdgEnv(path.join(RUN, 'cli')) });
  if (res.status !== 0) throw new Error(`CLI rank failed (${res.status}): ${(res.stderr || res.stdout).slice(-1500)}`);
  let report;
  try {
    report = JSON.parse(res.stdout);
  } catch {
    throw new Error(`CLI rank --json printed no JSON: ${res.stdout.slice(0, 300)}`);
  }
  for (const k of ['cursor', 'totals', 'budget']) if (!(k in report)) throw new Error(`CLI rank --json has no "${k}" field`);
  report.items ??= report.chunks ?? [];
  return report;
}

const expectText = (r) =>
  `promptTokens=${r.totals.promptTokens} budget=${r.budget} cursor=${r.cursor.startLine}–${r.cursor.endLine}/${r.cursor.tokens} selectedTokens=${r.totals.selectedTokens}`;
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');

/** The visible readout shows "<used> / <budget>" consistent with the CLI (rounded forms like "2k" allowed). */
function statusTextMatches(readout, report) {
  const nums = numbersIn(readout.text);
  if (nums.length < 2) return false;
  const within = (r, n) => n >= r.lo && n <= r.hi;
  return within(nums[0], report.totals.promptTokens) && within(nums[1], report.budget);
}

/**
 * Exact numbers from the status item's hover (or its accessible label): "Prompt (exact) | 1,989 of 2,048",
 * "Cursor window (lines 1–46) | 390". Returns the mismatches against the CLI, [] when all agree.
 */
function exactMismatches(detail, report) {
  const problems = [];
  const flat = detail.replace(/\*\*/g, '').replace(/\s+/g, ' ');
  const prompt = /Prompt \(exact\)[ |]*([\d,]+) of ([\d,]+)/.exec(flat);
  if (!prompt) return [`no "Prompt (exact) N of B" in the hover: ${JSON.stringify(flat.slice(0, 300))}`];
  const used = Number(prompt[1].replace(/,/g, ''));
  const budget = Number(prompt[2].replace(/,/g, ''));
  if (used !== report.totals.promptTokens) problems.push(`prompt ${used} ≠ CLI promptTokens ${report.totals.promptTokens}`);
  if (budget !== report.budget) problems.push(`budget ${budget} ≠ CLI budget ${report.budget}`);
  const cur = /Cursor window \(lines (\d+)\D+?(\d+)\)[ |]*([\d,]+)/.exec(flat);
  if (cur) {
    const [sl, el, tk] = [Number(cur[1]), Number(cur[2]), Number(cur[3].replace(/,/g, ''))];
    if (sl !== report.cursor.startLine || el !== report.cursor.endLine) problems.push(`cursor window lines ${sl}–${el} ≠ CLI ${report.cursor.startLine}–${report.cursor.endLine}`);
    if (report.budgetSplit?.cursor !== undefined && tk !== report.budgetSplit.cursor && tk !== report.cursor.tokens) problems.push(`cursor window ${tk} tokens ≠ CLI ${report.cursor.tokens}`);
    else if (report.budgetSplit?.cursor === undefined && tk !== report.cursor.tokens) problems.push(`cursor window ${tk} tokens ≠ CLI cursor.tokens ${report.cursor.tokens}`);
  }
  return problems;
}

/** Waits until the status item agrees with the CLI: the visible text roughly, the hover exactly. */
async function waitStatusAgrees(wb, report, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let last = { readout: null, problems: ['no readout yet'] };
  while (Date.now() < end) {
    const readout = await wb.statusReadout();
    if (readout && statusTextMatches(readout, report)) {
      const detail = /Prompt \(exact\)/.test(readout.aria) ? readout.aria : await wb.statusHover();
      const problems = exactMismatches(detail, report);
      if (!problems.length) return { readout, detail };
      last = { readout, problems };
    } else {
      last = { readout, problems: [`visible text does not show ≈${report.totals.promptTokens} / ${report.budget}`] };
    }
    await sleep(700);
  }
  throw new Error(`status bar ${STATUS_DOM_ID} never agreed with the CLI (${expectText(report)}) within ${timeoutMs / 1000}s; last: ${JSON.stringify(last)}`);
}

const CART = 'src/cart.ts';
const PRICING = 'src/pricing.ts';
const state = {}; // shared between the scenarios of one run

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
      const { readout, detail } = await waitStatusAgrees(wb, report, 60_000);
      state.first = { line, report, readout, detail };
      await wb.screenshot('status-bar');
      return `"${readout.text}" at ${CART}:${line}; exact ${expectText(report)}`;
    },
  },
  {
    name: 'cursor on a function using an imported symbol: readout changes, panel lists the definition as selected',
    session: 'main',
    requires: needAll(needFile('dist/cli.js'), needCommand('contextBudget.showPanel')),
    timeoutMs: 120_000,
    async run({ wb, session }) {
      if (!state.first) await wb.openFile(CART);
      const line = lineOf(CART, 'const net = applyDiscount(');
      await wb.gotoLine(line);
      const report = cliRank(session.ws, CART, line);
      const { readout, detail } = await waitStatusAgrees(wb, report, 10_000);
      if (state.first && detail === state.first.detail) throw new Error(`the readout did not change after moving from line ${state.first.line} to ${line}`);
      // The chunk of src/pricing.ts the CLI selects as applyDiscount's definition.
      const defLine = lineOf(PRICING, 'export function applyDiscount');
      const defs = report.items.filter((it) => it.path === PRICING && it.selected && (it.sources ?? []).includes('definition'));
      if (!defs.length) throw new Error(`CLI rank selects no definition chunk of ${PRICING}: ${JSON.stringify(report.items.map((i) => [i.path, i.startLine, i.endLine, i.reason]))}`);
      const def = defs.find((it) => it.startLine <= defLine && defLine <= it.endLine) ?? defs[0];
      const loc = location(def.path, def.startLine, def.endLine);
      // Open the panel from the status bar, as a person would.
      await wb.statusItem().first().click();
      const sent = wb.webview().locator('ol.chunks-selected .chunk-loc', { hasText: loc });
      await sent.first().waitFor({ timeout: 30_000 }).catch(async () => {
        const text = await wb.webviewText(2000).catch(() => '');
        if (!text.trim()) state.panelBroken = true;
        throw new Error(`the panel's Sent list has no "${loc}"; panel text: ${JSON.stringify(text.slice(0, 800))}`);
      });
      state.panelOpen = true;
      await wb.screenshot('panel-definition');
      const covers = def.startLine <= defLine && defLine <= def.endLine;
      return `status "${readout.text}" (${expectText(report)}); Sent lists ${loc}${covers ? ` (covers applyDiscount, line ${defLine})` : ` — note: no selected chunk covers applyDiscount's line ${defLine}`}`;
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
      const rows = wb.webview().locator('ol.chunks-selected li.chunk .chunk-loc');
      await rows.first().waitFor({ timeout: 45_000 });
      state.panelOpen = true;
      const locs = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ''));
      const dropped = await wb.webview().locator('ol.chunks-dropped li.chunk').count();
      return `Sent: ${locs.join(', ')}; dropped rows: ${dropped}`;
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
    name: '"Copy Context as Prompt": clipboard token count equals the panel total',
    session: 'main',
    requires: needCommand('contextBudget.copyPromptMarkdown'),
    timeoutMs: 90_000,
    async run({ wb, page }) {
      if (state.panelBroken) throw new Error('the panel did not render (see the first panel scenario)');
      await page.evaluate(() => navigator.clipboard.writeText('')).catch(() => {});
      await wb.command('contextBudget.copyPromptMarkdown');
      let clip = '';
      const end = Date.now() + 20_000;
      while (!clip && Date.now() < end) {
        clip = await page.evaluate(() => navigator.clipboard.readText()).catch(() => '');
        if (!clip) await sleep(300);
      }
      if (!clip) throw new Error('the clipboard stayed empty');
      const encoding = state.first?.report?.encoding ?? 'o200k_base';
      const tokens = countTokens(clip, encoding);
      fs.writeFileSync(path.join(ART, 'copied-prompt.md'), clip);
      // The panel's total: the "Prompt tokens" card ("… · 2,034 exact").
      const card = await wb.webview().locator('.card-tokens').innerText({ timeout: 10_000 }).catch(() => '');
      const m = /([\d,]+)\s*exact/.exec(card);
      if (!m) throw new Error(`no exact prompt total ("N exact") in the panel's Prompt tokens card (${JSON.stringify(card)}) to compare with ${tokens} clipboard tokens`);
      const total = Number(m[1].replace(/,/g, ''));
      if (total !== tokens) throw new Error(`the clipboard holds ${tokens} ${encoding} tokens; the panel's Prompt tokens card says ${fmtInt(total)}`);
      // The budget bar's "N of B tokens used" should tell the same story.
      const summary = await wb.webview().locator('.budget-summary').innerText().catch(() => '');
      const used = /([\d,]+) of ([\d,]+) tokens/.exec(summary);
      const note = used && Number(used[1].replace(/,/g, '')) !== tokens ? `; note: the budget bar says "${summary}" (≠ ${tokens})` : '';
      return `${tokens} ${encoding} tokens = panel Prompt tokens card (${clip.length} chars, saved as artifacts/copied-prompt.md)${note}`;
    },
  },
  {
    name: 'lower budget: chunks move to dropped with reason "over budget"; a pinned chunk stays selected',
    session: 'main',
    requires: needCommand('contextBudget.showPanel'),
    timeoutMs: 90_000,
    async run({ wb }) {
      if (state.panelBroken) throw new Error('the panel did not render (see the first panel scenario)');
      const view = wb.webview();
      const sentRows = view.locator('ol.chunks-selected li.chunk[data-id]:not(.chunk-cursor)');
      await sentRows.first().waitFor({ timeout: 30_000 });
      // A person clicks into the panel first: the panel's editor group becomes the active one.
      await view.locator('h1').first().click();
      await sleep(1000);
      const before = await sentRows.count();
      // Pin the last chunk of the Sent list (the first to go when the budget shrinks).
      const pinRow = sentRows.nth(before - 1);
      const pinId = await pinRow.getAttribute('data-id');
      await pinRow.locator('.pin-btn').click();
      await view.locator(`ol.chunks-selected li.chunk.is-pinned[data-id="${pinId}"]`).waitFor({ timeout: 15_000 }).catch(async () => {
        const status = await wb.statusReadout();
        throw new Error(`clicking Pin on ${pinId} did not pin it (no li.is-pinned in the Sent list within 15 s)${status ? '' : '; the status bar item is gone too (the controller lost its editor when the panel took focus?)'}`);
      });
      // Lower the budget with the slider's keyboard: Page Down halves it (2048 → 1024).
      const overBudget = view.locator('ol.chunks-dropped li.chunk', { has: view.locator('.chunk-reason', { hasText: 'over budget' }) });
      const sentBefore = await sentRows.count();
      const overBefore = await overBudget.count();
      const slider = view.locator('#budget-slider');
      await slider.focus();
      await slider.press('PageDown');
      // The host re-packs: fewer chunks are sent, more are dropped "over budget".
      const end = Date.now() + 20_000;
      let sentAfter = sentBefore;
      let overAfter = overBefore;
      while (Date.now() < end) {
        sentAfter = await sentRows.count();
        overAfter = await overBudget.count();
        if (sentAfter < sentBefore && overAfter > overBefore) break;
        await sleep(300);
      }
      if (!(sentAfter < sentBefore && overAfter > overBefore)) {
        throw new Error(`after lowering the budget: Sent ${sentBefore} → ${sentAfter}, dropped "over budget" ${overBefore} → ${overAfter}`);
      }
      await view.locator(`ol.chunks-selected li.chunk.is-pinned[data-id="${pinId}"]`).waitFor({ timeout: 10_000 }).catch(() => {
        throw new Error(`pinned chunk ${pinId} left the Sent list when the budget went down`);
      });
      const summary = await view.locator('.budget-summary').innerText().catch(() => '');
      await wb.screenshot('panel-low-budget');
      return `Sent ${sentBefore} → ${sentAfter} chunks, dropped "over budget" ${overBefore} → ${overAfter}; pinned ${pinId} stays; "${summary}"`;
    },
  },
  {
    name: 'unsaved edit: the copied prompt holds the text typed at the cursor (the engine, in its own process, reads the editor, not the disk)',
    session: 'main',
    requires: needCommand('contextBudget.copyPromptMarkdown'),
    timeoutMs: 90_000,
    async run({ wb, page, session }) {
      const marker = `unsavedMarker${Date.now().toString(36)}`;
      await wb.openFile(CART);
      const line = lineOf(CART, 'const net = applyDiscount(');
      await wb.gotoLine(line);
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await page.keyboard.type(`// ${marker}`);
      if (fs.readFileSync(path.join(session.ws, CART), 'utf8').includes(marker)) throw new Error('the edit reached the disk: this scenario needs it unsaved');
      let clip = '';
      const end = Date.now() + 30_000;
      while (!clip.includes(marker) && Date.now() < end) {
        await sleep(1000); // past the edit and cursor debounces
        await page.evaluate(() => navigator.clipboard.writeText('')).catch(() => {});
        await wb.command('contextBudget.copyPromptMarkdown');
        for (const stop = Date.now() + 5000; !clip && Date.now() < stop; await sleep(200)) clip = await page.evaluate(() => navigator.clipboard.readText()).catch(() => '');
        if (!clip.includes(marker)) clip = '';
      }
      // Leave the file as it was for the scenarios after this one.
      await wb.quickInput('>File: Revert File', 'File: Revert File');
      if (!clip.includes(marker)) throw new Error(`the copied prompt never held the typed ${marker} within 30 s`);
      const at = clip.split('\n').findIndex((l) => l.includes(marker));
      return `"// ${marker}" typed at ${CART}:${line + 1}, unsaved: in the copied prompt (line ${at + 1} of ${clip.split('\n').length})`;
    },
  },
  {
    name: 'engine crash: its process killed, the extension starts it again and the status bar answers as before',
    session: 'main',
    timeoutMs: 150_000,
    async run({ wb, session }) {
      // The engine processes this session's extension host started (their script is in its extensions dir).
      const engines = () =>
        run('ps', ['-eo', 'pid=,args='], { quiet: true })
          .split('\n')
          .filter((l) => l.includes(path.join(RUN, 'ext')) && l.includes('dist/engineProcess.js'))
          .map((l) => Number(l.trim().split(/\s+/)[0]));
      /** The readout's exact label once it holds still for 1.5 s (and, with `not`, differs from it). */
      const settledLabel = async (not) => {
        let last = '';
        for (const stop = Date.now() + 60_000; Date.now() < stop; await sleep(1500)) {
          const aria = (await wb.statusReadout())?.aria ?? '';
          if (aria && aria === last && aria !== not && /\d/.test(aria)) return aria;
          last = aria;
        }
        throw new Error(`the status readout did not settle${not ? ' on a new answer' : ''} within 60 s; last: ${JSON.stringify(last)}`);
      };
      await wb.openFile(CART);
      const line = lineOf(CART, 'const net = applyDiscount(');
      await wb.gotoLine(line);
      const before = await settledLabel();
      // One per folder, and one for files outside the workspace once such a file was opened: all go.
      const killed = engines();
      if (!killed.length) throw new Error('no engine process of this session is running');
      for (const pid of killed) process.kill(pid, 'SIGKILL');
      const ours = () => findLogs(session.ud).extension.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
      const folder = path.basename(session.ws);
      let restarted = '';
      for (const stop = Date.now() + 30_000; Date.now() < stop && !restarted; await sleep(500)) {
        restarted = ours().split('\n').find((l) => l.includes(`the engine for ${folder} stopped; starting it again`)) ?? '';
      }
      if (!restarted) throw new Error(`killed engine processes ${killed.join(', ')}: the extension log never said it started ${folder}'s engine again`);
      // Another position first: only a live engine can answer it, so the readout back at the first one is not the old one left standing.
      await wb.gotoLine(1);
      await settledLabel(before);
      await wb.gotoLine(line);
      let after = '';
      for (const stop = Date.now() + 60_000; Date.now() < stop && after !== before; await sleep(700)) after = (await wb.statusReadout())?.aria ?? '';
      if (after !== before) throw new Error(`after the restart the readout at ${CART}:${line} is ${JSON.stringify(after)}, before the kill ${JSON.stringify(before)}`);
      const now = engines();
      if (!now.length || now.some((pid) => killed.includes(pid))) throw new Error(`engine processes after the restart: ${JSON.stringify(now)} (killed ${killed.join(', ')})`);
      return `killed ${killed.join(', ')} → "${restarted.replace(/^\S+ \S+ /, '')}", now ${now.join(', ')}; at ${CART}:${line} the readout is again "${before.split(' | ')[0]}"`;
    },
  },
  {
    name: 'chat hand-off: @budget and the tool are registered or their absence is explained; a vscode-lm model without chat models falls back and says so',
    session: 'main',
    timeoutMs: 60_000,
    async run({ wb, session }) {
      const ours = () => findLogs(session.ud).extension.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
      let chatLines = [];
      for (const stop = Date.now() + 20_000; Date.now() < stop && !chatLines.length; await sleep(500)) {
        chatLines = ours().split('\n').filter((l) => /chat: /.test(l));
      }
      if (!chatLines.length) throw new Error('the extension log says nothing about the chat participant or the tool');
      // Budget against VS Code's chat models: code-server has none, so the default profile must stay in use, said once.
      await wb.openFile(CART); // the extension starts its work with the first editor
      // A workspace setting, written as a person's editor would: the workspace's file watcher picks it up.
      const settingsFile = path.join(session.ws, '.vscode', 'settings.json');
      fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
      const before = fs.existsSync(settingsFile) ? fs.readFileSync(settingsFile, 'utf8') : undefined;
      fs.writeFileSync(settingsFile, JSON.stringify({ 'contextBudget.model': 'vscode-lm:copilot/gpt-4o' }, null, 2));
      const end = Date.now() + 30_000;
      let said = '';
      while (Date.now() < end && !said) {
        said = ours().split('\n').find((l) => /no chat models are available|vscode-lm/.test(l) && /warn|info/.test(l)) ?? '';
        await sleep(500);
      }
      if (before === undefined) fs.rmSync(settingsFile);
      else fs.writeFileSync(settingsFile, before);
      if (!said) throw new Error('setting contextBudget.model to vscode-lm:copilot/gpt-4o left no word in the log about the missing chat models');
      await sleep(1500);
      const readout = await wb.statusReadout();
      if (!readout || !/\d/.test(readout.text)) throw new Error(`the status bar lost its readout after the fallback: ${JSON.stringify(readout)}`);
      return `${chatLines.map((l) => l.replace(/^\S+ \S+ /, '')).join(' / ').slice(0, 240)} · fallback: ${said.replace(/^\S+ \S+ /, '').slice(0, 200)} · status "${readout.text}"`;
    },
  },
  {
    name: 'untrusted workspace: the extension runs as package.json declares (capabilities.untrustedWorkspaces)',
    session: 'untrusted',
    timeoutMs: 120_000,
    async run({ wb, page, session }) {
      const declared = pkg.capabilities?.untrustedWorkspaces?.supported ?? false;
      await page.locator('[id="status.workspaceTrust"]').first().waitFor({ timeout: 30_000 }).catch(() => {
        throw new Error('the workbench does not show Restricted Mode');
      });
      await wb.openFile(CART);
      const line = lineOf(CART, 'const net = applyDiscount(');
      await wb.gotoLine(line);
      if (declared === false) {
        await sleep(8000);
        const r = await wb.statusReadout();
        if (r) throw new Error(`declared untrustedWorkspaces.supported=false, yet the status item shows "${r.text}"`);
        await wb.screenshot('untrusted');
        return 'restricted mode: extension disabled as declared';
      }
      const report = cliRank(session.ws, CART, line);
      const { readout } = await waitStatusAgrees(wb, report, 60_000);
      await wb.screenshot('untrusted');
      return `restricted mode (supported=${JSON.stringify(declared)}): status "${readout.text}" agrees with the CLI`;
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
        // Once the renderer has told the host to terminate (the browser page closed at
        // the end of a session), broken pipes are the shutdown itself, not our errors.
        let terminating = false;
        for (const entry of logEntries(fs.readFileSync(f, 'utf8'))) {
          if (entry.includes('Extension host terminating')) terminating = true;
          if (terminating && /\[error\] Error: (read|write) (ECONNRESET|EPIPE)/.test(entry)) continue;
          if (entry.includes('Eager extensions activated')) eagerDone = true;
          if (entry.includes(`_doActivateExtension ${EXT_ID},`)) {
            activation.push(entry.trim());
            if (!eagerDone) problems.push(`activated before the eager (startup) extensions finished: ${entry.trim()}`);
          }
          if (HOST_NOISE.some((re) => re.test(entry))) continue;
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
      // tiktoken's tables belong in the tokenizer worker, never on the extension host's thread.
      if (!logs.extension.some((f) => /BPE tables built in a worker thread/.test(fs.readFileSync(f, 'utf8')))) {
        problems.push('the extension log never says the tokenizer worker built its BPE tables');
      }
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

/**
 * Errors the host itself logs in this setup, unrelated to any extension; each is
 * explained. Keep this list short: everything else in the logs fails the run.
 */
const HOST_NOISE = [
  // code-server's extension host pings code-server's CLI socket in the user-data-dir; at shutdown the
  // socket is gone (ENOENT) or still on disk with nobody accepting (ECONNRESET, seen once in CI).
  /\[error\] Error: connect (ENOENT|ECONNRESET) \S*code-server-ipc\.sock/,
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
  const projectRequire = createRequire(path.join(ROOT, 'package.json'));
  const { Tiktoken } = projectRequire('tiktoken/lite');
  const enc = projectRequire(`tiktoken/encoders/${encoding}.json`);
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

  const selected = SCENARIOS.filter((s) => !ONLY || ONLY.split(',').some((o) => s.name.includes(o)));
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
      if (ctx.wb) {
        await ctx.wb.screenshot(`FAIL-${safe}`).catch(() => {});
        const html = await ctx.wb.webview().locator('body').innerHTML({ timeout: 2000 }).catch(() => '');
        if (html) fs.writeFileSync(path.join(ART, `FAIL-${safe}.panel.html`), html);
      }
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
