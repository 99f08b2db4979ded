/**
 * The plugins' hooks on a turn's messages, as OpenCode runs them: `chat.message` on the user's new
 * message before it is used and saved (its parts and its `system` may be changed), and
 * `experimental.text.complete` on each text part the model wrote, whose final text may be replaced
 * before it is saved (and before the turn's next model call reads it).
 */
import { partId } from '../session/ids.ts';
import type { UserContent } from '../run/user-content.ts';
import { PluginHookError, runHook } from './hook-error.ts';
import { pluginUserMessage, type TurnMessage } from './hook-shapes.ts';
import type { PluginHost } from './types.ts';

type ContentPart = Exclude<UserContent, string>[number];

/**
 * `chat.message`: the user's message as OpenCode's (`{message, parts}`: its text parts and its
 * files), changed by the hooks in place; back, the texts the hooks left or added (in their order)
 * and the files they kept. A file part a hook adds is not read (Pantheon attaches files from the
 * request or `--file`), and the message's `system` is the only field of it that is taken.
 */
export async function chatMessage(host: PluginHost, turn: TurnMessage & { variant?: string }, content: UserContent, signal?: AbortSignal, added?: readonly number[]): Promise<{ content: UserContent; system?: string; message: Record<string, unknown>; added?: number[] }> {
  const given: ContentPart[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  const files = new Map<string, ContentPart>();
  const addedFiles = new Set<string>();
  const parts = given.map((part, i) => {
    const base = { id: partId(turn.id, i), sessionID: turn.sessionID, messageID: turn.id };
    // The server's parts (an MCP resource's text) are synthetic, as OpenCode hands them to the hook.
    if (part.type === 'text') return { ...base, type: 'text', text: part.text, ...(added?.includes(i) ? { synthetic: true } : {}) };
    files.set(base.id, part);
    if (added?.includes(i)) addedFiles.add(base.id);
    return { ...base, type: 'file', mime: part.mediaType, filename: part.filename ?? '', url: '' };
  });
  const message = pluginUserMessage(turn);
  const input = { sessionID: turn.sessionID, agent: turn.agent, model: turn.model, messageID: turn.id, ...(turn.variant ? { variant: turn.variant } : {}) };
  const out = await runHook(host, 'chat.message', input, { message, parts: parts as Record<string, unknown>[] }, signal);
  if (!Array.isArray(out.parts)) throw new PluginHookError('chat.message', new Error('output.parts must be a list'));
  const next: ContentPart[] = [];
  // The parts the hooks left synthetic (or added so) and the server's files, as the message keeps them (SessionMessage.added).
  const kept: number[] = [];
  for (const part of out.parts) {
    if (part === null || typeof part !== 'object') continue;
    const { type, text, id, ignored, synthetic } = part as { type?: unknown; text?: unknown; id?: unknown; ignored?: unknown; synthetic?: unknown };
    // An ignored part is kept by OpenCode but never sent to the model.
    if (ignored === true) continue;
    if (type === 'text' && typeof text === 'string') {
      if (synthetic === true) kept.push(next.length);
      next.push({ type: 'text', text });
    } else if (type === 'file' && typeof id === 'string' && files.has(id)) {
      if (addedFiles.has(id)) kept.push(next.length);
      next.push(files.get(id) as ContentPart);
    }
  }
  const system = (out.message as { system?: unknown } | undefined)?.system;
  const shaped: UserContent = next.length === 0 ? '' : next.length === 1 && next[0]?.type === 'text' && kept.length === 0 ? next[0].text : next;
  const info = out.message !== null && typeof out.message === 'object' ? (out.message as Record<string, unknown>) : message;
  return { content: shaped, ...(typeof system === 'string' && system !== '' ? { system } : {}), message: info, ...(kept.length ? { added: kept } : {}) };
}

/** `experimental.text.complete` for the texts of one task's answer: each text part's final text, replaced as the hooks say. */
export function textCompleter(host: PluginHost, ids: { sessionID: string; messageID: string }, signal?: AbortSignal): ((text: string) => Promise<string>) | undefined {
  if (!host.has('experimental.text.complete')) return undefined;
  let n = 0;
  return async (text) => {
    const partID = partId(ids.messageID, n++);
    const out = await runHook(host, 'experimental.text.complete', { sessionID: ids.sessionID, messageID: ids.messageID, partID }, { text }, signal);
    if (typeof out.text !== 'string') throw new PluginHookError('experimental.text.complete', new Error('output.text must be a string'));
    return out.text;
  };
}
