// Hands the packed context to chat: the `@budget` participant (`/context`
// attaches the packed chunks as references and posts the prompt, `/explain`
// says what was kept and dropped and why) and the `contextBudget_packContext`
// language model tool agents call. Both take the context from one function, the
// controller's `computeActive`, so chat gets exactly what the panel shows.
//
// The VS Code API is a parameter (the structural types below), so the handlers
// run in plain Node against a fake in the adapter tests; `registerChat` checks
// that the chat and tool APIs exist and says what is missing where they do not.
import type { ComputedSummary } from './engineSession';
import { reasonLabel, type ReportItem } from '../core/report';

/** What chat reads of a computed context (the controller's ComputedSummary, or a core ComputedContext). */
export type PackedContext = Pick<ComputedSummary, 'report' | 'prompt'>;

export const PARTICIPANT_ID = 'contextBudget.budget';
export const TOOL_NAME = 'contextBudget_packContext';
/** Dropped chunks `/explain` lists before it says "and N more". */
const EXPLAIN_DROPPED = 25;

export type ChatFormat = 'markdown' | 'xml';
export interface ComputeOptions {
  budget?: number;
  format?: ChatFormat;
}

export interface Disposable {
  dispose(): unknown;
}

/** The parts of `vscode.ChatResponseStream` used here. */
export interface ResponseStream {
  markdown(value: string): void;
  progress(value: string): void;
  reference(value: unknown): void;
}

export interface ChatRequestLike {
  readonly prompt: string;
  readonly command: string | undefined;
}

export interface CancellationLike {
  readonly isCancellationRequested: boolean;
}

export interface ChatResultLike {
  metadata?: { command: string; tokens?: number; kept?: number; empty?: boolean };
  errorDetails?: { message: string };
}

export type RequestHandler = (request: ChatRequestLike, context: unknown, stream: ResponseStream, token: CancellationLike) => Promise<ChatResultLike>;

export interface ToolInput {
  budget?: number;
  format?: ChatFormat;
}

/** The parts of the `vscode` module this file uses. */
export interface ChatVscode {
  chat?: { createChatParticipant?: (id: string, handler: RequestHandler) => Disposable };
  lm?: { registerTool?: (name: string, tool: PackTool) => Disposable };
  Location: new (uri: never, range: never) => unknown;
  Range: new (startLine: number, startCharacter: number, endLine: number, endCharacter: number) => unknown;
  LanguageModelTextPart: new (value: string) => unknown;
  LanguageModelToolResult: new (content: never[]) => unknown;
}

export interface ChatDeps {
  /** The controller's computeActive: the same packed context the panel shows. */
  compute(opts: ComputeOptions): Promise<PackedContext | undefined>;
  /** A file of the report (root + path as in report items) as a `vscode.Uri`. */
  fileUri(root: string, path: string): unknown;
  /** The active editor's document (the cursor window's file), when there is one. */
  cursorUri(): unknown;
  log: { info(msg: string): void; warn(msg: string): void };
}

export interface PackTool {
  invoke(options: { input: unknown; tokenizationOptions?: { tokenBudget: number } }, token: CancellationLike): Promise<unknown>;
  prepareInvocation(options: { input: unknown }): { invocationMessage: string };
}

const NO_EDITOR = 'Open a file and place the cursor first: Context Budget packs the context around the cursor.';

/** Kept chunks in the order the prompt sends them (sendOrder, then position). */
export function keptInSendOrder(items: readonly ReportItem[]): ReportItem[] {
  return items
    .filter((i) => i.selected)
    .sort((a, b) => (a.sendOrder ?? Infinity) - (b.sendOrder ?? Infinity) || (a.path < b.path ? -1 : a.path > b.path ? 1 : a.startLine - b.startLine));
}

/** A budget in the user's words after `/context`: "4000", "4k", "16K tokens". */
export function parseBudget(prompt: string): number | undefined {
  const m = /(?:^|\s)(\d+(?:\.\d+)?)\s*(k)?\b/i.exec(prompt);
  if (!m) return undefined;
  const n = Math.round(Number(m[1]) * (m[2] ? 1024 : 1));
  return Number.isFinite(n) && n >= 1 && n <= 100_000_000 ? n : undefined;
}

