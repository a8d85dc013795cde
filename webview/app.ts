// The panel's DOM: built once, then updated in place from each PanelState.
// All workspace text goes in through textContent/attributes (dom.ts); the one
// innerHTML use is the plot, whose SVG string escapes every text (plot.ts).
import { reasonLabel, type ContextReport, type ReportItem } from '../src/core/report';
import type { CandidateWindowRow, HostToWebview, PanelState, PlotMetric, PromptFormat, WebviewToHost } from '../src/shared/protocol';
import { PLOT_METRICS } from '../src/shared/protocol';
import { budgetBar, budgetLevel, keyStepTokens, liveSender, sliderToTokens, SLIDER_STEPS, tokensToSlider } from './budgetBar';
import type { SegmentKey } from './budgetBar';
import { isExcluded, rowSignature, sendOrder, sourceLabels } from './chunks';
import { h, icon, reconcileChildren, setAttr, setHidden, setText, toggleClass } from './dom';
import { formatBudget, formatBytes, formatFlops, formatInt, formatLocation, formatPercent, formatRate, formatScore, formatSeconds, formatTokens, formatUsd, splitPath } from '../src/core/format';
import { buildPlotSvg, hasPlotData, METRIC_LABELS, METRIC_SHORT } from './plot';
import { button, dropdown, progressRing, setButtonDisabled } from './toolkit';
import type { Dropdown } from './toolkit';
import type { UiState } from './vscodeApi';

export interface AppHooks {
  post(msg: WebviewToHost): void;
  /** Called when UI-only state (metric, format, ...) changes, to persist it. */
  uiChanged(ui: UiState): void;
}

/** How many dropped items show before "Show all". */
const DROPPED_PREVIEW = 30;
const BUDGET_DEBOUNCE_MS = 50;
const PENDING_BUDGET_MS = 1000;

interface ChunkRow {
  li: HTMLLIElement;
  sig: string;
  loc: HTMLButtonElement;
  kind: HTMLSpanElement;
  tokens: HTMLSpanElement;
  score: HTMLSpanElement;
  chips: HTMLSpanElement;
  reason: HTMLSpanElement;
  pin: HTMLButtonElement;
  exclude: HTMLButtonElement;
  excludeFile: HTMLButtonElement;
  item: ReportItem;
}

const SEGMENT_KEYS: SegmentKey[] = ['overhead', 'cursor', 'pinned', 'retrieved', 'free', 'reserve'];

export class PanelApp {
  private state: PanelState | null = null;
  private ui: UiState;
  private readonly rows = new Map<string, ChunkRow>();
  private cursorRow: HTMLLIElement | null = null;
  private plotKey = '';
  private windowsKey = '';
  private readonly budgetSender = liveSender<number>((tokens) => this.hooks.post({ type: 'setBudget', tokens }), BUDGET_DEBOUNCE_MS, {
    set: (fn, ms) => setTimeout(fn, ms),
    clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    now: () => performance.now(),
  });
  /** The budget the user is dragging to; state updates do not move the slider until the host catches up. */
  private pendingBudget: number | undefined;
  private pendingAt = 0;
  private copiedTimer: ReturnType<typeof setTimeout> | undefined;

  // Static skeleton.
  private readonly el: {
    context: HTMLElement;
    busy: HTMLElement;
    messages: HTMLElement;
    indexing: HTMLElement;
    indexingText: HTMLElement;
    indexingBar: HTMLElement;
    indexingFill: HTMLElement;
    bar: HTMLElement;
    segs: Record<SegmentKey, HTMLElement>;
    legend: Record<SegmentKey, HTMLElement>;
    budgetMark: HTMLElement;
    budgetSummary: HTMLElement;
    slider: HTMLInputElement;
    sliderValue: HTMLElement;
    sliderMin: HTMLElement;
    sliderMax: HTMLElement;
    cards: Record<string, { value: HTMLElement; sub: HTMLElement }>;
    notes: HTMLElement;
    notesList: HTMLElement;
    metricButtons: Map<PlotMetric, HTMLButtonElement>;
    plot: HTMLElement;
    windowsBody: HTMLTableSectionElement;
    windowsEmpty: HTMLElement;
    windowsTable: HTMLElement;
    droppedSection: HTMLElement;
    selectedDetail: HTMLElement;
    selectedList: HTMLOListElement;
    droppedDetail: HTMLElement;
    droppedList: HTMLOListElement;
    droppedMore: HTMLButtonElement;
    emptyHint: HTMLElement;
    ranker: HTMLElement;
    indexStats: HTMLElement;
    timings: HTMLElement;
    copyStatus: HTMLElement;
    copyMd: HTMLElement;
    copyXml: HTMLElement;
    recompute: HTMLElement;
  };
  private readonly model: Dropdown;
  private readonly hardware: Dropdown;

