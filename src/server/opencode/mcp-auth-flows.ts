/**
 * The MCP OAuth flows a server runs for OpenCode's auth routes, one per server name and project
 * (a new start replaces the one in progress; starts for one server run one at a time, so two at once
 * leave one flow, the first's listener wait and transport let go): the authorization URL handed out by
 * `POST /mcp/{name}/auth`, finished either by `POST /mcp/{name}/auth/callback` with the code or by
 * the browser coming back to the loopback callback (state checked), then the server reconnected
 * with its new tokens. A flow left alone ends after 5 minutes; nothing is saved before it ends well.
 */
import { PantheonError } from '../../errors.ts';
import type { McpManager } from '../../mcp/manager.ts';
import type { AuthStart } from '../../mcp/oauth-flow.ts';

const WAIT_MS = 5 * 60_000;
const START_TIMEOUT_MS = 30_000;

interface Flow {
  start: Extract<AuthStart, { kind: 'redirect' }>;
  cancelWait(reason: Error): void;
  /** Settles when the browser came back to the loopback callback and the flow finished (or failed). */
  done: Promise<void>;
  finished: boolean;
}

const flows = new WeakMap<McpManager, Map<string, Flow>>();

function flowsOf(manager: McpManager): Map<string, Flow> {
  let map = flows.get(manager);
  if (!map) flows.set(manager, (map = new Map()));
  return map;
}

export type Started = { authorizationUrl: string; oauthState: string } | { needsClientRegistration: string };

/** The start under way per server name: a second start waits for it, then replaces its flow. */
const starting = new WeakMap<McpManager, Map<string, Promise<unknown>>>();

/** Starts a flow for the server (its config checked: remote, OAuth on); a flow in progress for it is cancelled. */
export function startFlow(manager: McpManager, name: string): Promise<Started> {
  let queue = starting.get(manager);
  if (!queue) starting.set(manager, (queue = new Map()));
  const run = (queue.get(name) ?? Promise.resolve()).then(() => startNow(manager, name));
  const settled = run.catch(() => undefined);
  queue.set(name, settled);
  void settled.then(() => {
    if (queue.get(name) === settled) queue.delete(name);
  });
  return run;
}

async function startNow(manager: McpManager, name: string): Promise<Started> {
  const config = manager.configOf(name);
  if (!config) throw new PantheonError('USAGE', `No MCP server named ${JSON.stringify(name)}.`);
  const { startAuth } = await import('../../mcp/oauth-flow.ts');
  const { waitForCallback } = await import('../../mcp/oauth-callback.ts');
  const { newOAuthState, redirectUriOf } = await import('../../mcp/oauth-provider.ts');
  const { oauthTarget } = await import('../../mcp/oauth-flow.ts');
  const { settings } = oauthTarget(name, config);
  const map = flowsOf(manager);
  cancelFlow(manager, name);
  // Listening first: a port in use is said before anything is registered with the authorization server.
  const state = newOAuthState();
  const wait = await waitForCallback(redirectUriOf(settings), state, WAIT_MS);
  wait.code.catch(() => undefined);
  let start: AuthStart;
  try {
    start = await startAuth(name, config, { timeoutMs: START_TIMEOUT_MS, state });
  } catch (error) {
    wait.cancel(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  if (start.kind !== 'redirect') {
    wait.cancel(new PantheonError('CANCELLED', 'No sign-in needed.'));
    return start.kind === 'needs_client_registration' ? { needsClientRegistration: start.error } : { authorizationUrl: '', oauthState: '' };
  }
  const redirect = start;
  const flow: Flow = {
    start: redirect,
    cancelWait: (reason) => wait.cancel(reason),
    finished: false,
    done: wait.code.then(async (code) => {
      if (flow.finished) return;
      flow.finished = true;
      await redirect.finish(code);
      await manager.connect(name);
    }),
  };
  // Settled here too: a flow nobody awaits (the code came through the callback route, or it timed out) is no unhandled rejection.
  flow.done.catch(() => undefined).finally(() => {
    if (map.get(name) === flow) map.delete(name);
  });
  map.set(name, flow);
  return { authorizationUrl: start.authorizationUrl, oauthState: start.oauthState };
}

/** Finishes the server's flow with the code (`POST /mcp/{name}/auth/callback`); false when none is in progress. */
export async function finishFlow(manager: McpManager, name: string, code: string): Promise<boolean> {
  const map = flowsOf(manager);
  const flow = map.get(name);
  if (!flow || flow.finished) return false;
  flow.finished = true;
  map.delete(name);
  flow.cancelWait(new PantheonError('CANCELLED', 'Finished through the callback route.'));
  try {
    await flow.start.finish(code);
  } finally {
    await flow.start.cancel();
  }
  await manager.connect(name);
  return true;
}

/** Waits until the browser has come back to the loopback callback and the flow finished (`/auth/authenticate`). */
export async function awaitFlow(manager: McpManager, name: string): Promise<void> {
  const flow = flowsOf(manager).get(name);
  if (flow) await flow.done;
}

/** Cancels the server's flow in progress, if any (`DELETE /mcp/{name}/auth`). */
export function cancelFlow(manager: McpManager, name: string): void {
  const map = flowsOf(manager);
  const flow = map.get(name);
  if (!flow) return;
  map.delete(name);
  flow.finished = true;
  flow.cancelWait(new PantheonError('CANCELLED', 'Authorization cancelled.'));
  void flow.start.cancel();
}
