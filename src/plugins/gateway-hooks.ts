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
import type { PluginHost } from './types.ts';

/** A gateway request as its hooks are told it: its id, its agent (`agent/<name>`), the model it named first. */
export interface GatewayTurn {
  sessionID: string;
  agent: string;
  /** The head of the request's chain. */
  model: { providerID: string; modelID: string };
}

/** The request's `chat.params` and `chat.headers`, or undefined when no plugin of the project has them (nothing to pay then). */
export function gatewayPreparer(host: PluginHost | undefined, turn: GatewayTurn): PrepareCall | undefined {
  // A built-in plugin of the request's provider (plugins/builtin/) has its hooks once loaded, by this request.
  const builtin = host?.builtinProviders?.().includes(turn.model.providerID) ?? false;
  if (!host || !(builtin || host.has('chat.params') || host.has('chat.headers'))) return undefined;
  const message = pluginUserMessage({ id: newMessageId(), sessionID: turn.sessionID, created: Date.now(), agent: turn.agent, model: turn.model });
  return callPreparer(host, { sessionID: turn.sessionID, agent: turn.agent, message }, { system: false });
}
