// Tiny DOM helpers. Text always goes in through textContent / attributes, never
// innerHTML, so workspace strings cannot inject markup.

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** Sets text only when it changed (no needless layout / screen-reader churn). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function setAttr(el: Element, name: string, value: string | null): void {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/** Shows / hides without touching the DOM when nothing changes. */
export function setHidden(el: HTMLElement, hidden: boolean): void {
  if (el.hidden !== hidden) el.hidden = hidden;
}

export function toggleClass(el: Element, cls: string, on: boolean): void {
  if (el.classList.contains(cls) !== on) el.classList.toggle(cls, on);
}

/**
 * Makes `parent`'s children exactly `wanted` (in order), moving existing nodes
 * instead of re-creating them, touching the DOM only where the order differs.
 */
export function reconcileChildren(parent: Element, wanted: readonly Element[]): void {
  let cursor: ChildNode | null = parent.firstChild;
  for (const el of wanted) {
    if (cursor === el) {
      cursor = cursor.nextSibling;
      continue;
    }
    parent.insertBefore(el, cursor);
  }
  while (cursor) {
    const next: ChildNode | null = cursor.nextSibling;
    parent.removeChild(cursor);
    cursor = next;
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Small inline icons (drawn with currentColor, so they follow the theme). */
export function icon(name: 'pin' | 'exclude' | 'file-exclude' | 'go'): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '14');
  svg.setAttribute('height', '14');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(SVG_NS, 'path');
  const d: Record<typeof name, string> = {
    // A push-pin.
    pin: 'M9.5 1.5l5 5-1.4.6-2.6 2.6.4 3.2-1.2 1.2-3-3-3.6 3.6-.9-.9 3.6-3.6-3-3 1.2-1.2 3.2.4 2.6-2.6z',
    // A circle with a slash.
    exclude: 'M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13zm0 1.3a5.2 5.2 0 0 1 4.1 8.4L4.8 3.9A5.2 5.2 0 0 1 8 2.8zM3.9 4.8l7.3 7.3A5.2 5.2 0 0 1 3.9 4.8z',
    // A page with a slash.
    'file-exclude': 'M3 1.5h6l4 4v9H3zm1.2 1.2v10.6h7.6V6.2H8.5V2.7zM5 6.9l.8-.8 5.2 5.2-.8.8z',
    // An arrow into a box.
    go: 'M2 2.5h6v1.2H3.2v8.6h8.6V8h1.2v5.5H2zm7-.5h5v5h-1.2V4.1L8.4 8.5l-.9-.9 4.4-4.4H9z',
  };
  path.setAttribute('d', d[name]);
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('fill-rule', 'evenodd');
  svg.append(path);
  return svg;
}
