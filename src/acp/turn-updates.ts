/**
 * One turn's events as ACP session updates, in the order they happen: the answer streamed as
 * `agent_message_chunk`s, reasoning as `agent_thought_chunk`, each tool call as a `tool_call`
 * (pending while the model writes it) and `tool_call_update`s (in progress, then completed with its
 * output and an edit's diff, or failed with its error), `todowrite` lists as a `plan`. What the
 * scheduler does meanwhile — a rate-limit wait, a retry's backoff, a fallback to the next model — is
 * said to the person too: as a `notice` to an editor that shows them, else as a thought. Events of
 * sub-tasks (`task` calls) stay inside their call, as OpenCode's `acp` shows them.
 */
import type { SessionUpdate, ToolCallContent } from '@agentclientprotocol/sdk';
import type { PantheonEvent } from '../events.ts';
import { outputText, planEntries, toolCallTitle, toolDiff, toolKind, toolLocations } from './tool-calls.ts';

/** A wait shorter than this is not worth a line. */
const SAY_WAIT_MS = 1000;

function seconds(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.ceil(s / 60)} min`;
}

export class TurnUpdates {
  readonly #projectRoot: string;
  readonly #messageId: string;
  readonly #send: (update: SessionUpdate) => void;
  readonly #notices: boolean;
  /** Calls announced with `tool_call`. */
  readonly #announced = new Set<string>();
  #calls = 0;

  /** `notices`: the editor advertised `session.notices` (else scheduler news is a thought). */
  constructor(options: { projectRoot: string; messageId: string; notices: boolean; send: (update: SessionUpdate) => void }) {
    this.#projectRoot = options.projectRoot;
    this.#messageId = options.messageId;
    this.#notices = options.notices;
    this.#send = options.send;
  }

  #say(title: string, meta: Record<string, unknown>): void {
    if (this.#notices) this.#send({ sessionUpdate: 'notice', severity: 'info', title, _meta: { pantheon: meta } });
    else this.#send({ sessionUpdate: 'agent_thought_chunk', messageId: this.#messageId, content: { type: 'text', text: `${title}\n` }, _meta: { pantheon: meta } });
  }

  #announce(callID: string, tool: string, input: unknown): void {
    if (this.#announced.has(callID)) return;
    this.#announced.add(callID);
    this.#send({ sessionUpdate: 'tool_call', toolCallId: callID, title: toolCallTitle(tool, input, this.#projectRoot), kind: toolKind(tool), status: 'pending', locations: toolLocations(tool, input, this.#projectRoot), rawInput: input ?? {} });
  }

  handle(event: PantheonEvent): void {
    // A sub-task's own events: its `task` call stands for it.
    if (event.parentTaskID !== undefined) return;
    switch (event.type) {
      case 'text':
        if (event.text) this.#send({ sessionUpdate: 'agent_message_chunk', messageId: this.#messageId, content: { type: 'text', text: event.text } });
        return;
      case 'reasoning':
        if (event.text) this.#send({ sessionUpdate: 'agent_thought_chunk', messageId: this.#messageId, content: { type: 'text', text: event.text } });
        return;
      case 'tool_pending':
        this.#announce(event.callID, event.tool, {});
        return;
      case 'tool_start': {
        const id = event.callID ?? `call_${++this.#calls}`;
        this.#announce(id, event.tool, event.input);
        this.#send({ sessionUpdate: 'tool_call_update', toolCallId: id, status: 'in_progress', title: toolCallTitle(event.tool, event.input, this.#projectRoot), kind: toolKind(event.tool), locations: toolLocations(event.tool, event.input, this.#projectRoot), rawInput: event.input ?? {} });
        return;
      }
      case 'tool_use': {
        const id = event.callID ?? `call_${++this.#calls}`;
        this.#announce(id, event.tool, event.input);
        if (event.error !== undefined) {
          this.#send({ sessionUpdate: 'tool_call_update', toolCallId: id, status: 'failed', title: toolCallTitle(event.tool, event.input, this.#projectRoot), kind: toolKind(event.tool), rawInput: event.input ?? {}, content: [{ type: 'content', content: { type: 'text', text: event.error } }], rawOutput: { error: event.error } });
          return;
        }
        const text = outputText(event.output);
        const content: ToolCallContent[] = [{ type: 'content', content: { type: 'text', text } }, ...(toolKind(event.tool) === 'edit' ? toolDiff(event.tool, event.input, this.#projectRoot, event.diff?.patch) : [])];
        this.#send({ sessionUpdate: 'tool_call_update', toolCallId: id, status: 'completed', ...(event.title ? { title: event.title } : {}), content, rawOutput: { output: text, ...(event.diff ? { metadata: { diff: event.diff.patch, filediff: event.diff } } : {}) } });
        if (event.tool === 'todowrite') {
          const entries = planEntries(event.input);
          if (entries) this.#send({ sessionUpdate: 'plan', entries });
        }
        return;
      }
      case 'rate_limited':
        if (event.waitMs >= SAY_WAIT_MS) this.#say(`Waiting ${seconds(event.waitMs)} for ${event.limit ?? `${event.model ?? 'the model'}'s rate limit`}\u2026`, { type: 'rate_limited', waitMs: event.waitMs, ...(event.model ? { model: event.model } : {}) });
        return;
      case 'retry':
        this.#say(`${event.model ?? 'The model'} answered ${String(event.status)}${event.message ? ` (${event.message})` : ''}; trying again in ${seconds(event.delayMs)} (attempt ${event.attempt})\u2026`, { type: 'retry', attempt: event.attempt, delayMs: event.delayMs, status: event.status });
        return;
      case 'fallback':
        this.#say(`${event.from} failed (${event.reason}); ${event.to} answers instead.`, { type: 'fallback', from: event.from, to: event.to, reason: event.reason });
        return;
      default:
        return;
    }
  }
}
