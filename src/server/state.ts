import type { Host } from '../core/host.ts';
import type { Instance } from '../core/instances.ts';
import type { LiveState } from '../core/live/live-state.ts';
import type { BodyBudget } from './body-budget.ts';
import type { CallsInFlight } from './calls-in-flight.ts';
import type { OpenCodeEvents } from './opencode/event-stream.ts';
import type { Terminals } from './opencode/terminals.ts';
import type { RouteGroup } from './route.ts';

export interface ServerOptions {
  hostname: string;
  port: number;
  /** Origins allowed by CORS besides the server's own and localhost. `*` allows any. */
  cors: string[];
  /** Basic auth (OPENCODE_SERVER_PASSWORD); undefined leaves the server open. */
  auth?: { username: string; password: string };
  /** Largest request body accepted (bytes). */
  maxBodyBytes: number;
  /** Request-body bytes held at once across all requests (body-budget.ts; default BODY_BUDGET_BYTES). */
  bodyBudgetBytes?: number;
  /** Client connections kept open at once (default: from the open-file limit, start.ts connectionCap). */
  maxConnections?: number;
  /** How long SIGTERM waits for turns in flight before cancelling them (ms). */
  drainMs: number;
  /** Errors with their stack on stderr. */
  debug: boolean;
  /** Interval of `server.heartbeat` on event streams (ms). */
  heartbeatMs: number;
  /** How long a stream's client may take nothing before it is cut off (ms; default SEND_STALL_MS, send-stall.ts). */
  sendStallMs?: number;
}

/** Everything a route handler can reach: the core host, the server's options and the route table. */
export interface ServerState {
  host: Host;
  options: ServerOptions;
  version: string;
  groups: readonly RouteGroup[];
  /** The host's events as OpenCode's event streams. */
  events: OpenCodeEvents;
  /** Lanes, event log, usage, sessions and workflow runs for the dashboard and /api/state. */
  live: LiveState;
  /** `http://HOST:PORT` once listening (webhook targets pointing back at it are refused). */
  url?: string;
  /** Diagnostics for the operator (stderr); never a client's data unmasked. */
  log: (line: string) => void;
  /** What routes left for after their answers (RouteAnswer.after) and is still running: the server's close waits for it. */
  afterAnswers: Set<Promise<void>>;
  /** The gateway's model calls in flight, which a shutdown lets finish (calls-in-flight.ts); `closing` once it began. */
  calls: CallsInFlight;
  /** The request-body bytes held at once (body-budget.ts). */
  bodies: BodyBudget;
  /** The terminals of `/pty` (opencode/terminals.ts), made when the first is asked for. */
  terminals?: Terminals;
}

/** The instance a request is about: `x-opencode-directory` (URL-encoded, as the SDK sends it) or `?directory=`. */
export function requestDirectory(header: string | undefined, query: string | undefined): string | undefined {
  const raw = query ?? header;
  if (raw === undefined || raw === '') return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function instanceFor(state: ServerState, header: string | undefined, query: string | undefined): Promise<Instance> {
  return state.host.instance(requestDirectory(header, query));
}
