/**
 * The durable events of one turn (OpenCode's `session.next.*`), made from the turn's messages as they
 * are saved: the prompt (`prompt.admitted`, `prompted`), then per model step `step.started`, its text,
 * reasoning and tool calls in order (`text.started`/`text.ended`, `reasoning.…`, `tool.input.started`,
 * `tool.input.ended`, `tool.called`), the calls' results (`tool.success`/`tool.failed`) and
 * `step.ended` (or `step.failed` for the step a failed or interrupted turn ended in). A shell turn is
 * `shell.started`/`shell.ended`; a compaction `compaction.started`/`compaction.ended`. Times: the
 * turn's start for what opened it, its end for the rest (Pantheon keeps no time per part).
 */
import { toolText, type EventDraft } from './durable-events.ts';
import type { SessionMessage, StepInfo, TurnInfo } from './store.ts';

type Item = { type?: string; text?: string; toolCallId?: string; toolName?: string; input?: unknown; output?: unknown };

function items(content: unknown): Item[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return Array.isArray(content) ? (content as Item[]).filter((i) => typeof i === 'object' && i !== null) : [];
}

/** `provider/model[:variant]` of a step as OpenCode's ModelRef. */
export function modelRef(provider: string, model: string): { id: string; providerID: string; variant?: string } {
  const rest = provider && model.startsWith(`${provider}/`) ? model.slice(provider.length + 1) : model;
  const colon = rest.lastIndexOf(':');
  return colon > 0 ? { id: rest.slice(0, colon), providerID: provider, variant: rest.slice(colon + 1) } : { id: rest, providerID: provider };
}

function resultText(output: unknown): { text: string; error: boolean } {
  const o = (output ?? {}) as { type?: string; value?: unknown };
  const text = typeof o.value === 'string' ? o.value : (JSON.stringify(o.value ?? output) ?? '');
  return { text, error: o.type === 'error-text' || o.type === 'error-json' };
}

function inputText(input: unknown): string {
  return toolText(typeof input === 'string' ? input : (JSON.stringify(input ?? {}) ?? '{}'));
}

/** A tool input with its long strings cut (as its event keeps it). */
function keptInput(input: unknown): unknown {
  if (typeof input === 'string') return toolText(input);
  if (typeof input !== 'object' || input === null) return input ?? {};
  return JSON.stringify(input).length <= 4000 ? input : Object.fromEntries(Object.entries(input as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? toolText(v) : v]));
}

