/**
 * OpenCode's API over a run's own core, for its plugins' clients (src/plugins/run-server.ts): a host
 * whose project is the run's (its config, runtime and ledger, MCP servers: lent, not opened again),
 * with the routes `serve` has. Loaded on a plugin's first call past `app.log`: in the run bundle
 * it is a side file's (scripts/build-cli.ts), with the server's routes.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Host } from '../core/host.ts';
import { LiveState } from '../core/live/live-state.ts';
import { createApp } from '../server/app.ts';
import { BODY_BUDGET_BYTES, BodyBudget } from '../server/body-budget.ts';
import { CallsInFlight } from '../server/calls-in-flight.ts';
import { OpenCodeEvents } from '../server/opencode/event-stream.ts';
import { ROUTE_GROUPS } from '../server/routes/index.ts';
import type { ServerOptions, ServerState } from '../server/state.ts';
import type { AppFetch } from './in-process-server.ts';
import type { RunServerOptions } from './run-server.ts';

/** The server options of the in-process API: nothing listens (hostname and port are nominal). */
const RUN_OPTIONS: ServerOptions = { hostname: '127.0.0.1', port: 0, cors: [], maxBodyBytes: 16 * 1024 * 1024, drainMs: 0, debug: false, heartbeatMs: 10_000 };

export interface Made {
  app: AppFetch;
  close(): Promise<void>;
}

/** Makes OpenCode's API over the run's core (a run's first plugin call past `app.log`); `note`: the default for the server's own diagnostics. */
export async function makeApi(options: RunServerOptions, note: (line: string) => void): Promise<Made> {
  const directory = await fs.realpath(path.resolve(options.cwd ?? process.cwd()));
  const { loaded, runtime, mcp } = options;
  const host = await Host.open({
    cwd: directory,
    env: options.env,
    ledger: runtime.ledger,
    lent: { directory, projectRoot: loaded.projectRoot, loaded, config: loaded.config, runtime, ...(mcp ? { mcp } : {}), ...(options.plugins ? { plugins: options.plugins } : {}) },
    ...(options.configPath ? { configPath: options.configPath } : {}),
  });
  const events = new OpenCodeEvents(host.hub, options.version);
  const live = new LiveState(host, { version: options.version });
  const state: ServerState = {
    host,
    options: RUN_OPTIONS,
    version: options.version,
    groups: ROUTE_GROUPS,
    events,
    live,
    log: options.note ?? note,
    afterAnswers: new Set(),
    calls: new CallsInFlight(),
    bodies: new BodyBudget(BODY_BUDGET_BYTES),
  };
  const app = createApp(state);
  host.server.attach((request) => app.fetch(request), state.log);
  return {
    app: (request) => app.fetch(request),
    async close() {
      events.close();
      live.close();
      await state.calls.close(0);
      await Promise.all(state.afterAnswers);
      await host.close();
    },
  };
}

