// Webview entry (bundled by scripts/build.mjs → dist/webview.js, loaded with the CSP nonce).
import { isHostMessage } from '../src/shared/protocol';
import type { PanelState } from '../src/shared/protocol';
import { PanelApp } from './app';
import { registerToolkit } from './toolkit';
import { connectHost, defaultUiState } from './vscodeApi';
import type { PersistedState } from './vscodeApi';

function start(): void {
  registerToolkit();
  const host = connectHost(isHostMessage);
  const saved = host.getState();
  const persisted: PersistedState = { panel: saved?.panel ?? null, ui: { ...defaultUiState(), ...(saved?.ui ?? {}) } };
  const root = document.getElementById('app');
  if (!root) return;
  const save = () => host.setState(persisted);
  const app = new PanelApp(root, {
    post: (msg) => host.post(msg),
    uiChanged: (ui) => {
      persisted.ui = { ...ui };
      save();
    },
  }, persisted.ui);
  // Restored after a reload: show the last state at once, the host sends a fresh one after `ready`.
  if (persisted.panel) app.render(persisted.panel);
  host.onMessage((msg) => {
    if (msg.type === 'state') {
      const state: PanelState = msg.state;
      app.render(state);
      persisted.panel = state;
      save();
    } else if (msg.type === 'copied') app.copied(msg);
  });
  host.post({ type: 'ready' });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
