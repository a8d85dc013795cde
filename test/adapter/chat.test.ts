// The @budget participant and the contextBudget_packContext tool against a small,
// honest fake of the chat parts of `vscode` (Location, Range, the response
// stream, LanguageModelTextPart/ToolResult, createChatParticipant/registerTool),
// with the context computed by a real engine on a sample workspace — the same
// call the controller's computeActive makes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContextEngine, type ComputedContext } from '../../src/core/engine';
import { emptySignals, type EditorSignals } from '../../src/core/types';
import {
  explainMarkdown,
  keptInSendOrder,
  PARTICIPANT_ID,
  parseBudget,
  parseToolInput,
  registerChat,
  TOOL_NAME,
  type ChatDeps,
  type ChatVscode,
  type ComputeOptions,
  type PackTool,
  type RequestHandler,
} from '../../src/extension/chat';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

class FakeUri {
  constructor(readonly fsPath: string) {}
}
class FakeRange {
  constructor(
    readonly startLine: number,
    readonly startCharacter: number,
    readonly endLine: number,
    readonly endCharacter: number,
  ) {}
}
class FakeLocation {
  constructor(
    readonly uri: FakeUri,
    readonly range: FakeRange,
  ) {}
}
class FakeTextPart {
  constructor(readonly value: string) {}
}
class FakeToolResult {
  constructor(readonly content: unknown[]) {}
}

class FakeStream {
  readonly parts: Array<{ kind: 'markdown' | 'progress' | 'reference'; value: unknown }> = [];
  markdown(value: string) {
    this.parts.push({ kind: 'markdown', value });
  }
  progress(value: string) {
    this.parts.push({ kind: 'progress', value });
  }
  reference(value: unknown) {
    this.parts.push({ kind: 'reference', value });
  }
  get references(): FakeLocation[] {
    return this.parts.filter((p) => p.kind === 'reference').map((p) => p.value as FakeLocation);
  }
  get text(): string {
    return this.parts.filter((p) => p.kind === 'markdown').map((p) => p.value as string).join('');
  }
}

const participants = new Map<string, RequestHandler>();
const tools = new Map<string, PackTool>();
const fakeVscode = {
  Location: FakeLocation,
  Range: FakeRange,
  LanguageModelTextPart: FakeTextPart,
  LanguageModelToolResult: FakeToolResult,
  chat: {
    createChatParticipant(id: string, handler: RequestHandler) {
      participants.set(id, handler);
      return { dispose: () => participants.delete(id) };
    },
  },
  lm: {
    registerTool(name: string, tool: PackTool) {
      tools.set(name, tool);
      return { dispose: () => tools.delete(name) };
    },
  },
} as unknown as ChatVscode;

const notCancelled = { isCancellationRequested: false };
const logged: string[] = [];
const log = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };

let w: ReturnType<typeof makeWorkspace>;
let engine: ContextEngine;
let signals: EditorSignals;
let editorOpen = true;
const computeCalls: ComputeOptions[] = [];
const cursor = { path: 'src/main.ts', line: 4, column: 2 };
/** What the controller's computeActive does: the active cursor, the current signals, the caller's budget/format. */
const compute = async (opts: ComputeOptions): Promise<ComputedContext | undefined> => {
  computeCalls.push(opts);
  if (!editorOpen) return undefined;
  return engine.compute(cursor, signals, { budget: opts.budget, format: opts.format });
};
const deps: ChatDeps = {
  compute,
  fileUri: (root, path) => new FakeUri(join(root, path)),
  cursorUri: () => (editorOpen ? new FakeUri(join(w.root, cursor.path)) : undefined),
  log,
};

/** More files that use the vector helpers than fit in 4,096 tokens, so some candidates are dropped over budget. */
function biggerProject(): Record<string, string> {
  const files: Record<string, string> = { ...SAMPLE_PROJECT };
  for (let f = 0; f < 6; f++) {
    const lines = ["import { addVectors, scaleVector } from '../math';", ''];
    for (let k = 0; k < 40; k++) lines.push(`export function move${f}_${k}(p: { x: number; y: number }) {`, `  return addVectors(p, scaleVector(p, ${k}));`, '}', '');
    files[`src/physics/body${f}.ts`] = lines.join('\n');
  }
  return files;
}

before(async () => {
  w = makeWorkspace(biggerProject());
  engine = await ContextEngine.open({ root: w.root, settings: { model: 'gpt-4o', hardware: 'h100-sxm', budget: 4096 }, index: { syntax: null }, ranker: { device: 'cpu' } });
  await engine.refresh();
  signals = emptySignals();
});
after(async () => {
  await engine.dispose();
  w.cleanup();
});