  constructor(
    private readonly root: HTMLElement,
    private readonly hooks: AppHooks,
    ui: UiState,
  ) {
    this.ui = { ...ui };
    this.model = dropdown({ ariaLabel: 'Model', className: 'picker', onChange: (id) => this.hooks.post({ type: 'selectModel', id }) });
    this.hardware = dropdown({ ariaLabel: 'Hardware profile', className: 'picker', onChange: (id) => this.hooks.post({ type: 'selectHardware', id }) });
    this.el = this.build();
  }

  // ------------------------------------------------------------------ build

  private build(): PanelApp['el'] {
    const post = this.hooks.post;
    const busy = h('span', { class: 'busy-indicator', hidden: true }, [progressRing('Recomputing')]);
    const context = h('span', { class: 'context-line' });
    const recompute = button('Recompute', { ariaLabel: 'Recompute the context', onClick: () => post({ type: 'recompute' }) });
    const copyMd = button('Copy as Markdown', { appearance: 'primary', ariaLabel: 'Copy the packed context as a Markdown prompt', onClick: () => this.copy('markdown') });
    const copyXml = button('Copy as XML', { ariaLabel: 'Copy the packed context as an XML prompt', onClick: () => this.copy('xml') });
    const copyStatus = h('span', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });

    const header = h('header', { class: 'top' }, [
      h('div', { class: 'title-row' }, [h('h1', {}, ['Context Budget']), busy, context]),
      h('div', { class: 'controls' }, [
        h('label', { class: 'picker-label' }, [h('span', {}, ['Model']), this.model.element]),
        h('label', { class: 'picker-label' }, [h('span', {}, ['Hardware']), this.hardware.element]),
        h('span', { class: 'spacer' }),
        recompute,
        copyMd,
        copyXml,
        copyStatus,
      ]),
    ]);

    const messages = h('ul', { class: 'messages', 'aria-live': 'polite' });
    const indexingText = h('span', { class: 'indexing-text' });
    const indexingFill = h('span', { class: 'indexing-fill' });
    const indexingBar = h('span', { class: 'indexing-bar', role: 'progressbar', 'aria-label': 'Indexing progress' }, [indexingFill]);
    const indexing = h('div', { class: 'indexing', hidden: true }, [indexingText, indexingBar]);

    // Budget bar + slider.
    const segs = {} as Record<SegmentKey, HTMLElement>;
    const legend = {} as Record<SegmentKey, HTMLElement>;
    const bar = h('div', { class: 'bar', role: 'img', 'aria-label': 'Budget by category' });
    for (const k of SEGMENT_KEYS) {
      segs[k] = h('span', { class: `seg seg-${k}` });
      bar.append(segs[k]);
      legend[k] = h('span', { class: 'legend-value' });
    }
    const budgetMark = h('span', { class: 'bar-mark', hidden: true, title: 'Budget' });
    bar.append(budgetMark);
    const legendEl = h(
      'ul',
      { class: 'bar-legend' },
      SEGMENT_KEYS.map((k) => h('li', { class: `legend-${k}` }, [h('span', { class: `swatch seg-${k}`, 'aria-hidden': 'true' }), h('span', { class: 'legend-label' }, [LEGEND_LABELS[k]]), legend[k]])),
    );
    const budgetSummary = h('span', { class: 'budget-summary' });
    const slider = h('input', { type: 'range', id: 'budget-slider', min: 0, max: SLIDER_STEPS, step: 1, value: 0, 'aria-describedby': 'budget-slider-help' }) as HTMLInputElement;
    const sliderValue = h('output', { class: 'slider-value', for: 'budget-slider' });
    const sliderMin = h('span', { class: 'slider-bound' });
    const sliderMax = h('span', { class: 'slider-bound' });
    slider.addEventListener('input', () => this.onSlider());
    slider.addEventListener('keydown', (ev) => this.onSliderKey(ev));
    const budgetSection = section('budget', 'Budget', [
      h('div', { class: 'budget-head' }, [budgetSummary]),
      bar,
      legendEl,
      h('div', { class: 'slider-row' }, [
        h('label', { for: 'budget-slider', class: 'slider-label' }, ['Token budget']),
        sliderMin,
        slider,
        sliderMax,
        sliderValue,
      ]),
      h('p', { id: 'budget-slider-help', class: 'hint' }, ['Drag, or use the arrow keys (±10%) and Page Up / Page Down (×2): the context re-packs as you go.']),
    ]);

    // Cost cards.
    const cards: Record<string, { value: HTMLElement; sub: HTMLElement }> = {};
    const cardDefs: Array<[string, string]> = [
      ['tokens', 'Prompt tokens'],
      ['attention', 'Attention FLOPs'],
      ['kv', 'KV cache'],
      ['ttft', 'Time to first token'],
      ['decode', 'Decode speed'],
      ['price', 'Price'],
      ['cache', 'Prompt cache'],
    ];
    const cardEls = cardDefs.map(([key, label]) => {
      const value = h('span', { class: 'card-value' });
      const sub = h('span', { class: 'card-sub' });
      cards[key] = { value, sub };
      return h('li', { class: `card card-${key}` }, [h('span', { class: 'card-label' }, [label]), value, sub]);
    });
    const notesList = h('ul', { class: 'notes-list' });
    const notes = h('details', { class: 'notes', hidden: true }, [h('summary', {}, ['Assumptions']), notesList]);
    const costSection = section('cost', 'Cost of this prompt', [h('ul', { class: 'cards' }, cardEls), notes]);

