/**
 * What the tests of questions put to OpenCode clients (permission-asks, question-asks) share: a
 * listener on a project's events through the SDK v2 client, waiting until a session's previous turn
 * has ended, and what the scripted model was told of a tool call.
 */
import type { createOpencodeClient } from '@opencode-ai/sdk/v2';
import type { ScriptedServer } from '../support/openai-server.ts';
import { collect } from './sdk-helper.ts';

type Client = ReturnType<typeof createOpencodeClient>;

/** Follows the project's `/event` stream until `stop()`; resolves once the server said it is connected. */
export async function listen(client: Client) {
  const abort = new AbortController();
  const stream = collect((await client.event.subscribe({}, { signal: abort.signal, sseMaxRetryAttempts: 0 })).stream as AsyncIterable<unknown>);
  await stream.until((e) => e.type === 'server.connected');
  return { stream, stop: () => abort.abort() };
}

export type Listener = Awaited<ReturnType<typeof listen>>;

/** Resolves once `sessionID` is no longer busy (a prompt to a busy session is refused). */
export async function untilNotBusy(client: Client, sessionID: string): Promise<void> {
  while (((await client.session.status({})).data as Record<string, unknown>)[sessionID] !== undefined) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** What the model was told of its call `id` (the tool message's content), or '' before it was. */
export function toolResult(model: ScriptedServer, id: string): string {
  for (const entry of model.log) {
    for (const m of (entry.messages ?? []) as { role: string; tool_call_id?: string; content: unknown }[]) {
      if (m.role === 'tool' && m.tool_call_id === id) return typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
    }
  }
  return '';
}