describe('registerChat', () => {
  it('registers the participant and the tool where the API exists', () => {
    const r = registerChat(fakeVscode, deps);
    assert.deepEqual(r.missing, []);
    assert.equal(r.disposables.length, 2);
    assert.ok(participants.has(PARTICIPANT_ID));
    assert.ok(tools.has(TOOL_NAME));
  });

  it('registers nothing and says what is missing on hosts without chat (no throw)', () => {
    logged.length = 0;
    const bare = { Location: FakeLocation, Range: FakeRange, LanguageModelTextPart: FakeTextPart, LanguageModelToolResult: FakeToolResult } as unknown as ChatVscode;
    const r = registerChat(bare, deps);
    assert.equal(r.disposables.length, 0);
    assert.equal(r.missing.length, 2);
    assert.match(r.missing[0], /createChatParticipant/);
    assert.match(r.missing[1], /registerTool/);
    assert.equal(logged.length, 2);
    const half = registerChat({ ...bare, chat: {}, lm: { registerTool: () => { throw new Error('tool name taken'); } } } as unknown as ChatVscode, deps);
    assert.equal(half.disposables.length, 0);
    assert.match(half.missing[1], /tool name taken/);
  });
});

describe('@budget /context', () => {
  it('streams a reference per kept chunk in send order, the cursor window, a summary and the packed prompt', async () => {
    registerChat(fakeVscode, deps);
    const handler = participants.get(PARTICIPANT_ID)!;
    const stream = new FakeStream();
    computeCalls.length = 0;
    const result = await handler({ prompt: '', command: 'context' }, {}, stream, notCancelled);
    const expected = (await compute({ format: 'markdown' }))!;
    const kept = keptInSendOrder(expected.report.items);
    assert.ok(kept.length >= 1);
    const refs = stream.references;
    assert.equal(refs.length, kept.length + 1);
    kept.forEach((item, k) => {
      assert.equal(refs[k].uri.fsPath, join(w.root, item.path));
      assert.deepEqual(refs[k].range, new FakeRange(item.startLine - 1, 0, item.endLine, 0));
    });
    const last = refs[refs.length - 1];
    assert.equal(last.uri.fsPath, join(w.root, 'src/main.ts'));
    assert.equal(last.range.startLine, expected.report.cursor.startLine - 1);
    assert.ok(stream.text.includes(expected.prompt.text), 'the packed prompt, byte for byte');
    assert.match(stream.text, new RegExp(`${expected.report.totals.promptTokens.toLocaleString('en-US')} of 4,096 tokens`));
    assert.deepEqual(computeCalls[0], { budget: undefined, format: 'markdown' });
    assert.deepEqual(result.metadata, { command: 'context', tokens: expected.report.totals.promptTokens, kept: kept.length });
    // Dropped chunks are never referenced.
    const dropped = expected.report.items.filter((i) => !i.selected);
    assert.ok(dropped.length >= 1);
    for (const d of dropped) assert.ok(!refs.some((r) => r.uri.fsPath === join(w.root, d.path) && r.range.startLine === d.startLine - 1 && r.range.endLine === d.endLine), d.id);
  });

  it('takes a budget after the command', async () => {
    const handler = participants.get(PARTICIPANT_ID)!;
    computeCalls.length = 0;
    await handler({ prompt: '2k', command: 'context' }, {}, new FakeStream(), notCancelled);
    assert.equal(computeCalls[0].budget, 2048);
    assert.equal(parseBudget('use 3000 tokens'), 3000);
    assert.equal(parseBudget('16K'), 16384);
    assert.equal(parseBudget('please'), undefined);
    assert.equal(parseBudget('0'), undefined);
  });

  it('says what to do when no editor is active, and reports compute errors', async () => {
    const handler = participants.get(PARTICIPANT_ID)!;
    editorOpen = false;
    try {
      const stream = new FakeStream();
      const r = await handler({ prompt: '', command: 'context' }, {}, stream, notCancelled);
      assert.equal(stream.references.length, 0);
      assert.match(stream.text, /Open a file/);
      assert.equal(r.metadata?.empty, true);
    } finally {
      editorOpen = true;
    }
    const failing = registerChat({ ...fakeVscode, lm: undefined } as unknown as ChatVscode, { ...deps, compute: () => Promise.reject(new Error('cannot read src/main.ts')) });
    assert.equal(failing.missing.length, 1);
    const r = await participants.get(PARTICIPANT_ID)!({ prompt: '', command: 'explain' }, {}, new FakeStream(), notCancelled);
    assert.match(r.errorDetails!.message, /cannot read src\/main\.ts/);
    registerChat(fakeVscode, deps);
  });

  it('answers without a command with help', async () => {
    const stream = new FakeStream();
    const r = await participants.get(PARTICIPANT_ID)!({ prompt: 'hi', command: undefined }, {}, stream, notCancelled);
    assert.match(stream.text, /\/context/);
    assert.match(stream.text, /\/explain/);
    assert.equal(r.metadata?.command, 'help');
  });
});