    // Plot.
    const metricButtons = new Map<PlotMetric, HTMLButtonElement>();
    const metricBar = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Plotted metric' });
    for (const m of PLOT_METRICS) {
      const b = h('button', { type: 'button', class: 'seg-btn', 'aria-pressed': 'false', title: METRIC_LABELS[m] }, [METRIC_SHORT[m]]);
      b.addEventListener('click', () => this.setMetric(m));
      metricButtons.set(m, b);
      metricBar.append(b);
    }
    const plot = h('div', { class: 'plot-wrap' });
    // Draw at the real width so text stays at its CSS size (re-drawn on resize, once per frame).
    let resizeFrame = 0;
    new ResizeObserver(() => {
      cancelAnimationFrame(resizeFrame);
      resizeFrame = requestAnimationFrame(() => this.renderPlot());
    }).observe(plot);
    const plotSection = section('plot', 'Cost vs context length', [metricBar, plot]);

    // Candidate windows.
    const windowsBody = h('tbody');
    const windowsEmpty = h('p', { class: 'hint', hidden: true }, ['No candidate windows yet.']);
    const table = h('table', { class: 'windows' }, [
      h('caption', { class: 'visually-hidden' }, ['What each candidate window would cost']),
      h('thead', {}, [
        h(
          'tr',
          {},
          ['Window', 'Tokens', 'Attention FLOPs (share)', 'KV cache', 'TTFT', 'Price'].map((t, i) => h('th', { scope: 'col', class: i === 0 ? 'col-label' : 'num' }, [t])),
        ),
      ]),
      windowsBody,
    ]);
    const windowsSection = section('windows', 'Candidate windows', [h('div', { class: 'table-wrap' }, [table]), windowsEmpty]);

    // Chunk lists.
    const emptyHint = h('p', { class: 'hint empty-hint', hidden: true }, ['Open a file to see what context would be sent with it.']);
    const selectedDetail = h('span', { class: 'h2-detail' });
    const selectedList = h('ol', { class: 'chunks chunks-selected', 'aria-label': 'Selected chunks, in send order' });
    const droppedDetail = h('span', { class: 'h2-detail' });
    const droppedList = h('ol', { class: 'chunks chunks-dropped', 'aria-label': 'Dropped chunks, best first' });
    const droppedMore = h('button', { type: 'button', class: 'link-btn', hidden: true });
    droppedMore.addEventListener('click', () => {
      this.ui.showAllDropped = !this.ui.showAllDropped;
      this.hooks.uiChanged(this.ui);
      this.renderChunks();
    });
    for (const list of [selectedList, droppedList]) list.addEventListener('keydown', (ev) => this.onListKey(ev));
    const selectedSection = sectionWithTitle('selected', [document.createTextNode('Sent'), selectedDetail], [emptyHint, selectedList]);
    const droppedSection = sectionWithTitle('dropped', [document.createTextNode('Dropped'), droppedDetail], [droppedList, droppedMore]);

    const ranker = h('span', { class: 'ranker' });
    const indexStats = h('span', { class: 'index-stats' });
    const timings = h('span', { class: 'timings' });
    const footer = h('footer', { class: 'foot' }, [ranker, indexStats, timings]);

    const main = h('main', { class: 'layout' }, [
      h('div', { class: 'col col-left' }, [budgetSection, costSection, selectedSection, droppedSection]),
      h('div', { class: 'col col-right' }, [plotSection, windowsSection]),
    ]);
    this.root.replaceChildren(header, messages, indexing, main, footer);

