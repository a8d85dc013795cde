// Ties VS Code to the core: one engine per workspace folder (plus one for files
// outside any folder), each in its own child process (engineClient.ts), editor
// events → index updates and debounced recomputes,
// the status bar item, the panel and the commands. Stale results never show:
// every recompute carries a generation number and an AbortController, and a
// result for an older cursor position is dropped.
import { realpathSync, rmSync } from 'node:fs';
import { posix, sep } from 'node:path';
import * as vscode from 'vscode';
import { setAssetsDir } from '../core/assets';
import { relativePath } from '../core/scan/scanner';
import { emptySignals, type EditorSignals } from '../core/types';
import type { PromptFormat } from '../core/pack/render';
import { resolveInsideRoot, type PanelMessage, type WebviewToHost } from '../shared/protocol';
import { filesExcludeGlobs, readSettings, type ExtensionSettings } from './config';
import { AskAgain, LatestRun } from './latestRun';
import { openEngineClient, RestartPolicy } from './engineClient';
import type { ComputedSummary, EngineClient, EngineInfo, PanelFacts } from './engineSession';
import { BudgetPanel } from './panel';
import { buildPanelState } from './panelState';
import { SignalTracker } from './signals';
import { chatModelPicks, LanguageModelSource, lmChoices } from './languageModels';
import { statusView } from './statusText';

const CURSOR_DEBOUNCE_MS = 120;
const EDIT_DEBOUNCE_MS = 250;
const INDEX_NOTIFY_AFTER_MS = 3000;
/** While indexing, how often the partial index is re-ranked for the status bar. */
const INDEX_REPAINT_MS = 3000;
const RESTRICTED_KEYS = new Set(['models', 'hardwareProfiles', 'ranker.userModelPath']);

interface FolderEngine {
  /** Its key in Controller.engines. */
  key: string;
  folder: vscode.WorkspaceFolder | undefined;
  root: string;
  engine: Promise<EngineClient>;
  /**
   * The document version whose text the engine holds, per path: a text crosses
   * to the engine's thread as a copy (a 3 M-character one held this thread
   * 12–26 ms), so it is sent once per version, not on every cursor move.
   */
  sentTexts: Map<string, number>;
  indexing?: { done: number; total: number; cancel: vscode.CancellationTokenSource };
  /** Its engine's process died: the calls it had in flight fail, and that is not reported again (its restart is logged). */
  stopped?: boolean;
}

interface Target {
  folderEngine: FolderEngine;
  path: string;
  line: number;
  column: number;
  document: vscode.TextDocument;
}

