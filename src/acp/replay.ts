/**
 * A saved session told again to an editor that loads it (`session/load`), as OpenCode's `acp` replays
 * one: each user message as `user_message_chunk`s, each reply's text and reasoning as agent chunks,
 * its tool calls as `tool_call` + `tool_call_update` (completed or failed, with output and diffs).
 * The messages are the session file's as OpenCode's API shows them (server/opencode/message-view.ts).
 */
import type { SessionUpdate, ToolCallContent } from '@agentclientprotocol/sdk';
import { openCodeMessages, type OcPart } from '../server/opencode/message-view.ts';
import type { SessionRecord } from '../session/store.ts';
import { outputText, planEntries, toolCallTitle, toolDiff, toolKind, toolLocations } from './tool-calls.ts';

function toolUpdates(part: OcPart, projectRoot: string): SessionUpdate[] {
  const tool = String(part.tool);
  const id = String(part.callID);
  const state = (part.state ?? {}) as { status?: string; input?: unknown; output?: unknown; error?: unknown; title?: string };
  const input = state.input ?? {};
  const start: SessionUpdate = { sessionUpdate: 'tool_call', toolCallId: id, title: state.title || toolCallTitle(tool, input, projectRoot), kind: toolKind(tool), status: 'pending', locations: toolLocations(tool, input, projectRoot), rawInput: input };
  if (state.status === 'error') {
    const error = outputText(state.error);
    return [start, { sessionUpdate: 'tool_call_update', toolCallId: id, status: 'failed', content: [{ type: 'content', content: { type: 'text', text: error } }], rawOutput: { error } }];
  }
  if (state.status !== 'completed') return [start];
  const text = outputText(state.output);
  const content: ToolCallContent[] = [{ type: 'content', content: { type: 'text', text } }, ...(toolKind(tool) === 'edit' ? toolDiff(tool, input, projectRoot) : [])];
  const plan = tool === 'todowrite' ? planEntries(input) : undefined;
  return [start, { sessionUpdate: 'tool_call_update', toolCallId: id, status: 'completed', content, rawOutput: { output: text } }, ...(plan ? [{ sessionUpdate: 'plan' as const, entries: plan }] : [])];
}

/** The updates that tell `record` again, oldest first: every message, or its last `last` (a fork's, as OpenCode tells one). */
export function replayUpdates(record: SessionRecord, last?: number): SessionUpdate[] {
  const out: SessionUpdate[] = [];
  const messages = openCodeMessages(record);
  for (const message of last === undefined ? messages : messages.slice(-last)) {
    const user = message.info.role === 'user';
    for (const part of message.parts) {
      if (part.type === 'text' && typeof part.text === 'string' && part.text && part.synthetic !== true) {
        out.push({ sessionUpdate: user ? 'user_message_chunk' : 'agent_message_chunk', messageId: message.info.id, content: { type: 'text', text: part.text } });
      } else if (part.type === 'reasoning' && typeof part.text === 'string' && part.text) {
        out.push({ sessionUpdate: 'agent_thought_chunk', messageId: message.info.id, content: { type: 'text', text: part.text } });
      } else if (part.type === 'file' && typeof part.url === 'string') {
        const name = typeof part.filename === 'string' ? part.filename : 'file';
        // An attachment saved inline (a data: URL) is named, not sent again whole.
        const content = part.url.startsWith('data:') ? { type: 'text' as const, text: `[${name}]` } : { type: 'resource_link' as const, uri: part.url, name, ...(typeof part.mime === 'string' ? { mimeType: part.mime } : {}) };
        out.push({ sessionUpdate: user ? 'user_message_chunk' : 'agent_message_chunk', messageId: message.info.id, content });
      } else if (part.type === 'tool') {
        out.push(...toolUpdates(part, record.projectRoot));
      }
    }
  }
  return out;
}