/** Validates the tool's input (it comes from a model): wrong fields are an error the model can read. */
export function parseToolInput(raw: unknown): ToolInput {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('input must be an object {budget?: number, format?: "markdown" | "xml"}');
  const r = raw as Record<string, unknown>;
  const out: ToolInput = {};
  for (const key of Object.keys(r)) if (key !== 'budget' && key !== 'format') throw new Error(`unknown input field '${key.slice(0, 40)}' (expected budget, format)`);
  if (r.budget !== undefined) {
    if (typeof r.budget !== 'number' || !Number.isFinite(r.budget) || r.budget < 1 || r.budget > 100_000_000) throw new Error('budget must be a positive number of tokens (1 to 100,000,000)');
    out.budget = Math.floor(r.budget);
  }
  if (r.format !== undefined) {
    if (r.format !== 'markdown' && r.format !== 'xml') throw new Error('format must be "markdown" or "xml"');
    out.format = r.format;
  }
  return out;
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

function int(n: number): string {
  return n.toLocaleString('en-US');
}

function usd(n: number | null): string {
  if (n === null) return 'no list price';
  return n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`;
}

function loc(i: { path: string; startLine: number; endLine: number }): string {
  return code(`${i.path}:${i.startLine}-${i.endLine}`);
}

/** One paragraph: what was packed, for which cursor and model. */
export function contextSummary(c: PackedContext): string {
  const r = c.report;
  const kept = keptInSendOrder(r.items);
  const files = new Set(kept.map((i) => i.path)).size;
  const dropped = r.items.length - kept.length;
  return (
    `**Packed context** for ${code(`${r.file}:${r.line}`)}: ${int(r.totals.promptTokens)} of ${int(r.budget)} tokens (${r.encoding}) for ${r.modelName} — ` +
    `${kept.length} chunk${kept.length === 1 ? '' : 's'} from ${files} file${files === 1 ? '' : 's'} kept, ${dropped} dropped, ` +
    `cursor window lines ${r.cursor.startLine}–${r.cursor.endLine}. Price ${usd(r.cost.priceUsd)}. ` +
    `This is what the Context Budget panel shows; \`/explain\` says why each chunk was kept or dropped.\n\n`
  );
}

/** `/explain`: kept chunks in send order and dropped ones with their reasons. */
export function explainMarkdown(c: PackedContext, maxDropped = EXPLAIN_DROPPED): string {
  const r = c.report;
  const s = r.budgetSplit;
  const lines: string[] = [];
  lines.push(`**Context for ${code(`${r.file}:${r.line}`)}** — ${int(r.totals.promptTokens)} of ${int(r.budget)} tokens for ${r.modelName} (${r.encoding}).`);
  lines.push('');
  lines.push(
    `Budget: ${int(r.budget)} tokens = cursor window ${int(s.cursor)} + pinned ${int(s.pinned)} + retrieved ${int(s.retrieved)} + headers and free space; ` +
      `the model's limit is ${int(s.contextLimit)} with ${int(s.reserve)} kept for the answer.`,
  );
  const kept = keptInSendOrder(r.items);
  lines.push('', `### Kept (${kept.length}, in the order they are sent; the cursor window comes last)`);
  if (kept.length === 0) lines.push('', 'Nothing besides the cursor window fits or scores above the threshold.');
  kept.forEach((i, k) => lines.push(`${k + 1}. ${loc(i)} — ${int(i.tokens)} tokens, score ${i.score}, ${i.pinned ? 'pinned' : reasonLabel(i.reason)}${why(i)}`));
  const dropped = r.items.filter((i) => !i.selected);
  lines.push('', `### Dropped (${dropped.length}, best ranked first)`);
  if (dropped.length === 0) lines.push('', 'Nothing: every candidate fits.');
  for (const i of dropped.slice(0, maxDropped)) lines.push(`- ${loc(i)} — ${int(i.tokens)} tokens, score ${i.score}: **${i.reason}**${why(i)}`);
  if (dropped.length > maxDropped) lines.push(`- … and ${dropped.length - maxDropped} more (the panel lists them all).`);
  lines.push('');
  return lines.join('\n');
}

