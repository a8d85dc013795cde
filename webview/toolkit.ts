// The ONE module that touches @vscode/webview-ui-toolkit (deprecated upstream).
// Everything else builds UI through these helpers and never names a toolkit
// tag, so swapping the toolkit (e.g. for @vscode-elements/elements) means
// rewriting this file only. Styling hooks are our own classes, not tag names.
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
} from '@vscode/webview-ui-toolkit';

let registered = false;

/** Registers the custom elements once. Call before building any UI. */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing(), vsCodeBadge(), vsCodeDivider());
}

export interface ButtonOptions {
  appearance?: 'primary' | 'secondary';
  ariaLabel?: string;
  title?: string;
  className?: string;
  onClick: () => void;
}

/** A themed push button. */
export function button(label: string, opts: ButtonOptions): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', opts.appearance ?? 'secondary');
  b.textContent = label;
  if (opts.ariaLabel) b.setAttribute('aria-label', opts.ariaLabel);
  if (opts.title) b.setAttribute('title', opts.title);
  if (opts.className) b.className = opts.className;
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) opts.onClick();
  });
  return b;
}

export function setButtonDisabled(b: HTMLElement, disabled: boolean): void {
  if (b.hasAttribute('disabled') !== disabled) b.toggleAttribute('disabled', disabled);
}

export interface DropdownChoice {
  id: string;
  label: string;
  detail?: string;
}

export interface Dropdown {
  readonly element: HTMLElement;
  /** Replaces the options when they changed, then selects `current`. Never emits onChange. */
  update(choices: readonly DropdownChoice[], current: string): void;
}

/** A themed select. `onChange` fires on user choice only. */
export function dropdown(opts: { ariaLabel: string; className?: string; onChange: (id: string) => void }): Dropdown {
  const el = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
  el.setAttribute('aria-label', opts.ariaLabel);
  el.setAttribute('position', 'below');
  if (opts.className) el.className = opts.className;
  let signature = '';
  let current = '';
  let updating = false;
  el.addEventListener('change', () => {
    if (updating) return;
    const v = el.value;
    if (v && v !== current) {
      current = v;
      opts.onChange(v);
    }
  });
  return {
    element: el,
    update(choices, cur) {
      updating = true;
      try {
        const sig = JSON.stringify(choices.map((c) => [c.id, c.label, c.detail ?? '']));
        if (sig !== signature) {
          signature = sig;
          el.replaceChildren(
            ...choices.map((c) => {
              const o = document.createElement('vscode-option');
              o.setAttribute('value', c.id);
              o.textContent = c.label;
              if (c.detail) o.setAttribute('title', c.detail);
              if (c.id === cur) o.setAttribute('selected', '');
              return o;
            }),
          );
          el.toggleAttribute('disabled', choices.length === 0);
        }
        current = cur;
        if (el.value !== cur && choices.some((c) => c.id === cur)) el.value = cur;
        const sel = choices.find((c) => c.id === cur);
        const title = sel?.detail ?? sel?.label ?? '';
        if (el.getAttribute('title') !== title) el.setAttribute('title', title);
      } finally {
        updating = false;
      }
    },
  };
}

/** An indeterminate spinner. */
export function progressRing(ariaLabel: string): HTMLElement {
  const r = document.createElement('vscode-progress-ring');
  r.setAttribute('aria-label', ariaLabel);
  return r;
}

/** A small count badge. */
export function badge(text: string): HTMLElement {
  const b = document.createElement('vscode-badge');
  b.textContent = text;
  return b;
}

export function divider(): HTMLElement {
  const d = document.createElement('vscode-divider');
  d.setAttribute('role', 'separator');
  return d;
}
