/**
 * The project's plugins on a gateway request (`/v1`), which OpenCode does not have: Pantheon's
 * choice, made so that a provider whose requests need a plugin works through the gateway as in a
 * run. The `auth` loaders serve its providers (the chain is resolved with them: core/gateway.ts).
 * `chat.params` and `chat.headers` run for each attempt, as in a turn: they say how a request goes
 * to its provider (OpenCode's own Copilot and ChatGPT logins set their headers and drop
 * `maxOutputTokens` there), which a gateway request needs as much as a turn's. Their input has no
 * session of OpenCode's: `sessionID` is the request's own id (`gw_…`, as on the event stream),
 * `agent` the agent of `agent/<name>` (else ""), and `message` a user message made for the request
 * (its id, that session id, the model asked for). Not run: `experimental.chat.system.transform`
 * and `chat.message` (the prompt is the client's, sent as it wrote it, as the gateway adds no
 * agent prompt either), the tool hooks (tool calls go back to the client) and text completions'
 * and embeddings' hooks (OpenCode has no such calls).
 */
import { newMessageId } from '../session/ids.ts';
import { callPreparer, type PrepareCall } from './call-hooks.ts';
import { pluginUserMessage } from './hook-shapes.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import type { PluginHost } from './types.ts';

/**
 * The request's `chat.params` and `chat.headers`, or undefined when no plugin of the project has
 * them (nothing made then: this runs for every gateway request). `sessionID` is the request's id,
 * `agent` the agent of `agent/<name>` (else ""), `head` the model its chain starts with.
 */
export function gatewayPreparer(host: PluginHost | undefined, sessionID: string, agent: string, head: Pick<ResolvedModel, 'provider' | 'modelKey'>): PrepareCall | undefined {
  // A built-in plugin of the request's provider (plugins/builtin/) has its hooks once loaded, by this request.
  const builtin = host?.builtinProviders?.().includes(head.provider) ?? false;
  if (!host || !(builtin || host.has('chat.params') || host.has('chat.headers'))) return undefined;
  const message = pluginUserMessage({ id: newMessageId(), sessionID, created: Date.now(), agent, model: { providerID: head.provider, modelID: head.modelKey } });
  return callPreparer(host, { sessionID, agent, message }, { system: false });
}
