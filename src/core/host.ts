/**
 * What a long-lived process (`opencode serve`) holds for all its clients: the shared ledger, the
 * session store (the same one `opencode run` uses), the project instances (config, scheduler, MCP
 * servers) and the session service that runs turns. Front-ends (the server's route groups) are thin
 * adapters over it; nothing here knows about HTTP.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Ledger } from '../scheduler/ledger.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { openStateLedger } from '../state/open-state.ts';
import { SessionStore } from '../session/store.ts';
import { EventHub } from './event-hub.ts';
import { Instances, type Instance } from './instances.ts';
import { hostLanes } from './lanes.ts';
import { Metrics } from './metrics.ts';
import { Sessions } from './sessions.ts';
import { OpenCodeEvents } from '../server/opencode/event-stream.ts';
import { version } from '../cli/version.ts';
import { ServerSlot } from '../plugins/in-process-server.ts';

export interface HostOptions {
  /** The default project folder (default process.cwd()). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** `--config PATH`, applied in every project. */
  configPath?: string;
  /** The ledger (default: the shared SQLite ledger under the state folder). */
  ledger?: Ledger;
  /** The instance of `cwd` as its caller opened it (a run's), used as it is and left to the caller to close (InstancesOptions.lent). */
  lent?: Instance;
}

export class Host {
  readonly env: NodeJS.ProcessEnv;
  readonly ledger: Ledger;
  readonly store: SessionStore;
  readonly instances: Instances;
  /** Everything that happens to sessions and in turns; front-ends subscribe. */
  readonly hub: EventHub;
  readonly sessions: Sessions;
  /** Prometheus metrics, counted from the hub's events. */
  readonly metrics: Metrics;
  readonly startedAt: number;
  /** What the projects' plugins' `client` calls: the server's application once the server made it (start.ts attaches it). */
  readonly server: ServerSlot;
  readonly #ownLedger: boolean;

  private constructor(options: { env: NodeJS.ProcessEnv; ledger: Ledger; ownLedger: boolean; instances: Instances; hub: EventHub; server: ServerSlot }) {
    this.env = options.env;
    this.server = options.server;
    this.ledger = options.ledger;
    this.#ownLedger = options.ownLedger;
    this.store = SessionStore.open(options.env);
    this.instances = options.instances;
    this.hub = options.hub;
    this.sessions = new Sessions(this, this.hub);
    this.metrics = new Metrics({ busySessions: () => this.sessions.busyCount, lanes: () => hostLanes(this) });
    this.metrics.listen(this.hub);
    this.startedAt = Date.now();
  }

  /** Opens the ledger and the default project (its config must load: a bad one is thrown here). */
  static async open(options: HostOptions = {}): Promise<Host> {
    const env = options.env ?? process.env;
    const cwd = await fs.realpath(path.resolve(options.cwd ?? process.cwd()));
    // One ledger for every project the server opens: the state store of the server's own folder's
    // config, which then opens that folder's project too (loaded once, not twice, at start-up).
    const loaded = options.ledger ? undefined : await loadConfig({ cwd, env, ...(options.configPath ? { configPath: options.configPath } : {}) });
    const ledger = options.ledger ?? (await openStateLedger((loaded as LoadedConfig).config.state, env));
    // The plugins' `event` hooks get their project's events as OpenCode's bus carries them (the server's translation, over this host's hub).
    const hub = new EventHub();
    const pluginEvents = (projectRoot: string, publish: (event: { id: string; type: string; properties: Record<string, unknown> }) => void) => pluginEventFeed(hub, projectRoot, publish);
    const server = new ServerSlot();
    const instances = new Instances({ cwd, env, ledger, server, pluginEvents, ...(options.configPath ? { configPath: options.configPath } : {}), ...(loaded ? { loaded } : {}), ...(options.lent ? { lent: options.lent } : {}) });
    const host = new Host({ env, ledger, ownLedger: !options.ledger, instances, hub, server });
    try {
      await instances.get();
    } catch (error) {
      await host.close();
      throw error;
    }
    return host;
  }

  /** The project of `directory` (default: the server's folder). */
  instance(directory?: string): Promise<Instance> {
    return this.instances.get(directory);
  }

  /** Lets turns in flight finish (at most `ms`, then cancels them), stops MCP servers, closes caches and the ledger. */
  async close(drainMs = 0): Promise<void> {
    await this.sessions.drain(drainMs);
    await this.instances.close();
    this.metrics.close();
    if (this.#ownLedger) await this.ledger.close();
  }
}

/** Feeds one project's events, as OpenCode's event stream has them, to `publish` (a plugin host's) until stopped. */
function pluginEventFeed(hub: EventHub, projectRoot: string, publish: (event: { id: string; type: string; properties: Record<string, unknown> }) => void): () => void {
  const events = new OpenCodeEvents(hub, version);
  const untap = events.tap(projectRoot, publish);
  return () => {
    untap();
    events.close();
  };
}
