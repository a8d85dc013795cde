// The webview side of the VS Code API (a global injected by VS Code; the dev
// preview fakes it). Typed to our protocol.
import type { HostToWebview, PanelState, PlotMetric, PromptFormat, WebviewToHost } from '../src/shared/protocol';

/** What the webview persists with setState (restored after reload by the serializer). */
export interface PersistedState {
  panel: PanelState | null;
  ui: UiState;
}

export interface UiState {
  plotMetric: PlotMetric;
  copyFormat: PromptFormat;
  showAllDropped: boolean;
}

export const defaultUiState = (): UiState => ({ plotMetric: 'attentionFlops', copyFormat: 'markdown', showAllDropped: false });

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface Host {
  post(msg: WebviewToHost): void;
  getState(): PersistedState | undefined;
  setState(s: PersistedState): void;
  onMessage(fn: (msg: HostToWebview) => void): void;
}

export function connectHost(isHostMessage: (x: unknown) => x is HostToWebview): Host {
  const api = acquireVsCodeApi();
  return {
    post: (msg) => api.postMessage(msg),
    getState: () => {
      const s = api.getState() as PersistedState | undefined;
      return s && typeof s === 'object' && 'ui' in s ? s : undefined;
    },
    setState: (s) => api.setState(s),
    onMessage: (fn) =>
      window.addEventListener('message', (ev: MessageEvent) => {
        if (isHostMessage(ev.data)) fn(ev.data);
      }),
  };
}