/** The turn's events; `turn` is its messages as saved (its user message first, carrying `info`). */
export function turnEvents(sessionID: string, turn: readonly SessionMessage[]): EventDraft[] {
  const info = turn[0]?.info;
  if (!info) return [];
  const out: EventDraft[] = [];
  const start = info.time;
  const end = info.reply.completed ?? start;
  const event = (type: string, timestamp: number, data: Record<string, unknown>): void => {
    out.push({ type: `session.next.${type}`, data: { timestamp, sessionID, ...data } });
  };
  const userText = items(turn[0]?.content).filter((i) => i.type === 'text').map((i) => i.text ?? '').join('\n');
  const rest = turn.slice(1);
  if (info.shell) {
    shellEvents(event, info, rest, start, end);
    return out;
  }
  if (info.compaction) {
    event('compaction.started', start, { messageID: info.id, reason: 'manual' });
  } else {
    const prompt = { messageID: info.id, prompt: { text: info.subtask ? info.subtask.prompt : userText }, delivery: 'steer' };
    event('prompt.admitted', start, prompt);
    event('prompted', start, prompt);
  }
  const assistant = info.reply.id;
  const steps: readonly StepInfo[] = info.reply.steps;
  let step = 0;
  let summary = '';
  const openCalls = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const message = rest[i] as SessionMessage;
    if (message.role !== 'assistant') continue;
    const stepInfo = steps[step];
    const model = stepInfo ? modelRef(stepInfo.provider, stepInfo.model) : modelRef(info.reply.provider ?? '', info.reply.model ?? '');
    event('step.started', start, { assistantMessageID: assistant, agent: info.agent, model });
    let texts = 0;
    let calls = 0;
    for (const item of items(message.content)) {
      if (item.type === 'text' && item.text) {
        const textID = `text-${texts++}`;
        event('text.started', end, { assistantMessageID: assistant, textID });
        event('text.ended', end, { assistantMessageID: assistant, textID, text: item.text });
        summary += item.text;
      } else if (item.type === 'reasoning' && item.text) {
        const reasoningID = `reasoning-${texts++}`;
        event('reasoning.started', end, { assistantMessageID: assistant, reasoningID });
        event('reasoning.ended', end, { assistantMessageID: assistant, reasoningID, text: item.text });
      } else if (item.type === 'tool-call') {
        calls += 1;
        const callID = item.toolCallId ?? '';
        openCalls.add(callID);
        event('tool.input.started', end, { assistantMessageID: assistant, callID, name: item.toolName ?? '' });
        event('tool.input.ended', end, { assistantMessageID: assistant, callID, text: inputText(item.input) });
        event('tool.called', end, { assistantMessageID: assistant, callID, tool: item.toolName ?? '', input: keptInput(item.input), provider: { executed: false } });
      }
    }
    const results = rest[i + 1]?.role === 'tool' ? items((rest[i + 1] as SessionMessage).content) : [];
    for (const result of results) {
      if (result.type !== 'tool-result' || !openCalls.delete(result.toolCallId ?? '')) continue;
      const { text, error } = resultText(result.output);
      if (error) event('tool.failed', end, { assistantMessageID: assistant, callID: result.toolCallId, error: { type: 'unknown', message: toolText(text) }, provider: { executed: false } });
      else event('tool.success', end, { assistantMessageID: assistant, callID: result.toolCallId, structured: {}, content: [{ type: 'text', text: toolText(text) }], provider: { executed: false } });
    }
    step += 1;
    const lastStep = !rest.slice(i + 1).some((m) => m.role === 'assistant');
    if (lastStep && info.reply.error) {
      event('step.failed', end, { assistantMessageID: assistant, error: { type: 'unknown', message: info.reply.error.message } });
    } else {
      const usage = stepInfo?.usage ?? { inputTokens: 0, outputTokens: 0 };
      event('step.ended', end, { assistantMessageID: assistant, finish: calls ? 'tool-calls' : 'stop', cost: stepInfo?.costUSD ?? 0, tokens: { input: usage.inputTokens, output: usage.outputTokens, reasoning: 0, cache: { read: 0, write: 0 } } });
    }
  }
  if (step === 0 && info.reply.error) {
    // The turn failed before the model answered: one step that failed.
    event('step.started', start, { assistantMessageID: assistant, agent: info.agent, model: modelRef(info.reply.provider ?? '', info.reply.model ?? '') });
    event('step.failed', end, { assistantMessageID: assistant, error: { type: 'unknown', message: info.reply.error.message } });
  }
  if (info.compaction && !info.reply.error) event('compaction.ended', end, { messageID: info.id, reason: 'manual', text: summary, recent: '' });
  return out;
}

function shellEvents(event: (type: string, timestamp: number, data: Record<string, unknown>) => void, info: TurnInfo, rest: readonly SessionMessage[], start: number, end: number): void {
  const call = rest.flatMap((m) => (m.role === 'assistant' ? items(m.content) : [])).find((i) => i.type === 'tool-call');
  if (!call) return;
  const result = rest.flatMap((m) => (m.role === 'tool' ? items(m.content) : [])).find((i) => i.type === 'tool-result' && i.toolCallId === call.toolCallId);
  const command = String((call.input as { command?: unknown } | undefined)?.command ?? '');
  event('shell.started', start, { messageID: info.id, callID: call.toolCallId ?? '', command });
  event('shell.ended', end, { callID: call.toolCallId ?? '', output: toolText(result ? resultText(result.output).text : '') });
}
