// Dev preview: renders the real panel HTML (renderPanelHtml, real CSP) with the
// real webview bundle and sample states in headless Debian Chromium, in the
// dark, light and high-contrast themes, and writes screenshots.
//   node --import tsx webview/dev/preview.ts [outDir=/tmp/cb-preview]
// It also drives a few interactions and prints what the webview posted, plus any
// CSP violation or console error (there must be none).
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { PanelState } from '../../src/shared/protocol';
import { indexingState, sampleState } from './sampleState';
import { THEMES } from './themes';
import type { ThemeKind } from './themes';

const root = join(__dirname, '..', '..');
const out = process.argv[2] ?? '/tmp/cb-preview';
const ORIGIN = 'https://cb.preview';

// renderPanelHtml lives in the host module, which imports 'vscode': give it an empty stand-in.
const modAny = Module as unknown as { _load: (req: string, parent: unknown, isMain: boolean) => unknown };
const origLoad = modAny._load;
modAny._load = (req, parent, isMain) => (req === 'vscode' ? {} : origLoad(req, parent, isMain));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { renderPanelHtml } = require('../../src/extension/panel') as typeof import('../../src/extension/panel');

/** Runs in the page before any of its scripts: theme variables, a fake acquireVsCodeApi that answers `ready` with the state. */
const INIT_SCRIPT = `function ({ vars, bodyClass, state }) {
  window.__posted = [];
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));
  document.addEventListener('DOMContentLoaded', () => {
    for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
    document.body.classList.add(bodyClass);
    document.body.setAttribute('data-vscode-theme-kind', bodyClass);
  });
  let saved;
  window.acquireVsCodeApi = () => ({
    postMessage: (msg) => {
      window.__posted.push(msg);
      if (msg.type === 'ready') setTimeout(() => window.postMessage({ type: 'state', state }, '*'), 0);
      if (msg.type === 'copyPrompt') setTimeout(() => window.postMessage({ type: 'copied', format: msg.format, tokens: 4940, ok: true }, '*'), 0);
    },
    getState: () => saved,
    setState: (s) => { saved = s; },
  });
}`;

/** Counts DOM mutations when the host re-sends the same state, then one with a single score changed. */
const CHURN_SCRIPT = `async function (state) {
  const count = async (s) => {
    let n = 0;
    const mo = new MutationObserver((recs) => (n += recs.length));
    mo.observe(document.getElementById('app'), { subtree: true, childList: true, attributes: true, characterData: true });
    window.postMessage({ type: 'state', state: s }, '*');
    await new Promise((r) => setTimeout(r, 50));
    mo.disconnect();
    return n;
  };
  const same = await count(state);
  const changed = JSON.parse(JSON.stringify(state));
  changed.report.items[2].score = 0.5;
  return { same, oneScore: await count(changed) };
}`;

async function main() {
  mkdirSync(out, { recursive: true });
  const bundle = join(out, 'webview.js');
  await esbuild.build({ entryPoints: [join(root, 'webview/main.ts')], bundle: true, platform: 'browser', format: 'iife', target: 'es2022', outfile: bundle, logLevel: 'warning' });
  const files: Record<string, [string, Buffer]> = {
    '/webview.js': ['text/javascript', readFileSync(bundle)],
    '/panel.css': ['text/css', readFileSync(join(root, 'webview/panel.css'))],
  };
  const html = renderPanelHtml({ cspSource: ORIGIN, nonce: 'cHJldmlldy1ub25jZS0xMjM0NTY', scriptUri: `${ORIGIN}/webview.js`, styleUri: `${ORIGIN}/panel.css` });

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const problems: string[] = [];
  const shoot = async (name: string, theme: ThemeKind, state: PanelState, width: number, act?: (p: import('playwright-core').Page) => Promise<void>) => {
    const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`[${name}] console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`[${name}] pageerror: ${e.message}`));
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/' || path === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
      const f = files[path];
      return f ? route.fulfill({ contentType: f[0], body: f[1] }) : route.fulfill({ status: 404, body: '' });
    });
    const t = THEMES[theme];
    // A string, not a function: tsx's transform would inject helpers the page lacks.
    await page.addInitScript(`(${INIT_SCRIPT})(${JSON.stringify({ vars: t.vars, bodyClass: t.bodyClass, state })})`);
    await page.goto(`${ORIGIN}/index.html`);
    await page.waitForSelector('.section-budget', { timeout: 8000 }).catch(async (e) => {
      console.error(problems.join('\n'));
      throw e;
    });
    await page.waitForTimeout(400);
    if (act) await act(page);
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    const csp = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
    for (const v of csp) problems.push(`[${name}] CSP violation: ${v}`);
    const posted = await page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted);
    await page.close();
    return posted;
  };

  for (const theme of ['dark', 'light', 'hc'] as ThemeKind[]) await shoot(`panel-${theme}-wide`, theme, sampleState(), 1280);
  await shoot('panel-dark-narrow', 'dark', sampleState(), 560);
  await shoot('panel-dark-indexing', 'dark', indexingState(), 900);
  const hosted = sampleState();
  hosted.curves = { ...hosted.curves!, architectureKnown: false, series: hosted.curves!.series.map((s) => ({ ...s, points: s.points.map((p) => ({ ...p, attentionFlops: null, totalFlops: null, kvCacheBytes: null, ttftSeconds: null })) })) };
  await shoot('panel-light-hosted', 'light', hosted, 1280);

  // Interactions: calm re-render, keyboard focus, pin, slider, copy, metric.
  const posted = await shoot('panel-dark-interact', 'dark', sampleState(), 1280, async (page) => {
    // The same state again must not touch the DOM; a one-item change touches little.
    const churn = (await page.evaluate(`(${CHURN_SCRIPT})(${JSON.stringify(sampleState())})`)) as { same: number; oneScore: number };
    console.log('DOM mutations on re-render:', JSON.stringify(churn));
    if (churn.same !== 0) problems.push(`re-rendering the same state made ${churn.same} DOM mutations`);
    await page.click('.chunks-selected .chunk-loc');
    await page.click('.chunks-selected .pin-btn');
    await page.click('.seg-btn:nth-child(4)');
    await page.focus('#budget-slider');
    for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(120);
    await page.click('text=Copy as XML');
    await page.waitForTimeout(100);
    await page.keyboard.press('Tab');
    await page.focus('.chunks-selected .chunk-loc');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
  });
  console.log('posted:', JSON.stringify(posted));
  await browser.close();
  console.log(problems.length ? problems.join('\n') : 'no CSP violations, console errors or page errors');
  console.log(`screenshots in ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
