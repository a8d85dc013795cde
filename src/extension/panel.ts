// Host side of the budget panel: creates / reveals / revives the WebviewPanel,
// serves the HTML (strict CSP with a nonce, no inline scripts, resources only
// from the extension's dist/ folder), posts state, and validates every message
// coming back from the webview before anyone acts on it.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { parseWebviewMessage } from '../shared/protocol';
import type { HostToWebview, PanelState, WebviewToHost } from '../shared/protocol';

export type PanelMessageHandler = (msg: WebviewToHost) => void;

export interface PanelHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** Fresh per HTML render (see makeNonce). */
  nonce: string;
  /** `webview.asWebviewUri(dist/webview.js)`. */
  scriptUri: string;
  /** `webview.asWebviewUri(dist/panel.css)`. */
  styleUri: string;
  /** Only when the toolkit ships as its own file (the default build bundles it into webview.js). */
  toolkitUri?: string;
}

/** A 128-bit random nonce, base64url (no characters that need escaping). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64url');
}

const NONCE_RE = /^[A-Za-z0-9_\-+/=]{16,128}$/;

function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The Content-Security-Policy the panel runs under. */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    // The nonce lets the toolkit's FAST base probe :focus-visible with one <style nonce> element.
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * The panel's HTML (pure). Scripts load from files and carry the nonce; there is
 * no inline script or style; the CSP allows nothing remote: only `cspSource`
 * (the webview's own resource origin) for styles, fonts and images. The nonce is
 * also published in `<meta property="csp-nonce">`, where FAST (under the toolkit)
 * reads it for its one feature-probe `<style>` element.
 */
export function renderPanelHtml(opts: PanelHtmlOptions): string {
  const { cspSource, nonce } = opts;
  if (!NONCE_RE.test(nonce)) throw new Error('renderPanelHtml: nonce must be 16-128 base64 characters');
  // cspSource is a source list such as `https://*.vscode-cdn.net` or, in code-server,
  // `'self' https://*.vscode-cdn.net`: quotes are fine, but nothing that could end the directive or the attribute.
  if (!cspSource.trim() || /[;,"<>\r\n]/.test(cspSource)) {
    throw new Error('renderPanelHtml: invalid cspSource');
  }
  const scripts = [opts.toolkitUri, opts.scriptUri]
    .filter((u): u is string => !!u)
    .map((u) => `    <script nonce="${escapeAttr(nonce)}" src="${escapeAttr(u)}"></script>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeAttr(panelCsp(cspSource, nonce))}">
    <meta property="csp-nonce" content="${escapeAttr(nonce)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link rel="stylesheet" href="${escapeAttr(opts.styleUri)}">
    <title>Context Budget</title>
  </head>
  <body>
    <div id="app" class="app"><p class="hint">Loading Context Budget…</p></div>
${scripts}
  </body>
</html>
`;
}

/** Webview options: scripts on, resources only from `<extension>/dist`. */
export function panelWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
  };
}

export class BudgetPanel implements vscode.Disposable {
  static readonly viewType = 'contextBudget.panel';
  static readonly title = 'Context Budget';
  static current: BudgetPanel | undefined;

  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  /** Fires once, when the panel closes (user or dispose()). */
  readonly onDidDispose: vscode.Event<void> = this.disposeEmitter.event;
  private readonly messageEmitter = new vscode.EventEmitter<WebviewToHost>();
  /** Every valid message from the webview (after validation). */
  readonly onDidReceiveMessage: vscode.Event<WebviewToHost> = this.messageEmitter.event;
  private readonly rejectEmitter = new vscode.EventEmitter<string>();
  /** Messages that failed validation (the reason), for the log. They are otherwise ignored. */
  readonly onDidRejectMessage: vscode.Event<string> = this.rejectEmitter.event;

  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  /** The webview said `ready` and has not been torn down since. */
  private ready = false;
  /** The latest state, re-sent whenever the webview (re)loads. */
  private lastState: PanelState | undefined;
  private flushScheduled = false;
  private statePending = false;

  /** Shows the panel (beside the editor), or reveals it if it already exists. */
  static createOrShow(extensionUri: vscode.Uri, handler: PanelMessageHandler): BudgetPanel {
    const existing = BudgetPanel.current;
    if (existing && !existing.disposed) {
      existing.handler = handler;
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      BudgetPanel.viewType,
      BudgetPanel.title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { ...panelWebviewOptions(extensionUri), enableFindWidget: true, retainContextWhenHidden: false },
    );
    return new BudgetPanel(panel, extensionUri, handler);
  }

  /** Adopts a panel VS Code restored after a reload (from the serializer). */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, handler: PanelMessageHandler): BudgetPanel {
    if (BudgetPanel.current && BudgetPanel.current.panel !== panel) BudgetPanel.current.dispose();
    return new BudgetPanel(panel, extensionUri, handler);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private handler: PanelMessageHandler,
  ) {
    BudgetPanel.current = this;
    const webview = panel.webview;
    webview.options = panelWebviewOptions(extensionUri);
    webview.html = this.html(webview);
    this.disposables.push(
      this.disposeEmitter,
      this.messageEmitter,
      this.rejectEmitter,
      panel.onDidDispose(() => this.dispose()),
      webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      // Without retainContextWhenHidden the page is torn down while hidden and
      // reloads (then says `ready` again) when shown.
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.ready = false;
      }),
    );
  }

  get visible(): boolean {
    return !this.disposed && this.panel.visible;
  }

  /**
   * Sends a message. `state` messages are coalesced (only the latest is sent,
   * once per tick) and replayed when the webview (re)loads; `copied` goes out at once.
   */
  post(msg: HostToWebview): void {
    if (this.disposed) return;
    if (msg.type === 'state') {
      this.lastState = msg.state;
      this.statePending = true;
      this.scheduleFlush();
      return;
    }
    if (this.ready) void this.panel.webview.postMessage(msg);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => {
      this.flushScheduled = false;
      this.flush();
    }, 0);
  }

  private flush(): void {
    if (this.disposed || !this.ready || !this.statePending || !this.lastState) return;
    this.statePending = false;
    void this.panel.webview.postMessage({ type: 'state', state: this.lastState } satisfies HostToWebview);
  }

  private receive(raw: unknown): void {
    if (this.disposed) return;
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.rejectEmitter.fire(parsed.error);
      return;
    }
    const msg = parsed.msg;
    if (msg.type === 'ready') {
      this.ready = true;
      if (this.lastState) {
        this.statePending = true;
        this.flush();
      }
    }
    this.messageEmitter.fire(msg);
    this.handler(msg);
  }

  private html(webview: vscode.Webview): string {
    const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', name)).toString();
    return renderPanelHtml({ cspSource: webview.cspSource, nonce: makeNonce(), scriptUri: asset('webview.js'), styleUri: asset('panel.css') });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (BudgetPanel.current === this) BudgetPanel.current = undefined;
    this.disposeEmitter.fire();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/**
 * Restores the panel after a window reload. Push the result into
 * `context.subscriptions`. Needs `onWebviewPanel:contextBudget.panel` in activationEvents.
 */
export function registerPanelSerializer(context: vscode.ExtensionContext, handler: PanelMessageHandler): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(BudgetPanel.viewType, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, _state: unknown): Promise<void> {
      // The webview restores its own last state (vscode.getState) and asks for a fresh one with `ready`.
      BudgetPanel.revive(panel, context.extensionUri, handler);
    },
  });
}
