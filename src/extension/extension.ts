// Activation. Kept light: the controller (and with it tiktoken, ONNX Runtime
// and the grammars) loads after the workbench has started, on first use.
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { registerChat, type ChatVscode } from './chat';
import type { Controller } from './controller';
import { registerPanelSerializer } from './panel';

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ lastReport: () => unknown }> {
  const log = vscode.window.createOutputChannel('Context Budget', { log: true });
  context.subscriptions.push(log);
  log.info(`activating (VS Code ${vscode.version}, workspace ${vscode.workspace.isTrusted ? 'trusted' : 'restricted'})`);

  let loading: Promise<Controller> | undefined;
  const get = (): Promise<Controller> => {
    loading ??= import('./controller').then(({ Controller }) => {
      controller = new Controller(context, log);
      context.subscriptions.push(controller);
      controller.start();
      return controller;
    });
    return loading;
  };
  const run = (fn: (c: Controller, ...args: unknown[]) => unknown) => async (...args: unknown[]) => {
    try {
      await fn(await get(), ...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error(message);
      void vscode.window.showErrorMessage(`Context Budget: ${message}`);
    }
  };
  const commands: Record<string, (c: Controller, ...args: unknown[]) => unknown> = {
    'contextBudget.showPanel': (c) => c.showPanel(),
    'contextBudget.recompute': (c) => c.recompute(),
    'contextBudget.copyPromptMarkdown': (c) => c.copyPrompt('markdown'),
    'contextBudget.copyPromptXml': (c) => c.copyPrompt('xml'),
    'contextBudget.setBudget': (c) => c.setBudget(),
    'contextBudget.selectModel': (c) => c.selectModel(),
    'contextBudget.selectHardware': (c) => c.selectHardware(),
    'contextBudget.pinSelection': (c) => c.pinSelection(),
    'contextBudget.excludeFile': (c, uri) => c.excludeFile(uri instanceof vscode.Uri ? uri : undefined),
    'contextBudget.rebuildIndex': (c) => c.rebuildIndex(),
    'contextBudget.showLog': () => log.show(),
  };
  for (const [id, fn] of Object.entries(commands)) context.subscriptions.push(vscode.commands.registerCommand(id, run(fn)));

  // @budget and the contextBudget_packContext tool, where this VS Code has the chat and tool APIs
  // (registerChat logs what is missing otherwise). Both answer from the controller's computeActive.
  const chat = registerChat(vscode as unknown as ChatVscode, {
    compute: async (opts) => (await get()).computeActive(opts),
    fileUri: (root, path) => vscode.Uri.file(isAbsolute(path) ? path : join(root, path)),
    cursorUri: () => vscode.window.activeTextEditor?.document.uri,
    log,
  });
  context.subscriptions.push(...chat.disposables);
  // A panel left open restores after a reload before any editor shows: register its serializer now.
  context.subscriptions.push(registerPanelSerializer(context, (msg) => void get().then((c) => c.handlePanelMessage(msg))));

  // Start once the first editor is shown (or now, if one is): no work at startup otherwise.
  if (vscode.window.activeTextEditor) void get();
  else {
    const once = vscode.window.onDidChangeActiveTextEditor((ed) => {
      if (ed) {
        once.dispose();
        void get();
      }
    });
    context.subscriptions.push(once);
  }
  return { lastReport: () => controller?.lastReport };
}

export function deactivate(): void {
  controller?.dispose();
  controller = undefined;
}