    return {
      context,
      busy,
      messages,
      indexing,
      indexingText,
      indexingBar,
      indexingFill,
      bar,
      segs,
      legend,
      budgetMark,
      budgetSummary,
      slider,
      sliderValue,
      sliderMin,
      sliderMax,
      cards,
      notes,
      notesList,
      metricButtons,
      plot,
      windowsBody,
      windowsEmpty,
      windowsTable: table,
      droppedSection,
      selectedDetail,
      selectedList,
      droppedDetail,
      droppedList,
      droppedMore,
      emptyHint,
      ranker,
      indexStats,
      timings,
      copyStatus,
      copyMd,
      copyXml,
      recompute,
    };
  }

  // ------------------------------------------------------------------ events

  private copy(format: PromptFormat): void {
    this.ui.copyFormat = format;
    this.hooks.uiChanged(this.ui);
    setText(this.el.copyStatus, 'Copying…');
    toggleClass(this.el.copyStatus, 'is-error', false);
    clearTimeout(this.copiedTimer);
    // Cleared by the host's `copied` answer; never left hanging if none comes.
    this.copiedTimer = setTimeout(() => setText(this.el.copyStatus, ''), 8000);
    this.hooks.post({ type: 'copyPrompt', format });
  }

  private setMetric(m: PlotMetric): void {
    if (this.ui.plotMetric === m) return;
    this.ui.plotMetric = m;
    this.hooks.uiChanged(this.ui);
    this.renderPlot();
  }

  private onSlider(): void {
    const s = this.state;
    if (!s) return;
    const { min, max, step } = s.budget;
    this.setPendingBudget(sliderToTokens(Number(this.el.slider.value), min, max, step));
  }

  /** Arrows ±10%, PageUp/PageDown ×2 / ÷2, Home/End: budget-sized steps instead of slider positions. */
  private onSliderKey(ev: KeyboardEvent): void {
    const s = this.state;
    if (!s) return;
    const { min, max, step } = s.budget;
    const next = keyStepTokens(ev.key, this.pendingBudget ?? s.budget.tokens, min, max, step);
    if (next === undefined) return;
    ev.preventDefault();
    this.el.slider.value = String(tokensToSlider(next, min, max));
    this.setPendingBudget(next);
  }

  private setPendingBudget(tokens: number): void {
    this.pendingBudget = tokens;
    this.pendingAt = Date.now();
    this.renderSliderText(tokens);
    this.renderBar(tokens);
    this.budgetSender.push(tokens);
  }

  /** Up/Down/Home/End move between the chunk links of a list. */
  private onListKey(ev: KeyboardEvent): void {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(ev.key)) return;
    const list = ev.currentTarget as HTMLElement;
    const links = Array.from(list.querySelectorAll<HTMLElement>('.chunk-loc'));
    const at = links.indexOf(document.activeElement as HTMLElement);
    if (at < 0 && !list.contains(document.activeElement)) return;
    const li = (document.activeElement as HTMLElement | null)?.closest('li');
    const cur = at >= 0 ? at : links.findIndex((l) => l.closest('li') === li);
    let next = cur;
    if (ev.key === 'ArrowDown') next = Math.min(links.length - 1, cur + 1);
    else if (ev.key === 'ArrowUp') next = Math.max(0, cur - 1);
    else if (ev.key === 'Home') next = 0;
    else next = links.length - 1;
    if (next !== cur && links[next]) {
      ev.preventDefault();
      links[next].focus();
    }
  }

  // ------------------------------------------------------------------ render

  /** Renders a full state snapshot, touching only what changed. */
  render(state: PanelState): void {
    this.state = state;
    const r = state.report;
    document.body.classList.toggle('is-busy', !!state.busy);
    setHidden(this.el.busy, !state.busy);
    setAttr(this.root, 'aria-busy', state.busy ? 'true' : null);

    setText(this.el.context, r ? `${formatLocation(r.file, r.line, r.line)} · ${r.modelName} · ${r.encoding}` : 'No active editor');
    this.model.update(state.models.choices, state.models.current);
    this.hardware.update(state.hardware.choices, state.hardware.current);
    const canCopy = !!r && r.totals.promptTokens > 0;
    setButtonDisabled(this.el.copyMd, !canCopy);
    setButtonDisabled(this.el.copyXml, !canCopy);

    this.renderMessages(state);
    this.renderIndexing(state);
    // The slider stays where the user put it until the host catches up (or, if the
    // host settled on another budget, e.g. clamped, a moment after the last send).
    if (this.pendingBudget !== undefined) {
      const caughtUp = state.budget.tokens === this.pendingBudget;
      const stale = !this.budgetSender.busy && Date.now() - this.pendingAt > PENDING_BUDGET_MS;
      if (caughtUp || stale) this.pendingBudget = undefined;
    }
    if (this.pendingBudget === undefined) this.budgetSender.reset(state.budget.tokens);
    this.renderSlider(state);
    this.renderBar(this.pendingBudget ?? state.budget.tokens);
    this.renderCards(r);
    this.renderPlot();
    this.renderWindows(state.windows, r?.cost.contextLimit ?? state.curves?.contextLimit ?? 0);
    this.renderChunks();
    this.renderFooter(state);
  }

  /** The host's answer to copyPrompt. */
  copied(msg: Extract<HostToWebview, { type: 'copied' }>): void {
    const fmt = msg.format === 'xml' ? 'XML' : 'Markdown';
    setText(this.el.copyStatus, msg.ok ? `Copied ${formatTokens(msg.tokens)} tokens as ${fmt}.` : `Copy failed${msg.error ? `: ${msg.error}` : '.'}`);
    toggleClass(this.el.copyStatus, 'is-error', !msg.ok);
    clearTimeout(this.copiedTimer);
    this.copiedTimer = setTimeout(() => setText(this.el.copyStatus, ''), 4000);
  }

  private renderMessages(state: PanelState): void {
    const items = state.messages.map((m) => h('li', { class: `msg msg-${m.level}`, role: m.level === 'error' ? 'alert' : undefined }, [h('span', { class: 'msg-level' }, [LEVEL_LABEL[m.level]]), m.text]));
    const key = JSON.stringify(state.messages);
    if (this.el.messages.dataset.key !== key) {
      this.el.messages.dataset.key = key;
      this.el.messages.replaceChildren(...items);
    }
    setHidden(this.el.messages, state.messages.length === 0);
  }

  private renderIndexing(state: PanelState): void {
    const ix = state.indexing;
    const show = !!ix && !ix.done;
    setHidden(this.el.indexing, !show);
    if (!ix || !show) return;
    const total = ix.total && ix.total > 0 ? ix.total : undefined;
    setText(this.el.indexingText, total ? `Indexing ${formatInt(ix.files)} / ${formatInt(total)} files…` : `Indexing… ${formatInt(ix.files)} files`);
    toggleClass(this.el.indexingBar, 'indeterminate', !total);
    if (total) {
      const pct = Math.min(100, (ix.files / total) * 100);
      this.el.indexingFill.style.width = `${pct.toFixed(1)}%`;
      setAttr(this.el.indexingBar, 'aria-valuenow', String(Math.round(pct)));
      setAttr(this.el.indexingBar, 'aria-valuemin', '0');
      setAttr(this.el.indexingBar, 'aria-valuemax', '100');
    } else {
      this.el.indexingFill.style.width = '';
      setAttr(this.el.indexingBar, 'aria-valuenow', null);
    }
  }

  private renderSlider(state: PanelState): void {
    const { min, max, tokens } = state.budget;
    const shown = this.pendingBudget ?? tokens;
    const pos = String(tokensToSlider(shown, min, max));
    if (this.pendingBudget === undefined && this.el.slider.value !== pos) this.el.slider.value = pos;
    setText(this.el.sliderMin, formatBudget(min));
    setText(this.el.sliderMax, formatBudget(max));
    this.renderSliderText(shown);
  }

  private renderSliderText(tokens: number): void {
    setText(this.el.sliderValue, `${formatBudget(tokens)} tokens`);
    setAttr(this.el.slider, 'aria-valuetext', `${formatInt(tokens)} tokens`);
  }

  private renderBar(budget: number): void {
    const r = this.state?.report ?? null;
    const model = budgetBar(r?.budgetSplit ?? null, budget);
    for (const seg of model.segments) {
      const el = this.el.segs[seg.key];
      const w = `${(seg.fraction * 100).toFixed(3)}%`;
      if (el.style.width !== w) el.style.width = w;
      setHidden(el, seg.fraction <= 0);
      setAttr(el, 'title', `${seg.label}: ${formatInt(seg.tokens)} tokens`);
      setText(this.el.legend[seg.key], formatTokens(seg.tokens));
      const li = this.el.legend[seg.key].parentElement;
      if (li) setHidden(li, seg.key === 'overhead' && seg.tokens === 0);
    }
    const level = budgetLevel(model.usedShare);
    toggleClass(this.el.bar, 'is-warn', level === 'warn');
    toggleClass(this.el.bar, 'is-over', level === 'over');
    setHidden(this.el.budgetMark, model.over <= 0);
    if (model.over > 0) this.el.budgetMark.style.left = `${(model.budgetMark * 100).toFixed(3)}%`;
    const limit = r?.budgetSplit.contextLimit;
    const summary = r
      ? `${formatInt(model.used)} of ${formatInt(model.budget)} tokens used (${formatPercent(model.usedShare)})${model.over > 0 ? ` · ${formatInt(model.over)} over budget` : ''}${limit ? ` · context limit ${formatBudget(limit)}` : ''}`
      : `Budget ${formatInt(model.budget)} tokens`;
    setText(this.el.budgetSummary, summary);
    toggleClass(this.el.budgetSummary, 'is-over', level === 'over');
    setAttr(this.el.bar, 'aria-label', `Budget by category: ${model.segments.filter((s) => s.tokens > 0).map((s) => `${s.label} ${formatInt(s.tokens)}`).join(', ') || 'empty'}`);
  }

  private renderCards(r: ContextReport | null): void {
    const c = r?.cost;
    const unknown = c && !c.architectureKnown ? 'architecture not public' : '';
    const set = (key: string, value: string, sub: string) => {
      setText(this.el.cards[key].value, value);
      setText(this.el.cards[key].sub, sub);
    };
    if (!r || !c) {
      for (const key of Object.keys(this.el.cards)) set(key, '—', '');
      setHidden(this.el.notes, true);
      return;
    }
    set('tokens', formatTokens(r.totals.promptTokens), `of ${formatBudget(r.budget)} budget · ${formatInt(r.totals.promptTokens)} exact`);
    set('attention', formatFlops(c.attentionFlops), c.attentionShare !== null ? `${formatPercent(c.attentionShare)} of ${formatFlops(c.totalFlops)} prefill` : unknown);
    set('kv', formatBytes(c.kvCacheBytes), c.fitsInMemory === false ? 'does not fit with the weights' : c.kvCacheBytes !== null ? `weights ${formatBytes(c.weightsBytes)}` : unknown);
    set('ttft', formatSeconds(c.ttftSeconds), c.ttftSeconds !== null ? `on ${r.hardware}` : unknown);
    set('decode', formatRate(c.decodeTokensPerSecond), c.decodeSecondsPerToken !== null ? `${formatSeconds(c.decodeSecondsPerToken)} per token` : unknown);
    set('price', formatUsd(c.priceUsd), c.priceUsd !== null ? `input ${formatUsd(c.inputPriceUsd)} · output ${formatUsd(c.outputPriceUsd)} (${formatTokens(c.outputTokens)})` : 'no price for this model');
    const cache = this.state?.cache;
    set(
      'cache',
      cache ? `${formatTokens(cache.reusedTokens)} reusable` : '—',
      !cache
        ? 'no previous pack for this file yet'
        : `leading tokens of ${formatTokens(cache.totalTokens)} unchanged since the last pack${r.budgetSplit.stable ? ` (stable layer ${formatTokens(r.budgetSplit.stable)})` : ''} · ${cache.priceWithCacheUsd !== null ? `${formatUsd(cache.priceWithCacheUsd)} with cache hits vs ${formatUsd(cache.priceUsd)}` : 'no price for this model'}`,
    );
    toggleClass(this.el.cards.kv.value, 'is-over', c.fitsInMemory === false);
    const key = JSON.stringify(c.notes);
    if (this.el.notesList.dataset.key !== key) {
      this.el.notesList.dataset.key = key;
      this.el.notesList.replaceChildren(...c.notes.map((n) => h('li', {}, [n])));
    }
    setHidden(this.el.notes, c.notes.length === 0);
  }

  private renderPlot(): void {
    const curves = this.state?.curves ?? null;
    for (const [m, b] of this.el.metricButtons) setAttr(b, 'aria-pressed', String(m === this.ui.plotMetric));
    const width = Math.max(320, Math.round(this.el.plot.clientWidth || 640));
    const height = hasPlotData(curves, this.ui.plotMetric) ? Math.round(Math.min(340, Math.max(220, width * 0.5))) : 90;
    const key = `${this.ui.plotMetric}\u0001${width}\u0001${JSON.stringify(curves)}`;
    if (key === this.plotKey) return;
    this.plotKey = key;
    // Safe: buildPlotSvg escapes every string it embeds.
    this.el.plot.innerHTML = buildPlotSvg(curves, this.ui.plotMetric, { width, height });
  }

  private renderWindows(rows: CandidateWindowRow[], contextLimit: number): void {
    const key = `${contextLimit}\u0001${JSON.stringify(rows)}`;
    if (key === this.windowsKey) return;
    this.windowsKey = key;
    setHidden(this.el.windowsEmpty, rows.length > 0);
    setHidden(this.el.windowsTable, rows.length === 0);
    const maxAttn = Math.max(0, ...rows.map((r) => r.attentionFlops ?? 0));
    const trs = rows.map((row) => {
      const over = contextLimit > 0 && row.tokens > contextLimit;
      const noFit = row.fitsInMemory === false;
      const fill = h('span', { class: 'minibar-fill' });
      if (maxAttn > 0 && row.attentionFlops !== null) fill.style.width = `${Math.max(0.5, (row.attentionFlops / maxAttn) * 100).toFixed(2)}%`;
      const flags: string[] = [];
      if (row.current) flags.push('current budget');
      if (over) flags.push('exceeds context limit');
      if (noFit) flags.push('does not fit in memory');
      return h('tr', { class: [row.current ? 'is-current' : '', over ? 'is-over' : '', noFit ? 'no-fit' : ''].filter(Boolean).join(' ') || undefined }, [
        h('th', { scope: 'row', class: 'col-label' }, [row.label, flags.length ? h('span', { class: 'row-flags' }, [` · ${flags.join(' · ')}`]) : null]),
        h('td', { class: 'num', title: `${formatInt(row.tokens)} tokens` }, [formatTokens(row.tokens)]),
        h('td', { class: 'num attn' }, [
          h('span', { class: 'attn-value' }, [formatFlops(row.attentionFlops), h('span', { class: 'attn-share' }, [` ${formatPercent(row.attentionShare)}`])]),
          h('span', { class: 'minibar', 'aria-hidden': 'true' }, [fill]),
        ]),
        h('td', { class: 'num' }, [formatBytes(row.kvCacheBytes)]),
        h('td', { class: 'num' }, [formatSeconds(row.ttftSeconds)]),
        h('td', { class: 'num' }, [formatUsd(row.priceUsd)]),
      ]);
    });
    this.el.windowsBody.replaceChildren(...trs);
  }

  private renderChunks(): void {
    const s = this.state;
    const r = s?.report ?? null;
    const { selected, dropped } = sendOrder(r);
    const excludedFiles = new Set(s?.excludedPaths ?? []);
    setHidden(this.el.emptyHint, !!r);
    setHidden(this.el.droppedSection, !r);
    const selTokens = selected.reduce((a, it) => a + it.tokens, 0) + (r?.cursor.tokens ?? 0);
    setText(this.el.selectedDetail, r ? `${selected.length + 1} chunks · ${formatTokens(selTokens)} tokens · in send order` : '');
    setText(this.el.droppedDetail, dropped.length ? `${dropped.length} · best first` : 'nothing dropped');

    const seen = new Set<string>();
    const rowFor = (it: ReportItem) => {
      seen.add(it.id);
      return this.row(it, excludedFiles.has(it.path));
    };
    const selRows: HTMLElement[] = selected.map(rowFor);
    if (r) selRows.push(this.cursorItem(r));
    reconcileChildren(this.el.selectedList, selRows);

    const showAll = this.ui.showAllDropped || dropped.length <= DROPPED_PREVIEW;
    const shownDropped = showAll ? dropped : dropped.slice(0, DROPPED_PREVIEW);
    reconcileChildren(this.el.droppedList, shownDropped.map(rowFor));
    setHidden(this.el.droppedMore, dropped.length <= DROPPED_PREVIEW);
    setText(this.el.droppedMore, this.ui.showAllDropped ? 'Show fewer' : `Show all ${dropped.length}`);

    for (const id of Array.from(this.rows.keys())) if (!seen.has(id)) this.rows.delete(id);
  }

  private cursorItem(r: ContextReport): HTMLLIElement {
    if (!this.cursorRow) {
      const loc = h('button', { type: 'button', class: 'chunk-loc' });
      loc.addEventListener('click', () => {
        const cur = this.state?.report;
        if (cur) this.hooks.post({ type: 'reveal', path: cur.file, startLine: cur.cursor.startLine, endLine: cur.cursor.endLine });
      });
      this.cursorRow = h('li', { class: 'chunk chunk-cursor' }, [
        loc,
        h('span', { class: 'chunk-kind' }, ['cursor']),
        h('span', { class: 'chunk-tokens num' }),
        h('span', { class: 'chunk-score num' }),
        h('span', { class: 'chunk-actions' }),
        h('span', { class: 'chunk-meta' }, [h('span', { class: 'chunk-reason' }, ['always sent: the code around the cursor'])]),
      ]);
    }
    const loc = this.cursorRow.querySelector('.chunk-loc') as HTMLElement;
    const where = formatLocation(r.file, r.cursor.startLine, r.cursor.endLine);
    setLocation(loc, r.file, r.cursor.startLine, r.cursor.endLine);
    setAttr(loc, 'aria-label', `Reveal cursor window ${where}`);
    setText(this.cursorRow.querySelector('.chunk-tokens') as HTMLElement, `${formatTokens(r.cursor.tokens)} tok`);
    return this.cursorRow;
  }

  private row(it: ReportItem, fileExcluded: boolean): HTMLLIElement {
    let row = this.rows.get(it.id);
    if (!row) {
      row = this.createRow(it);
      this.rows.set(it.id, row);
    }
    row.item = it;
    const sig = rowSignature(it, fileExcluded);
    if (row.sig === sig) return row.li;
    row.sig = sig;
    toggleClass(row.li, 'is-pending', false);
    const where = formatLocation(it.path, it.startLine, it.endLine);
    setLocation(row.loc, it.path, it.startLine, it.endLine);
    setAttr(row.loc, 'aria-label', `Reveal ${where}`);
    setAttr(row.loc, 'title', it.evidence?.length ? `Pulled in by: ${it.evidence.join(', ')}` : where);
    setText(row.kind, it.kind);
    setText(row.tokens, `${formatTokens(it.tokens)} tok`);
    setAttr(row.tokens, 'title', `${formatInt(it.tokens)} tokens`);
    setText(row.score, formatScore(it.score));
    setAttr(row.score, 'title', `Relevance score ${it.score.toFixed(4)}`);
    const chips = sourceLabels(it.sources).map((src) => h('span', { class: `chip chip-${src}` }, [src]));
    row.chips.replaceChildren(...chips);
    setText(row.reason, reasonLabel(it.reason));
    toggleClass(row.li, 'is-pinned', it.pinned);
    toggleClass(row.li, 'is-excluded', isExcluded(it) || fileExcluded);
    toggleClass(row.li, 'is-dropped', !it.selected);
    setAttr(row.pin, 'aria-pressed', String(it.pinned));
    setAttr(row.pin, 'aria-label', `${it.pinned ? 'Unpin' : 'Pin'} ${where}`);
    setAttr(row.pin, 'title', it.pinned ? 'Unpin: let the packer decide' : 'Pin: always send this chunk');
    const ex = isExcluded(it);
    setAttr(row.exclude, 'aria-pressed', String(ex));
    setAttr(row.exclude, 'aria-label', `${ex ? 'Include' : 'Exclude'} ${where}`);
    setAttr(row.exclude, 'title', ex ? 'Include this chunk again' : 'Exclude this chunk');
    setAttr(row.excludeFile, 'aria-pressed', String(fileExcluded));
    setAttr(row.excludeFile, 'aria-label', `${fileExcluded ? 'Include file' : 'Exclude file'} ${it.path}`);
    setAttr(row.excludeFile, 'title', fileExcluded ? `Include ${it.path} again` : `Exclude the whole file ${it.path}`);
    return row.li;
  }

  private createRow(it: ReportItem): ChunkRow {
    const id = it.id;
    const loc = h('button', { type: 'button', class: 'chunk-loc' });
    const kind = h('span', { class: 'chunk-kind' });
    const tokens = h('span', { class: 'chunk-tokens num' });
    const score = h('span', { class: 'chunk-score num' });
    const chips = h('span', { class: 'chips' });
    const reason = h('span', { class: 'chunk-reason' });
    const pin = h('button', { type: 'button', class: 'icon-btn pin-btn' }, [icon('pin')]);
    const exclude = h('button', { type: 'button', class: 'icon-btn exclude-btn' }, [icon('exclude')]);
    const excludeFile = h('button', { type: 'button', class: 'icon-btn exclude-file-btn' }, [icon('file-exclude')]);
    const li = h('li', { class: 'chunk', 'data-id': id }, [
      loc,
      kind,
      tokens,
      score,
      h('span', { class: 'chunk-actions' }, [pin, exclude, excludeFile]),
      h('span', { class: 'chunk-meta' }, [chips, reason]),
    ]);
    const row: ChunkRow = { li, sig: '', loc, kind, tokens, score, chips, reason, pin, exclude, excludeFile, item: it };
    loc.addEventListener('click', () => this.hooks.post({ type: 'reveal', path: row.item.path, startLine: row.item.startLine, endLine: row.item.endLine }));
    // Optimistic: flip the button now; the host's next state confirms (or reverts) it.
    const optimistic = (b: HTMLButtonElement) => {
      setAttr(b, 'aria-pressed', String(b.getAttribute('aria-pressed') !== 'true'));
      toggleClass(li, 'is-pending', true);
      row.sig = '';
    };
    pin.addEventListener('click', () => {
      optimistic(pin);
      this.hooks.post({ type: 'togglePin', id });
    });
    exclude.addEventListener('click', () => {
      optimistic(exclude);
      this.hooks.post({ type: 'toggleExclude', id });
    });
    excludeFile.addEventListener('click', () => {
      optimistic(excludeFile);
      this.hooks.post({ type: 'toggleExcludeFile', path: row.item.path });
    });
    return row;
  }

  private renderFooter(state: PanelState): void {
    const dev = state.ranker.device;
    setText(this.el.ranker, `Ranker: ${dev}${state.ranker.note ? ` — ${state.ranker.note}` : ''}`);
    toggleClass(this.el.ranker, 'is-degraded', !!state.ranker.note);
    const ix = state.index;
    if (ix) {
      const skipped = Object.entries(ix.skipped)
        .filter(([, n]) => (n ?? 0) > 0)
        .map(([why, n]) => `${formatInt(n)} ${why}`);
      setText(this.el.indexStats, `Index: ${formatInt(ix.files)} files · ${formatInt(ix.chunks)} chunks · ${formatTokens(ix.tokens)} tokens${ix.encoding ? ` (${ix.encoding})` : ''}${skipped.length ? ` · skipped ${skipped.join(', ')}` : ''}`);
    } else setText(this.el.indexStats, '');
    const t = state.report?.timings;
    setText(this.el.timings, t ? `rank ${formatMs(t.rankMs)} · pack ${formatMs(t.packMs)} · total ${formatMs(t.totalMs)}` : '');
  }
}