function why(i: ReportItem): string {
  const parts: string[] = [];
  if (i.sources.length) parts.push(`via ${i.sources.join(', ')}`);
  if (i.evidence?.length) parts.push(`matches ${i.evidence.slice(0, 5).map(code).join(', ')}`);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/** The `@budget` participant's request handler. */
export function participantHandler(api: Pick<ChatVscode, 'Location' | 'Range'>, deps: ChatDeps): RequestHandler {
  const Location = api.Location as unknown as new (uri: unknown, range: unknown) => unknown;
  const location = (uri: unknown, start: number, end: number) => new Location(uri, new api.Range(Math.max(0, start - 1), 0, Math.max(0, end), 0));
  return async (request, _context, stream, token) => {
    const command = request.command ?? '';
    if (command !== 'context' && command !== 'explain') {
      stream.markdown(
        '`@budget` hands you what Context Budget packed for the cursor:\n\n' +
          '- `/context [budget]` — attach the packed chunks as references and post the packed prompt (e.g. `/context 4k`).\n' +
          '- `/explain` — what was kept and dropped, and why.\n\n' +
          `Agents can call the \`${TOOL_NAME}\` tool for the same text.`,
      );
      return { metadata: { command: 'help' } };
    }
    stream.progress('Packing the context for the cursor…');
    let computed: PackedContext | undefined;
    try {
      computed = await deps.compute({ budget: command === 'context' ? parseBudget(request.prompt) : undefined, format: 'markdown' });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      deps.log.warn(`@budget /${command}: ${message}`);
      return { errorDetails: { message: `Context Budget could not pack the context: ${message}` }, metadata: { command } };
    }
    if (token.isCancellationRequested) return { metadata: { command } };
    if (!computed) {
      stream.markdown(NO_EDITOR);
      return { metadata: { command, empty: true } };
    }
    const r = computed.report;
    if (command === 'explain') {
      stream.markdown(explainMarkdown(computed));
      return { metadata: { command, tokens: r.totals.promptTokens, kept: keptInSendOrder(r.items).length } };
    }
    const kept = keptInSendOrder(r.items);
    for (const i of kept) stream.reference(location(deps.fileUri(r.root, i.path), i.startLine, i.endLine));
    stream.reference(location(deps.cursorUri() ?? deps.fileUri(r.root, r.file), r.cursor.startLine, r.cursor.endLine));
    stream.markdown(contextSummary(computed));
    stream.markdown(computed.prompt.text);
    return { metadata: { command, tokens: r.totals.promptTokens, kept: kept.length } };
  };
}

/** The `contextBudget_packContext` language model tool. */
export function packTool(api: Pick<ChatVscode, 'LanguageModelTextPart' | 'LanguageModelToolResult'>, deps: ChatDeps): PackTool {
  const Result = api.LanguageModelToolResult as unknown as new (content: unknown[]) => unknown;
  const text = (s: string) => new Result([new api.LanguageModelTextPart(s)]);
  return {
    async invoke(options, token) {
      const input = parseToolInput(options.input);
      let computed = await deps.compute(input);
      if (!computed) return text(NO_EDITOR);
      // The caller's own token budget caps ours when it is smaller (and no budget was asked for).
      const cap = options.tokenizationOptions?.tokenBudget;
      if (input.budget === undefined && cap !== undefined && cap > 0 && computed.prompt.tokens > cap && !token.isCancellationRequested) {
        computed = (await deps.compute({ ...input, budget: Math.floor(cap) })) ?? computed;
      }
      return text(computed.prompt.text);
    },
    prepareInvocation(options) {
      let budget: number | undefined;
      try {
        budget = parseToolInput(options.input).budget;
      } catch {
        budget = undefined;
      }
      return { invocationMessage: `Packing the workspace context for the cursor${budget ? ` into ${int(budget)} tokens` : ''}` };
    },
  };
}

/**
 * Registers the participant and the tool where the API exists. Returns what was
 * registered and, in words, what is missing (nothing throws on older hosts).
 */
export function registerChat(api: ChatVscode, deps: ChatDeps): { disposables: Disposable[]; missing: string[] } {
  const disposables: Disposable[] = [];
  const missing: string[] = [];
  const create = api.chat?.createChatParticipant;
  if (typeof create === 'function') {
    try {
      disposables.push(create.call(api.chat, PARTICIPANT_ID, participantHandler(api, deps)));
    } catch (err) {
      missing.push(`the @budget chat participant could not be registered: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    missing.push('the @budget chat participant needs vscode.chat.createChatParticipant (VS Code 1.90+ with a chat extension; absent in this host)');
  }
  const register = api.lm?.registerTool;
  if (typeof register === 'function') {
    try {
      disposables.push(register.call(api.lm, TOOL_NAME, packTool(api, deps)));
    } catch (err) {
      missing.push(`the ${TOOL_NAME} tool could not be registered: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    missing.push(`the ${TOOL_NAME} tool needs vscode.lm.registerTool (VS Code 1.95+; absent in this host)`);
  }
  for (const m of missing) deps.log.info(`chat: ${m}`);
  if (disposables.length) deps.log.info(`chat: registered ${disposables.length === 2 ? `the @budget participant and the ${TOOL_NAME} tool` : missing.length ? 'what this host supports' : 'all'}`);
  return { disposables, missing };
}