export class Controller implements vscode.Disposable {
  private readonly status: vscode.StatusBarItem;
  private readonly engines = new Map<string, FolderEngine>();
  private readonly signals = new SignalTracker();
  private readonly disposables: vscode.Disposable[] = [];
  private settings: ExtensionSettings;
  private settingErrors: string[] = [];
  private readonly runs = new LatestRun();
  private cursorTimer: NodeJS.Timeout | undefined;
  private editTimers = new Map<string, NodeJS.Timeout>();
  private latest: { computed: ComputedSummary; target: Target } | undefined;
  private budgetOverride: number | undefined;
  private lastEditor: vscode.TextEditor | undefined;
  private busy = false;
  /** A readout ranked from the previous index while it is rebuilt is computed again once the rebuilt one is in place. */
  private readonly askAgain = new AskAgain(() => this.schedule(0));
  private messages: PanelMessage[] = [];
  private panelSeq = 0;
  /** Whether a folder's crashed engine is started again (by FolderEngine key). */
  private readonly restarts = new RestartPolicy();
  /** `vscode-lm:` models as the budget source (issue 8). */
  private readonly lm: LanguageModelSource;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    setAssetsDir(vscode.Uri.joinPath(context.extensionUri, 'dist').fsPath);
    const read = this.readSettings();
    this.settings = read.settings;
    this.settingErrors = read.errors;
    this.status = vscode.window.createStatusBarItem('contextBudget.status', vscode.StatusBarAlignment.Right, 100);
    this.status.name = 'Context Budget';
    this.status.command = 'contextBudget.showPanel';
    this.status.text = '$(symbol-ruler) Context Budget';
    this.disposables.push(this.status);
    for (const e of this.settingErrors) this.log.warn(e);
    this.lm = new LanguageModelSource({ lm: () => vscode.lm, state: context.globalState, log, onChange: () => void this.onConfigChange({ affectsConfiguration: () => false }) });
    this.disposables.push(this.lm);
  }

  start(): void {
    const d = this.disposables;
    d.push(
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed) this.signals.viewed(this.keyOf(ed.document));
        this.refreshTabs();
        this.schedule(0);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor || e.textEditor === this.lastEditor) this.schedule(CURSOR_DEBOUNCE_MS);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.onClose(doc)),
      vscode.window.tabGroups.onDidChangeTabs(() => this.refreshTabs()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('contextBudget') || e.affectsConfiguration('files.exclude')) void this.onConfigChange(e);
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.resetEngines()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.onConfigChange()),
    );
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    d.push(
      watcher,
      watcher.onDidCreate((uri) => this.onDiskChange(uri, 'change')),
      watcher.onDidChange((uri) => this.onDiskChange(uri, 'change')),
      watcher.onDidDelete((uri) => this.onDiskChange(uri, 'delete')),
      vscode.workspace.onDidRenameFiles((e) => {
        for (const f of e.files) this.onRename(f.oldUri, f.newUri);
      }),
    );
    this.refreshTabs();
    const ed = vscode.window.activeTextEditor;
    if (ed) this.signals.viewed(this.keyOf(ed.document));
    this.schedule(0);
  }

  // ---- settings ----

  private readSettings(): { settings: ExtensionSettings; errors: string[] } {
    const cfg = vscode.workspace.getConfiguration('contextBudget');
    const trusted = vscode.workspace.isTrusted;
    const get = (key: string): unknown => {
      if (!trusted && RESTRICTED_KEYS.has(key)) return cfg.inspect(key)?.globalValue; // user settings only
      return cfg.get(key);
    };
    const read = readSettings(get, trusted);
    read.settings.exclude = [...read.settings.exclude, ...filesExcludeGlobs(vscode.workspace.getConfiguration('files').get('exclude'))];
    return read;
  }

  private async onConfigChange(e?: vscode.ConfigurationChangeEvent): Promise<void> {
    const read = this.readSettings();
    this.settings = read.settings;
    this.settingErrors = read.errors;
    for (const err of read.errors) this.log.warn(err);
    const needsNewIndex =
      !e ||
      e.affectsConfiguration('contextBudget.exclude') ||
      e.affectsConfiguration('files.exclude') ||
      e.affectsConfiguration('contextBudget.maxFileSizeKB') ||
      e.affectsConfiguration('contextBudget.ranker');
    let rebuild = needsNewIndex;
    if (!rebuild) {
      const engineSettings = await this.lm.apply(this.settings.engine);
      for (const fe of this.engines.values()) {
        try {
          const engine = await fe.engine;
          if (!(await engine.updateSettings(engineSettings))) rebuild = true; // the tokenizer changed
        } catch (err) {
          this.reportError(err);
          rebuild = true;
        }
      }
    }
    if (rebuild) this.resetEngines();
    else this.schedule(0);
  }

  private resetEngines(): void {
    this.restarts.reset();
    for (const fe of this.engines.values()) {
      fe.indexing?.cancel.cancel();
      void fe.engine.then((e) => e.dispose(), () => undefined);
    }
    this.engines.clear();
    this.latest = undefined;
    this.schedule(0);
  }

  // ---- engines ----

  private folderEngine(doc: vscode.TextDocument): FolderEngine {
    const folder = doc.uri.scheme === 'file' ? vscode.workspace.getWorkspaceFolder(doc.uri) : undefined;
    const key = folder ? folder.uri.toString() : '<loose>';
    let fe = this.engines.get(key);
    if (!fe) {
      const root = folder ? folder.uri.fsPath : this.context.globalStorageUri.fsPath;
      const created: FolderEngine = { key, folder, root, engine: Promise.resolve(undefined as never), sentTexts: new Map() };
      created.engine = this.openEngine(created);
      fe = created;
      this.engines.set(key, fe);
    }
    return fe;
  }

  private async openEngine(fe: FolderEngine): Promise<EngineClient> {
    const s = this.settings;
    const storage = this.context.storageUri ?? this.context.globalStorageUri;
    const engine = await openEngineClient(
      {
        root: fe.root,
        settings: await this.lm.apply(s.engine),
        // The BPE tables are built in a worker: on the engine's thread they would hold up queries.
        index: { cacheDir: fe.folder ? vscode.Uri.joinPath(storage, 'index').fsPath : undefined, exclude: s.exclude, maxFileSizeKB: s.maxFileSizeKB, tokenWorker: true },
        ranker: { device: s.device, userModelPath: s.userModelPath },
      },
      { log: (m) => this.log.info(m), onExit: () => this.engineStopped(fe) },
    );
    for (const err of (await engine.info()).profileErrors) this.log.warn(`settings: ${err}`);
    if (fe.folder) void this.index(fe, engine);
    return engine;
  }

  /**
   * The engine's process stopped (its calls in flight were cancelled): the next
   * recompute opens a fresh one, its index from the cache. One that keeps
   * crashing stays down, with a message, until the settings change or the index is rebuilt.
   */
  private engineStopped(fe: FolderEngine): void {
    if (this.engines.get(fe.key) !== fe) return;
    fe.stopped = true;
    fe.indexing?.cancel.cancel();
    if (this.latest?.target.folderEngine === fe) this.latest = undefined;
    const { restart, count } = this.restarts.crashed(fe.key);
    const name = fe.folder?.name ?? 'files outside the workspace';
    if (!restart) {
      const down = Promise.reject(new Error(`the engine for ${name} stopped ${count} times in ${this.restarts.windowMs / 60_000} minutes and was not started again; see the log, then run "Context Budget: Rebuild Index" or reload the window`));
      down.catch(() => undefined);
      this.engines.set(fe.key, { ...fe, engine: down, indexing: undefined, stopped: false });
    } else {
      this.engines.delete(fe.key);
      this.log.warn(`the engine for ${name} stopped; starting it again`);
    }
    this.schedule(0);
  }

  private async index(fe: FolderEngine, engine: EngineClient): Promise<void> {
    const cancel = new vscode.CancellationTokenSource();
    const abort = new AbortController();
    cancel.token.onCancellationRequested(() => abort.abort());
    fe.indexing = { done: 0, total: 0, cancel };
    const started = Date.now();
    let notified = false;
    const notifyTimer = setTimeout(() => {
      notified = true;
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Context Budget: indexing ${fe.folder?.name ?? ''}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => cancel.cancel());
          let last = 0;
          while (fe.indexing && !abort.signal.aborted) {
            const { done, total } = fe.indexing;
            if (total > 0) {
              const pct = (100 * done) / total;
              progress.report({ message: `${done}/${total} files`, increment: pct - last });
              last = pct;
            }
            await new Promise((r) => setTimeout(r, 250));
          }
        },
      );
    }, INDEX_NOTIFY_AFTER_MS);
    let lastPaint = 0;
    try {
      const stats = await engine.refresh({
        signal: abort.signal,
        onProgress: (p) => {
          if (!fe.indexing) return;
          fe.indexing.done = p.done;
          fe.indexing.total = p.total;
          if (Date.now() - lastPaint > INDEX_REPAINT_MS) {
            lastPaint = Date.now();
            this.showIndexing(fe);
            this.schedule(0); // answer from partial results while indexing goes on (not too often: each is a full rank)
          }
        },
      });
      this.log.info(
        `indexed ${fe.folder?.name}: ${stats.files} files, ${stats.chunks} chunks, ${stats.tokens} tokens in ${Math.round(stats.ms)} ms ` +
          `(${stats.filesRead} read, ${stats.filesFromCache} from cache; skipped ${JSON.stringify(stats.skipped)})${stats.complete ? '' : ' — cancelled, partial'}`,
      );
    } catch (err) {
      if (!fe.stopped) this.reportError(err);
    } finally {
      clearTimeout(notifyTimer);
      fe.indexing = undefined;
      cancel.dispose();
      if (notified) this.log.info(`indexing took ${Date.now() - started} ms`);
      this.schedule(0);
    }
  }

  private showIndexing(fe: FolderEngine): void {
    if (!fe.indexing || !this.settings.statusBar.enabled) return;
    const { done, total } = fe.indexing;
    this.status.text = `$(sync~spin) Context Budget: indexing ${total ? `${done}/${total}` : '…'}`;
    this.status.tooltip = 'Indexing the workspace. Results so far are used meanwhile.';
    this.status.show();
  }

  // ---- targets and recompute ----

  private keyOf(doc: vscode.TextDocument): string {
    const folder = doc.uri.scheme === 'file' ? vscode.workspace.getWorkspaceFolder(doc.uri) : undefined;
    if (!folder) return doc.uri.scheme === 'file' ? posix.basename(doc.uri.path) : doc.uri.toString();
    return relativePath(folder.uri.fsPath, doc.uri.fsPath);
  }

  /**
   * The editor whose cursor we budget: the active one, or — while the panel or
   * another view has focus — the last text editor the user was in, if still visible.
   */
  private editor(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active) {
      this.lastEditor = active;
      return active;
    }
    const last = this.lastEditor;
    if (last && vscode.window.visibleTextEditors.includes(last)) return last;
    return vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'file');
  }

  private target(): Target | undefined {
    const ed = this.editor();
    if (!ed) return undefined;
    const doc = ed.document;
    if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled') return undefined;
    const fe = this.folderEngine(doc);
    const pos = ed.selection.active;
    return { folderEngine: fe, path: this.keyOf(doc), line: pos.line + 1, column: pos.character, document: doc };
  }

  private schedule(delay: number): void {
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = setTimeout(() => void this.recompute(), delay);
  }

  private currentSignals(t: Target): EditorSignals {
    const state = this.context.workspaceState;
    const seen = this.signals.snapshot();
    return {
      ...emptySignals(),
      ...seen,
      // The file under the cursor is the query, not a recently viewed neighbour
      // (this is also what the CLI sees for the same position: --open / --recent only).
      recentViews: seen.recentViews.filter((p) => p !== t.path),
      pinned: state.get<string[]>(`pinned:${t.folderEngine.root}`, []),
      excluded: state.get<string[]>(`excluded:${t.folderEngine.root}`, []),
    };
  }

  /** Recomputes for the active editor's cursor; older runs are cancelled and their results dropped. */
  async recompute(): Promise<ComputedSummary | undefined> {
    const t = this.target();
    if (!t) {
      this.status.hide(); // no editor, nothing to budget
      return undefined;
    }
    const run = this.runs.begin();
    this.busy = true;
    try {
      const engine = await t.folderEngine.engine;
      // Unsaved text and files outside the index are read from the editor buffer.
      await this.sendText(t.folderEngine, engine, t.path, t.document, t.document.isDirty || !t.folderEngine.folder);
      const computed = await engine.compute({ path: t.path, line: t.line, column: t.column }, this.currentSignals(t), {
        budget: this.budgetOverride,
        signal: run.signal,
        answerWhileBuilding: true,
      });
      if (!run.isCurrent()) return undefined; // a newer position is being computed
      this.latest = { computed, target: t };
      this.busy = false;
      this.paint(computed);
      this.askAgain.shown(computed.behind);
      void this.lm.calibrateLater(() => engine.samples(computed.id), (texts) => engine.countTokens(texts));
      return computed;
    } catch (err) {
      if (run.isCurrent() && !run.signal.aborted && !t.folderEngine.stopped) this.reportError(err);
      return undefined;
    } finally {
      if (run.isCurrent()) this.busy = false;
    }
  }

  private paint(computed: ComputedSummary): void {
    const fe = this.latest?.target.folderEngine;
    if (this.settings.statusBar.enabled) {
      if (fe?.indexing) this.showIndexing(fe);
      else {
        const view = statusView(computed.report, this.settings.statusBar);
        this.status.text = view.text;
        this.status.accessibilityInformation = { label: view.ariaLabel };
        const tip = new vscode.MarkdownString(view.tooltip);
        tip.supportThemeIcons = true;
        this.status.tooltip = tip;
        this.status.backgroundColor =
          view.severity === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : view.severity === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
      }
      this.status.show();
    } else {
      this.status.hide();
    }
    void this.postPanel();
  }

  private reportError(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.log.error(message);
    this.status.text = '$(warning) Context Budget';
    this.status.tooltip = `Context Budget: ${message}`;
    this.status.backgroundColor = undefined;
    if (this.settings.statusBar.enabled) this.status.show();
    this.messages = [{ level: 'error', text: message }];
    void this.postPanel();
  }

  // ---- editor and disk events ----

  /**
   * Gives the engine the editor's text of `path` when `use` (unsaved, or outside
   * the workspace), else lets it read the disk; sent only when that changed, or
   * with `reindex` (the index entry is made from it).
   */
  private async sendText(fe: FolderEngine, engine: EngineClient, path: string, doc: vscode.TextDocument, use: boolean, reindex = false): Promise<void> {
    const sent = fe.sentTexts.get(path);
    if (use && sent === doc.version) {
      if (reindex) await engine.reindexEditorText(path);
    } else if (use) {
      fe.sentTexts.set(path, doc.version);
      await engine.editorText(path, doc.getText(), reindex);
    } else if (sent !== undefined || reindex) {
      fe.sentTexts.delete(path);
      await engine.editorText(path, undefined, reindex);
    }
  }

  private onEdit(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled') return;
    const key = this.keyOf(doc);
    this.signals.edited(key);
    const prev = this.editTimers.get(key);
    if (prev) clearTimeout(prev);
    this.editTimers.set(
      key,
      setTimeout(() => {
        this.editTimers.delete(key);
        const fe = this.folderEngine(doc);
        void fe.engine.then(async (engine) => {
          await this.sendText(fe, engine, key, doc, true, fe.folder !== undefined);
          this.schedule(0);
        }, (err) => this.reportError(err));
      }, EDIT_DEBOUNCE_MS),
    );
  }

  private onClose(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file') return;
    const fe = this.engines.get(vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.toString() ?? '');
    const key = this.keyOf(doc);
    // A closed dirty buffer's text is gone: re-read the disk version.
    if (!fe) return;
    void fe.engine.then((engine) => this.sendText(fe, engine, key, doc, false, true)).catch(() => undefined);
  }

  private onDiskChange(uri: vscode.Uri, kind: 'change' | 'delete'): void {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return;
    const fe = this.engines.get(folder.uri.toString());
    if (!fe || fe.indexing) return; // the running full refresh will see it
    const key = relativePath(folder.uri.fsPath, uri.fsPath);
    void fe.engine.then(async (engine) => {
      if (posix.basename(key) === '.gitignore') {
        await engine.ignoreRulesChanged(posix.dirname(key) === '.' ? '' : posix.dirname(key));
        await engine.refresh();
      } else if (kind === 'delete') {
        await engine.removeFile(key);
        this.signals.removed(key);
      } else if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString() && d.isDirty)) {
        await engine.updateFile(key);
      }
      await engine.save();
    }).catch(() => undefined);
  }

  private onRename(from: vscode.Uri, to: vscode.Uri): void {
    const folder = vscode.workspace.getWorkspaceFolder(to);
    if (!folder) return;
    const rel = (u: vscode.Uri) => relativePath(folder.uri.fsPath, u.fsPath);
    this.signals.renamed(rel(from), rel(to));
    const fe = this.engines.get(folder.uri.toString());
    void fe?.engine.then((engine) => engine.renameFile(rel(from), rel(to))).catch(() => undefined);
  }

  private refreshTabs(): void {
    const paths: string[] = [];
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        if (input instanceof vscode.TabInputText && input.uri.scheme === 'file') {
          const folder = vscode.workspace.getWorkspaceFolder(input.uri);
          if (folder) paths.push(relativePath(folder.uri.fsPath, input.uri.fsPath));
        }
      }
    }
    this.signals.setOpenTabs(paths);
  }

  // ---- panel ----

  showPanel(): void {
    BudgetPanel.createOrShow(this.context.extensionUri, (msg) => void this.handlePanelMessage(msg));
    void this.postPanel();
  }

  private async postPanel(): Promise<void> {
    const panel = BudgetPanel.current;
    if (!panel) return;
    // The engine answers asynchronously: a state built for an older answer is not posted after a newer one.
    const seq = ++this.panelSeq;
    const latest = this.latest;
    const signals = latest ? this.currentSignals(latest.target) : undefined;
    let engine: EngineInfo | undefined;
    let facts: PanelFacts | undefined;
    try {
      const client = latest ? await latest.target.folderEngine.engine : undefined;
      engine = await client?.info();
      if (client && latest && signals) facts = await client.panelFacts(latest.computed.id, signals, panel.visible);
    } catch {
      // No engine (it failed to open or stopped): the panel shows the messages.
    }
    const fe = latest?.target.folderEngine;
    const messages: PanelMessage[] = [...this.messages, ...this.lm.messages, ...this.settingErrors.map((text) => ({ level: 'warning' as const, text }))];
    if (engine) for (const text of engine.profileErrors) messages.push({ level: 'warning', text });
    if (latest && !latest.target.folderEngine.folder) messages.push({ level: 'info', text: 'This file is outside any workspace folder: the budget covers the file alone.' });
    const state = buildPanelState(
      {
        engine,
        computed: latest?.computed,
        facts,
        indexing: fe?.indexing ? { files: fe.indexing.done, total: fe.indexing.total || undefined, done: false } : null,
        messages,
        excludedPaths: signals ? signals.excluded.filter((e) => !e.includes('#')) : [],
        busy: this.busy,
      },
      this.settings.engine.userModels,
      this.settings.engine.userHardware,
    );
    state.models.choices.unshift(...lmChoices(this.lm.available).filter((c) => !state.models.choices.some((x) => x.id === c.id)));
    if (seq === this.panelSeq) panel.post({ type: 'state', state });
  }

  /** A validated message from the panel (also from a panel restored after a reload). */
  async handlePanelMessage(msg: WebviewToHost): Promise<void> {
    const latest = this.latest;
    switch (msg.type) {
      case 'ready':
        await this.postPanel();
        return;
      case 'recompute':
        this.schedule(0);
        return;
      case 'setBudget':
        this.budgetOverride = msg.tokens;
        this.schedule(0);
        return;
      case 'selectModel':
        await this.updateSetting('model', msg.id);
        return;
      case 'selectHardware':
        await this.updateSetting('hardware', msg.id);
        return;
      case 'copyPrompt':
        await this.copyPrompt(msg.format);
        return;
      case 'togglePin':
        if (latest) await this.toggle('pinned', latest.target, msg.id);
        return;
      case 'toggleExclude':
        if (latest) await this.toggle('excluded', latest.target, msg.id);
        return;
      case 'toggleExcludeFile':
        if (latest) await this.toggle('excluded', latest.target, msg.path);
        return;
      case 'reveal': {
        const root = latest?.target.folderEngine.folder?.uri;
        const segments = root ? resolveInsideRoot(root.fsPath, msg.path) : undefined;
        if (!root || !segments) {
          this.log.warn(`panel asked to open a path outside the workspace; refused: ${JSON.stringify(msg.path).slice(0, 200)}`);
          return;
        }
        const uri = vscode.Uri.joinPath(root, ...segments);
        // A link inside the workspace may point outside it: compare real paths too.
        try {
          const real = realpathSync(uri.fsPath);
          const realRoot = realpathSync(root.fsPath);
          if (real !== realRoot && !real.startsWith(realRoot + sep)) {
            this.log.warn(`panel asked to open a link that leads outside the workspace; refused: ${JSON.stringify(msg.path).slice(0, 200)}`);
            return;
          }
        } catch {
          this.log.warn(`panel asked to open a file that does not exist: ${JSON.stringify(msg.path).slice(0, 200)}`);
          return;
        }
        const doc = await vscode.workspace.openTextDocument(uri);
        const range = new vscode.Range(msg.startLine - 1, 0, Math.max(msg.startLine - 1, msg.endLine - 1), 0);
        await vscode.window.showTextDocument(doc, { selection: range, viewColumn: vscode.ViewColumn.One, preserveFocus: false });
        return;
      }
    }
  }

  private async toggle(kind: 'pinned' | 'excluded', t: Target, id: string): Promise<void> {
    const key = `${kind}:${t.folderEngine.root}`;
    const list = this.context.workspaceState.get<string[]>(key, []);
    const next = list.includes(id) ? list.filter((x) => x !== id) : [...list, id];
    await this.context.workspaceState.update(key, next);
    this.schedule(0);
  }

  private async updateSetting(key: string, value: unknown): Promise<void> {
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration('contextBudget').update(key, value, target);
  }

  // ---- commands ----

  /**
   * The packed context for the active editor's cursor, exactly as the panel and
   * the status bar compute it (chat and the language model tool use this too).
   * Undefined when no editor is active.
   */
  async computeActive(opts: { budget?: number; format?: PromptFormat } = {}): Promise<ComputedSummary | undefined> {
    const t = this.target();
    if (!t) return undefined;
    const engine = await t.folderEngine.engine;
    return engine.compute({ path: t.path, line: t.line, column: t.column }, this.currentSignals(t), { budget: opts.budget ?? this.budgetOverride, format: opts.format });
  }

  async copyPrompt(format: PromptFormat): Promise<void> {
    try {
      const computed = await this.computeActive({ format });
      if (!computed) {
        void vscode.window.showInformationMessage('Context Budget: open a file and place the cursor first.');
        return;
      }
      await vscode.env.clipboard.writeText(computed.prompt.text);
      BudgetPanel.current?.post({ type: 'copied', format: format === 'xml' ? 'xml' : 'markdown', tokens: computed.prompt.tokens, ok: true });
      void vscode.window.showInformationMessage(`Context Budget: copied ${computed.prompt.tokens.toLocaleString('en-US')} tokens (${format}).`);
    } catch (err) {
      BudgetPanel.current?.post({ type: 'copied', format: format === 'xml' ? 'xml' : 'markdown', tokens: 0, ok: false, error: err instanceof Error ? err.message : String(err) });
      this.reportError(err);
    }
  }

  async setBudget(): Promise<void> {
    const current = this.latest?.computed.report.budget ?? 8192;
    const value = await vscode.window.showInputBox({
      title: 'Context Budget: token budget',
      prompt: "Tokens for the packed context, cursor window included, or 'model' for the model's limit minus the reserve",
      value: String(this.settings.engine.budget === 'model' ? 'model' : current),
      validateInput: (v) => (v.trim() === 'model' || /^\d+$/.test(v.trim()) && Number(v) > 0 ? undefined : "Enter a positive number of tokens or 'model'"),
    });
    if (value === undefined) return;
    this.budgetOverride = undefined;
    await this.updateSetting('budget', value.trim() === 'model' ? 'model' : Number(value.trim()));
  }

  async selectModel(): Promise<void> {
    const { loadProfiles } = await import('../core/cost/profiles');
    const profiles = loadProfiles(this.settings.engine.userModels, this.settings.engine.userHardware);
    const pick = await vscode.window.showQuickPick(
      [...(await chatModelPicks(vscode.lm)), ...[...profiles.models.values()].map((m) => ({
        label: m.name,
        description: m.id,
        detail: `${m.contextLength.toLocaleString('en-US')} tokens · ${m.encoding}${m.architecture ? '' : ' · architecture not public: price and tokens only'}`,
        id: m.id as string | undefined,
      }))],
      { title: 'Context Budget: model', matchOnDescription: true },
    );
    if (pick?.id) await this.updateSetting('model', pick.id);
  }

  async selectHardware(): Promise<void> {
    const { loadProfiles } = await import('../core/cost/profiles');
    const profiles = loadProfiles(this.settings.engine.userModels, this.settings.engine.userHardware);
    const pick = await vscode.window.showQuickPick(
      [...profiles.hardware.values()].map((h) => ({ label: h.name, description: h.id, id: h.id })),
      { title: 'Context Budget: hardware profile', matchOnDescription: true },
    );
    if (pick) await this.updateSetting('hardware', pick.id);
  }

  async pinSelection(): Promise<void> {
    const ed = this.editor();
    const t = this.target();
    if (!ed || !t) return;
    const engine = await t.folderEngine.engine;
    const sel = ed.selection;
    const chunks = await engine.chunkIdsInLines(t.path, sel.start.line + 1, sel.end.line + 1);
    if (chunks.length === 0) {
      void vscode.window.showInformationMessage('Context Budget: no indexed chunk under the selection.');
      return;
    }
    const key = `pinned:${t.folderEngine.root}`;
    const list = this.context.workspaceState.get<string[]>(key, []);
    await this.context.workspaceState.update(key, [...new Set([...list, ...chunks])]);
    void vscode.window.showInformationMessage(`Context Budget: pinned ${chunks.length} chunk${chunks.length > 1 ? 's' : ''}.`);
    this.schedule(0);
  }

  async excludeFile(uri?: vscode.Uri): Promise<void> {
    const target = uri ?? this.editor()?.document.uri;
    const folder = target ? vscode.workspace.getWorkspaceFolder(target) : undefined;
    if (!target || !folder) {
      void vscode.window.showInformationMessage('Context Budget: pick a file inside the workspace.');
      return;
    }
    const rel = relativePath(folder.uri.fsPath, target.fsPath);
    const key = `excluded:${folder.uri.fsPath}`;
    const list = this.context.workspaceState.get<string[]>(key, []);
    if (!list.includes(rel)) await this.context.workspaceState.update(key, [...list, rel]);
    void vscode.window.showInformationMessage(`Context Budget: ${rel} is excluded from the context (toggle it back in the panel).`);
    this.schedule(0);
  }

  /** Forgets the persisted index and indexes every folder again from disk. */
  rebuildIndex(): void {
    for (const fe of this.engines.values()) fe.indexing?.cancel.cancel();
    const storage = this.context.storageUri ?? this.context.globalStorageUri;
    rmSync(vscode.Uri.joinPath(storage, 'index').fsPath, { recursive: true, force: true });
    this.log.info('rebuilding the index from scratch');
    this.resetEngines();
  }

  /** For tests and the e2e suite: the latest report. */
  get lastReport() {
    return this.latest?.computed.report;
  }

  dispose(): void {
    this.runs.cancel();
    this.askAgain.cancel();
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    for (const t of this.editTimers.values()) clearTimeout(t);
    for (const fe of this.engines.values()) {
      fe.indexing?.cancel.cancel();
      void fe.engine.then((e) => e.dispose(), () => undefined);
    }
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
