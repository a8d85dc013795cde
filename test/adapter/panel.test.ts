// The host side of the panel against a small, honest fake of the parts of the
// `vscode` API it uses (createWebviewPanel, the webview, Uri, EventEmitter,
// registerWebviewPanelSerializer). The HTML builder is pure and tested directly.
import assert from 'node:assert/strict';
import Module from 'node:module';
import { beforeEach, describe, it } from 'node:test';
import type { HostToWebview } from '../../src/shared/protocol';
import { sampleState } from '../../webview/dev/sampleState';

// ---------------------------------------------------------------- fake vscode

class FakeUri {
  constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(p: string): FakeUri {
    return new FakeUri('file', p);
  }
  static joinPath(base: FakeUri, ...parts: string[]): FakeUri {
    return new FakeUri(base.scheme, [base.path.replace(/\/$/, ''), ...parts].join('/'));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.scheme === 'file' ? '' : 'webview-host'}${this.path}`;
  }
}

class FakeEventEmitter<T> {
  private listeners: Array<(e: T) => void> = [];
  disposed = false;
  readonly event = (fn: (e: T) => void) => {
    this.listeners.push(fn);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== fn)) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.disposed = true;
    this.listeners = [];
  }
}

const CSP_SOURCE = 'https://*.vscode-cdn.net';

class FakeWebview {
  options: Record<string, unknown> = {};
  html = '';
  readonly cspSource = CSP_SOURCE;
  readonly posted: unknown[] = [];
  readonly receive = new FakeEventEmitter<unknown>();
  readonly onDidReceiveMessage = this.receive.event;
  asWebviewUri(uri: FakeUri): FakeUri {
    return new FakeUri('https', `/file${uri.path}`);
  }
  postMessage(msg: unknown): Thenable<boolean> {
    this.posted.push(JSON.parse(JSON.stringify(msg)));
    return Promise.resolve(true);
  }
}

class FakePanel {
  readonly webview = new FakeWebview();
  visible = true;
  disposed = false;
  reveals: unknown[][] = [];
  private readonly disposeEmitter = new FakeEventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;
  private readonly viewState = new FakeEventEmitter<{ webviewPanel: FakePanel }>();
  readonly onDidChangeViewState = this.viewState.event;
  constructor(
    readonly viewType: string,
    readonly title: string,
    readonly showOptions: unknown,
    readonly createOptions: Record<string, unknown>,
  ) {}
  reveal(...args: unknown[]): void {
    this.reveals.push(args);
  }
  setVisible(v: boolean): void {
    this.visible = v;
    this.viewState.fire({ webviewPanel: this });
  }
  /** The user closes the tab. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
  }
}

const created: FakePanel[] = [];
const serializers = new Map<string, { deserializeWebviewPanel(panel: FakePanel, state: unknown): Promise<void> }>();
const fakeVscode = {
  Uri: FakeUri,
  EventEmitter: FakeEventEmitter,
  ViewColumn: { Active: -1, Beside: -2, One: 1 },
  window: {
    createWebviewPanel(viewType: string, title: string, show: unknown, options: Record<string, unknown>) {
      const p = new FakePanel(viewType, title, show, options);
      created.push(p);
      return p;
    },
    registerWebviewPanelSerializer(viewType: string, s: { deserializeWebviewPanel(panel: FakePanel, state: unknown): Promise<void> }) {
      serializers.set(viewType, s);
      return { dispose: () => serializers.delete(viewType) };
    },
  },
};

const modAny = Module as unknown as { _load: (req: string, parent: unknown, isMain: boolean) => unknown };
const origLoad = modAny._load;
modAny._load = (req, parent, isMain) => (req === 'vscode' ? fakeVscode : origLoad(req, parent, isMain));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const panelModule = require('../../src/extension/panel') as typeof import('../../src/extension/panel');
const { BudgetPanel, makeNonce, panelCsp, registerPanelSerializer, renderPanelHtml } = panelModule;

const extUri = FakeUri.file('/ext/context-budget') as unknown as import('vscode').Uri;
const tick = () => new Promise((r) => setTimeout(r, 5));

function lastPanel(): FakePanel {
  return created[created.length - 1];
}

function cspOf(html: string): Map<string, string[]> {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(m, 'no CSP meta');
  const content = m[1].replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  const out = new Map<string, string[]>();
  for (const part of content.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

// ---------------------------------------------------------------- tests

describe('renderPanelHtml', () => {
  const nonce = 'AbCdEfGhIjKlMnOpQrStUv';
  const html = renderPanelHtml({ cspSource: CSP_SOURCE, nonce, scriptUri: 'https://x.vscode-cdn.net/ext/dist/webview.js', styleUri: 'https://x.vscode-cdn.net/ext/dist/panel.css' });

  it('has a CSP that forbids inline scripts, eval and remote content', () => {
    const csp = cspOf(html);
    assert.deepEqual(csp.get('default-src'), ["'none'"]);
    assert.deepEqual(csp.get('script-src'), [`'nonce-${nonce}'`]);
    for (const [name, values] of csp) {
      for (const v of values) {
        assert.ok(!/unsafe-inline|unsafe-eval|unsafe-hashes|^\*$|^https?:$|^data:$|^blob:$/.test(v), `${name} allows ${v}`);
        assert.ok(v === CSP_SOURCE || v.startsWith("'"), `${name} allows ${v}`);
      }
    }
    for (const d of ['connect-src', 'frame-src', 'object-src', 'base-uri', 'form-action', 'worker-src']) assert.deepEqual(csp.get(d), ["'none'"], d);
    assert.deepEqual(csp.get('style-src'), [CSP_SOURCE, `'nonce-${nonce}'`]);
    assert.deepEqual(csp.get('img-src'), [CSP_SOURCE]);
  });

  it('loads scripts from files only, each with the nonce; no inline script, style or handler', () => {
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs, new RegExp(`nonce="${nonce}"`));
      assert.match(attrs, /src="https:\/\/x\.vscode-cdn\.net\/ext\/dist\/webview\.js"/);
      assert.equal(body.trim(), '');
    }
    assert.doesNotMatch(html, /<style|style=|\son[a-z]+=|javascript:/i);
    assert.match(html, /<link rel="stylesheet" href="https:\/\/x\.vscode-cdn\.net\/ext\/dist\/panel\.css">/);
    assert.match(html, new RegExp(`<meta property="csp-nonce" content="${nonce}">`));
  });

  it('adds the toolkit script first when it ships as its own file', () => {
    const h2 = renderPanelHtml({ cspSource: CSP_SOURCE, nonce, scriptUri: 'https://a/webview.js', styleUri: 'https://a/panel.css', toolkitUri: 'https://a/toolkit.js' });
    const srcs = [...h2.matchAll(/<script nonce="[^"]+" src="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(srcs, ['https://a/toolkit.js', 'https://a/webview.js']);
  });

  it('escapes URIs and rejects bad nonces and CSP sources', () => {
    const h3 = renderPanelHtml({ cspSource: CSP_SOURCE, nonce, scriptUri: 'https://a/x.js"><script>alert(1)</script>', styleUri: 'https://a/p.css' });
    assert.doesNotMatch(h3, /<script>alert/);
    assert.throws(() => renderPanelHtml({ cspSource: CSP_SOURCE, nonce: 'short', scriptUri: 'a', styleUri: 'b' }));
    // code-server's source list carries quoted keywords; they are allowed, directive breakers are not.
    const cs = renderPanelHtml({ cspSource: "'self' https://*.vscode-cdn.net", nonce, scriptUri: 'https://a/x.js', styleUri: 'https://a/p.css' });
    assert.match(cs, /style-src &#39;self&#39; https:\/\/\*\.vscode-cdn\.net/);
    assert.throws(() => renderPanelHtml({ cspSource: "'self'; script-src *", nonce, scriptUri: 'a', styleUri: 'b' }));
    assert.throws(() => renderPanelHtml({ cspSource: CSP_SOURCE, nonce: `${nonce}"><x`, scriptUri: 'a', styleUri: 'b' }));
    assert.throws(() => renderPanelHtml({ cspSource: "https://a; script-src 'unsafe-inline'", nonce, scriptUri: 'a', styleUri: 'b' }));
    assert.throws(() => renderPanelHtml({ cspSource: '', nonce, scriptUri: 'a', styleUri: 'b' }));
  });

  it('makes fresh, well-formed nonces', () => {
    const a = makeNonce();
    const b = makeNonce();
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{22}$/);
    assert.match(panelCsp(CSP_SOURCE, a), new RegExp(`script-src 'nonce-${a}'`));
  });
});

