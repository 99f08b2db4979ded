/**
 * `experimental.chat.messages.transform`, as OpenCode calls it: before each model call of a turn
 * (each step of the tool loop, and a compaction's), with `{}` and `{messages}` — the session's
 * messages the call is made from, in OpenCode's shape (plugins/messages-view.ts) — which the hooks
 * change in place (context pruning, injected notes); the call is made from what they leave. Their
 * changes last for that call only, as in OpenCode (the session keeps what was said).
 */
import type { ModelMessage } from 'ai';
import { PluginHookError, runHook } from './hook-error.ts';
import { fromView, toView, type ViewContext } from './messages-view.ts';
import type { PluginHost } from './types.ts';

/** Changes the messages of one model call as the plugins say. */
export type TransformMessages = (messages: ModelMessage[]) => Promise<ModelMessage[]>;

/** The turn's transform, or undefined when no plugin has the hook (no cost then). */
export function messagesTransformer(host: PluginHost | undefined, ctx: ViewContext, signal?: AbortSignal): TransformMessages | undefined {
  if (!host?.has('experimental.chat.messages.transform')) return undefined;
  return async (messages) => {
    const view = toView(messages, ctx);
    const before = JSON.stringify(view.messages);
    const output = { messages: view.messages as unknown[] };
    const out = await runHook(host, 'experimental.chat.messages.transform', {}, output, signal);
    if (!Array.isArray(out.messages)) throw new PluginHookError('experimental.chat.messages.transform', new Error('output.messages must be a list'));
    // Left as they were: the call is made from the messages themselves.
    if (out.messages === view.messages && JSON.stringify(out.messages) === before) return messages;
    return fromView(view, out.messages);
  };
}