const LEGEND_LABELS: Record<SegmentKey, string> = {
  overhead: 'Headers & fences',
  cursor: 'Cursor',
  pinned: 'Pinned',
  retrieved: 'Retrieved',
  free: 'Free',
  reserve: 'Reserve',
};

const LEVEL_LABEL = { info: 'Info', warning: 'Warning', error: 'Error' } as const;

/** `dir/` (elided first when narrow) + `file.ts:12–40` (kept whole). */
function setLocation(button: HTMLElement, path: string, startLine: number, endLine: number): void {
  let dir = button.querySelector<HTMLElement>('.loc-dir');
  let base = button.querySelector<HTMLElement>('.loc-base');
  if (!dir || !base) {
    dir = h('span', { class: 'loc-dir' });
    base = h('span', { class: 'loc-base' });
    button.replaceChildren(dir, base);
  }
  const [d, b] = splitPath(path);
  setText(dir, d);
  setText(base, formatLocation(b, startLine, endLine));
}

function formatMs(ms: number): string {
  return formatSeconds(ms / 1000);
}

function section(id: string, title: string, children: Node[]): HTMLElement {
  return sectionWithTitle(id, [document.createTextNode(title)], children);
}

function sectionWithTitle(id: string, title: Node[], children: Node[]): HTMLElement {
  const hid = `${id}-title`;
  return h('section', { class: `card-section section-${id}`, 'aria-labelledby': hid }, [h('h2', { id: hid }, title), ...children]);
}