describe('BudgetPanel', () => {
  beforeEach(() => {
    BudgetPanel.current?.dispose();
    created.length = 0;
  });

  it('creates one panel with scripts on and resources limited to dist/', () => {
    const p = BudgetPanel.createOrShow(extUri, () => {});
    const fp = lastPanel();
    assert.equal(created.length, 1);
    assert.equal(fp.viewType, 'contextBudget.panel');
    assert.equal(BudgetPanel.viewType, 'contextBudget.panel');
    assert.equal(BudgetPanel.current, p);
    for (const opts of [fp.createOptions, fp.webview.options]) {
      assert.equal(opts.enableScripts, true);
      assert.equal(opts.enableCommandUris, false);
      const roots = (opts.localResourceRoots as FakeUri[]).map((u) => u.toString());
      assert.deepEqual(roots, ['file:///ext/context-budget/dist']);
    }
    assert.equal(fp.createOptions.retainContextWhenHidden, false);
    // The HTML points at dist/ through asWebviewUri, under the webview's CSP source.
    assert.match(fp.webview.html, /src="https:\/\/webview-host\/file\/ext\/context-budget\/dist\/webview\.js"/);
    assert.match(fp.webview.html, /href="https:\/\/webview-host\/file\/ext\/context-budget\/dist\/panel\.css"/);
    assert.ok(cspOf(fp.webview.html).get('style-src')!.includes(CSP_SOURCE));
  });

  it('reveals the existing panel instead of creating a second one, and takes the new handler', () => {
    const seen: string[] = [];
    const p1 = BudgetPanel.createOrShow(extUri, (m) => seen.push(`a:${m.type}`));
    const p2 = BudgetPanel.createOrShow(extUri, (m) => seen.push(`b:${m.type}`));
    assert.equal(p1, p2);
    assert.equal(created.length, 1);
    assert.equal(lastPanel().reveals.length, 1);
    lastPanel().webview.receive.fire({ type: 'recompute' });
    assert.deepEqual(seen, ['b:recompute']);
  });

  it('passes valid messages to the handler and the event, and rejects the rest', () => {
    const got: unknown[] = [];
    const events: unknown[] = [];
    const rejected: string[] = [];
    const p = BudgetPanel.createOrShow(extUri, (m) => got.push(m));
    p.onDidReceiveMessage((m) => events.push(m));
    p.onDidRejectMessage((e) => rejected.push(e));
    const wv = lastPanel().webview;
    wv.receive.fire({ type: 'reveal', path: 'src/a.ts', startLine: 3, endLine: 9 });
    wv.receive.fire({ type: 'setBudget', tokens: 4096 });
    wv.receive.fire({ type: 'setBudget', tokens: Infinity });
    wv.receive.fire({ type: 'reveal', path: 'src/a.ts', startLine: 3, endLine: 9, extra: 1 });
    wv.receive.fire({ type: 'runCommand', command: 'workbench.action.terminal.new' });
    wv.receive.fire('ready');
    wv.receive.fire({ type: 'togglePin', id: 'x'.repeat(100_000) });
    assert.deepEqual(got, [
      { type: 'reveal', path: 'src/a.ts', startLine: 3, endLine: 9 },
      { type: 'setBudget', tokens: 4096 },
    ]);
    assert.deepEqual(events, got);
    assert.equal(rejected.length, 5);
  });

  it('holds state until the webview is ready, then sends only the latest', async () => {
    const p = BudgetPanel.createOrShow(extUri, () => {});
    const wv = lastPanel().webview;
    const s1 = sampleState();
    const s2 = { ...sampleState(), busy: true };
    p.post({ type: 'state', state: s1 });
    p.post({ type: 'state', state: s2 });
    p.post({ type: 'copied', format: 'xml', tokens: 3, ok: true }); // dropped: nobody is listening yet
    await tick();
    assert.equal(wv.posted.length, 0);
    wv.receive.fire({ type: 'ready' });
    await tick();
    assert.equal(wv.posted.length, 1);
    const sent = wv.posted[0] as HostToWebview;
    assert.equal(sent.type, 'state');
    assert.equal(sent.type === 'state' && sent.state.busy, true);
    assert.deepEqual(sent, JSON.parse(JSON.stringify({ type: 'state', state: s2 })));
  });

  it('coalesces bursts of state updates into one message per tick; copied goes out at once', async () => {
    const p = BudgetPanel.createOrShow(extUri, () => {});
    const wv = lastPanel().webview;
    wv.receive.fire({ type: 'ready' });
    for (let i = 0; i < 20; i++) p.post({ type: 'state', state: { ...sampleState(), budget: { tokens: 1024 + i, min: 256, max: 130048, step: 256 } } });
    p.post({ type: 'copied', format: 'markdown', tokens: 4940, ok: true });
    assert.deepEqual(wv.posted, [{ type: 'copied', format: 'markdown', tokens: 4940, ok: true }]);
    await tick();
    assert.equal(wv.posted.length, 2);
    const st = (wv.posted as unknown[])[1] as Extract<HostToWebview, { type: 'state' }>;
    assert.equal(st.state.budget.tokens, 1043);
  });

  it('replays the last state when a hidden panel comes back and reloads', async () => {
    const p = BudgetPanel.createOrShow(extUri, () => {});
    const fp = lastPanel();
    fp.webview.receive.fire({ type: 'ready' });
    p.post({ type: 'state', state: sampleState() });
    await tick();
    assert.equal(fp.webview.posted.length, 1);
    fp.setVisible(false); // page torn down (no retainContextWhenHidden)
    p.post({ type: 'state', state: { ...sampleState(), busy: true } });
    await tick();
    assert.equal(fp.webview.posted.length, 1, 'nothing posted to a hidden, unloaded page');
    fp.setVisible(true);
    fp.webview.receive.fire({ type: 'ready' });
    await tick();
    assert.equal(fp.webview.posted.length, 2);
    assert.equal((fp.webview.posted[1] as Extract<HostToWebview, { type: 'state' }>).state.busy, true);
  });

  it('cleans up when the user closes the panel', async () => {
    const p = BudgetPanel.createOrShow(extUri, () => {});
    const fp = lastPanel();
    let disposed = 0;
    p.onDidDispose(() => disposed++);
    fp.dispose();
    assert.equal(disposed, 1);
    assert.equal(BudgetPanel.current, undefined);
    p.post({ type: 'state', state: sampleState() });
    fp.webview.receive.fire({ type: 'ready' });
    await tick();
    assert.equal(fp.webview.posted.length, 0);
    p.dispose();
    assert.equal(disposed, 1, 'fires once');
    // A new call creates a fresh panel.
    BudgetPanel.createOrShow(extUri, () => {});
    assert.equal(created.length, 2);
  });

  it('dispose() closes the panel and fires onDidDispose once', () => {
    const p = BudgetPanel.createOrShow(extUri, () => {});
    const fp = lastPanel();
    let n = 0;
    p.onDidDispose(() => n++);
    p.dispose();
    assert.equal(fp.disposed, true);
    assert.equal(n, 1);
    assert.equal(BudgetPanel.current, undefined);
  });
});