describe('@budget /explain', () => {
  it('lists the kept chunks in send order and the dropped ones with their reasons', async () => {
    const stream = new FakeStream();
    await participants.get(PARTICIPANT_ID)!({ prompt: '', command: 'explain' }, {}, stream, notCancelled);
    const expected = (await compute({}))!;
    assert.equal(stream.text, explainMarkdown(expected));
    const kept = keptInSendOrder(expected.report.items);
    let at = 0;
    for (const i of kept) {
      const pos = stream.text.indexOf(`\`${i.path}:${i.startLine}-${i.endLine}\``, at);
      assert.ok(pos >= at, `kept ${i.id} in send order`);
      at = pos;
    }
    const dropped = expected.report.items.filter((i) => !i.selected);
    assert.ok(dropped.length >= 1);
    for (const i of dropped.slice(0, 25)) assert.ok(stream.text.includes(`\`${i.path}:${i.startLine}-${i.endLine}\``) && stream.text.includes(`**${i.reason}**`), i.id);
    assert.match(stream.text, /\*\*over budget\*\*/);
  });

  it('caps the dropped list and says how many more', () => {
    const fake = { report: { file: 'a.ts', line: 1, totals: { promptTokens: 1 }, budget: 2, modelName: 'm', encoding: 'e', budgetSplit: { cursor: 0, pinned: 0, retrieved: 0, contextLimit: 9, reserve: 1 }, items: Array.from({ length: 30 }, (_, k) => ({ id: `a.ts#${k + 1}-${k + 1}`, path: 'a.ts', startLine: k + 1, endLine: k + 1, tokens: 5, score: 0.1, selected: false, reason: 'over budget', sources: [], pinned: false })) } } as unknown as ComputedContext;
    const text = explainMarkdown(fake, 25);
    assert.match(text, /and 5 more/);
    assert.match(text, /Nothing besides the cursor window/);
  });
});

describe('contextBudget_packContext tool', () => {
  it('returns the packed prompt text for the requested budget and format', async () => {
    const tool = tools.get(TOOL_NAME)!;
    computeCalls.length = 0;
    const result = (await tool.invoke({ input: { budget: 1024, format: 'xml' } }, notCancelled)) as FakeToolResult;
    const expected = (await compute({ budget: 1024, format: 'xml' }))!;
    assert.equal(result.content.length, 1);
    assert.ok(result.content[0] instanceof FakeTextPart);
    assert.equal((result.content[0] as FakeTextPart).value, expected.prompt.text);
    assert.match(expected.prompt.text, /^<(document|cursor) /);
    assert.deepEqual(computeCalls[0], { budget: 1024, format: 'xml' });
    assert.ok(expected.prompt.tokens <= 1024);
    assert.match(tool.prepareInvocation({ input: { budget: 1024 } }).invocationMessage, /1,024 tokens/);
  });

  it('uses the panel\'s budget by default, capped by the caller\'s token budget', async () => {
    const tool = tools.get(TOOL_NAME)!;
    const plain = (await tool.invoke({ input: {} }, notCancelled)) as FakeToolResult;
    assert.equal((plain.content[0] as FakeTextPart).value, (await compute({}))!.prompt.text);
    computeCalls.length = 0;
    const capped = (await tool.invoke({ input: {}, tokenizationOptions: { tokenBudget: 200 } }, notCancelled)) as FakeToolResult;
    assert.equal((capped.content[0] as FakeTextPart).value, (await compute({ budget: 200 }))!.prompt.text);
    assert.deepEqual(computeCalls.slice(0, 2), [{}, { budget: 200 }]);
  });

  it('rejects bad input with a message a model can act on, and answers without an editor', async () => {
    const tool = tools.get(TOOL_NAME)!;
    await assert.rejects(tool.invoke({ input: { budget: -5 } }, notCancelled), /budget must be a positive number of tokens/);
    await assert.rejects(tool.invoke({ input: { format: 'json' } }, notCancelled), /format must be/);
    await assert.rejects(tool.invoke({ input: { tokens: 5 } }, notCancelled), /unknown input field 'tokens'/);
    assert.deepEqual(parseToolInput(undefined), {});
    assert.deepEqual(parseToolInput({ budget: 2048.7, format: 'markdown' }), { budget: 2048, format: 'markdown' });
    editorOpen = false;
    try {
      const r = (await tool.invoke({ input: {} }, notCancelled)) as FakeToolResult;
      assert.match((r.content[0] as FakeTextPart).value, /Open a file/);
    } finally {
      editorOpen = true;
    }
  });
});