describe('registerPanelSerializer', () => {
  it('revives a restored panel with the same options, HTML and handler', async () => {
    BudgetPanel.current?.dispose();
    const got: string[] = [];
    const ctx = { extensionUri: extUri, subscriptions: [] } as unknown as import('vscode').ExtensionContext;
    const reg = registerPanelSerializer(ctx, (m) => got.push(m.type));
    const s = serializers.get('contextBudget.panel');
    assert.ok(s);
    const restored = new FakePanel('contextBudget.panel', 'Context Budget', {}, {});
    await s.deserializeWebviewPanel(restored, { panel: sampleState(), ui: {} });
    assert.ok(BudgetPanel.current);
    assert.equal(BudgetPanel.current.panel as unknown, restored);
    assert.deepEqual((restored.webview.options.localResourceRoots as FakeUri[]).map(String), ['file:///ext/context-budget/dist']);
    assert.equal(restored.webview.options.enableScripts, true);
    assert.match(restored.webview.html, /<script nonce="[A-Za-z0-9_-]{22}" src="[^"]+dist\/webview\.js">/);
    restored.webview.receive.fire({ type: 'ready' });
    assert.deepEqual(got, ['ready']);
    // createOrShow now reveals the revived panel.
    const before = created.length;
    BudgetPanel.createOrShow(extUri, () => {});
    assert.equal(created.length, before);
    reg.dispose();
    assert.equal(serializers.has('contextBudget.panel'), false);
  });
});
