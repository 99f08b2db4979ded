/**
 * The MCP servers of one config, for one process: started lazily (only those asked for), at most
 * once, in parallel; a server that fails to start is reported and left out; one that dies is
 * reported and restarted once, on its next call; shutdown stops every process it started. A
 * long-lived server may add servers, and connect or disconnect one, while it runs (OpenCode's
 * `POST /mcp`, `/mcp/{name}/connect`, `/mcp/{name}/disconnect`): a disconnected server is
 * `disabled` until it is connected again. The MCP SDK is imported only when the first server starts.
 */
import { environmentSecrets, headerSecrets, secretMasker } from '../config/secrets.ts';
import type { Tool } from 'ai';
import type { McpConfig } from '../config/schema-types.ts';
import { serverConfig, type ServerConfig } from './server-config.ts';
import { mcpAuthFile } from './oauth-store.ts';
import type { CallOptions, Connection, ConnectOptions } from './connect.ts';
import { describeExit, failureText } from './call-failure.ts';
import { needsAuthReason, type AuthRefusal } from './start-reason.ts';
import { toolsRefresh, type ToolsRefresh } from './tools-refresh.ts';
import { exposeToolNames, describeCollision } from './tool-names.ts';
import { boundInstructions, boundTools } from './tool-limits.ts';
import { resultText, truncateResult, MAX_RESULT_CHARS } from './tool-result.ts';
import type { ExposedTool, McpCallResult, McpInstructions, McpWarning, ServerStatus } from './types.ts';
import { catalogPrompts, catalogResources, type McpPrompt, type McpResource } from './catalog.ts';
import { MAX_CATALOG_ITEMS } from './catalog-limits.ts';
import type { GetPromptResult, ReadResourceResult, Resource, ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';

export const DEFAULT_TIMEOUT_MS = 5000;

/** How a listing of prompts or resources waits (McpManager.prompts, .resources). */
export interface CatalogOptions {
  /** Leave out the servers not started and listed within this (LIST_WAIT_MS for a client's listing); default: wait for each start (bounded by its `timeout`). */
  waitMs?: number;
  /** Start a server that exited again first (once per process, as a tool call does): for running one of its prompts. */
  revive?: boolean;
  /** Start nothing: only the servers connected already (a request from a page of another site). */
  startNothing?: boolean;
}
/** A server's tools are listed again at most this often however many `tools/list_changed` it sends. */
export const TOOLS_REFRESH_GAP_MS = 1000;

export interface McpManagerOptions {
  /** The user's environment, safe-listed for local servers (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Working directory of local servers (default process.cwd()). */
  cwd?: string;
  /** Grace before SIGTERM, then SIGKILL, when a local server is stopped (default 500 ms). */
  graceMs?: number;
  /** Results longer than this are truncated (default 32 KB). */
  maxResultChars?: number;
  /** Tool names that MCP tools must not take (the built-in tools). */
  reservedToolNames?: readonly string[];
  clientVersion?: string;
  onWarning?: (warning: McpWarning) => void;
}

interface Entry {
  name: string;
  config: ServerConfig;
  status: ServerStatus;
  conn?: Connection;
  tools?: Connection['tools'];
  starting?: Promise<void>;
  killers: { killSync(): void }[];
  /** Masks the server's secrets (its headers' and environment's) in a reason built from what it said. */
  mask: (text: string) => string;
  /** Cancels the start in flight (a disconnect, or the entry replaced, while it starts). */
  cancel?: AbortController;
  /** Counts the disconnects: a connect asked for before the latest one does not undo it. */
  stops: number;
  /** Re-lists the tools of the connection's server when it says they changed (coalesced). */
  refresh?: ToolsRefresh;
  /** Its prompts and resources, as last listed (none until the first listing is done). */
  prompts?: McpPrompt[];
  resources?: McpResource[];
  /** Lists them when it connects, and again when it says they changed (coalesced as its tools are). */
  catalog?: ToolsRefresh;
  /** When its latest start began (ms): a listing waits for it until `waitMs` after that, not `waitMs` per request. */
  startedAt?: number;
}

/** The reason of a server disconnected while the process runs. */
export const DISCONNECTED = 'disconnected';
/** The reason of a server asked to start after its manager was shut down. */
export const SHUT_DOWN = 'not started: the MCP servers were stopped (the project was let go, e.g. by POST /instance/dispose, or the process is ending); add it again';

/** Resolves when `work` settles or after `ms`, whichever is first (the work goes on). */
async function within(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([work, waited]).finally(() => clearTimeout(timer));
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^MCP error -?\d+: /, '');
}

function newEntry(name: string, entry: McpConfig): Entry {
  const config = serverConfig(entry);
  const disabled = config.enabled === false;
  return {
    name,
    config,
    killers: [],
    stops: 0,
    mask: secretMasker([...headerSecrets(config.headers), ...environmentSecrets(config.environment)]),
    status: { name, type: config.type, state: disabled ? 'disabled' : 'idle', ...(disabled ? { reason: 'enabled: false' } : {}), toolCount: 0, restarts: 0 },
  };
}

export class McpManager {
  private readonly entries = new Map<string, Entry>();
  private readonly options: McpManagerOptions;
  private readonly warned = new Set<string>();
  private readonly listeners = new Set<(warning: McpWarning) => void>();
  private readonly toolListeners = new Set<(server: string) => void>();
  private readonly stopping = new AbortController();

  constructor(servers: Readonly<Record<string, McpConfig>> | undefined, options: McpManagerOptions = {}) {
    this.options = options;
    if (options.onWarning) this.listeners.add(options.onWarning);
    for (const [name, entry] of Object.entries(servers ?? {})) this.entries.set(name, newEntry(name, entry));
  }

  /** Subscribes to warnings (each is sent once per manager); returns the unsubscribe function. */
  onWarning(listener: (warning: McpWarning) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Subscribes to changes of a server's tools: listed anew after it said they changed
   * (`notifications/tools/list_changed`, coalesced), or gone with its connection. Returns the unsubscribe function.
   */
  onToolsChanged(listener: (server: string) => void): () => void {
    this.toolListeners.add(listener);
    return () => this.toolListeners.delete(listener);
  }

  /** Every configured server, in config order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The servers that are not disabled (by `enabled: false` and not connected since, or disconnected). */
  enabledNames(): string[] {
    return [...this.entries.values()].filter((e) => e.status.state !== 'disabled').map((e) => e.name);
  }

  /** Each server (configured or added), in order, and whether it is enabled now (as agents choose their servers by it). */
  switches(): Record<string, { enabled: boolean }> {
    return Object.fromEntries([...this.entries.values()].map((e) => [e.name, { enabled: e.status.state !== 'disabled' }]));
  }

  /** The server's config entry (as the client uses it), if it has one. */
  configOf(name: string): ServerConfig | undefined {
    return this.entries.get(name)?.config;
  }

  /** Whether a server of that name is configured or was added. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * Adds a server (or replaces the one of that name, whose connection is closed first) for the
   * manager's lifetime, and starts it unless it says `enabled: false`; resolves once it has
   * connected or failed.
   */
  async add(name: string, config: McpConfig): Promise<ServerStatus[]> {
    const old = this.entries.get(name);
    const entry = newEntry(name, config);
    this.entries.set(name, entry);
    if (old) await this.stopEntry(old, 'replaced');
    if (entry.status.state === 'idle') await this.startEntry(entry);
    return this.status();
  }

  /**
   * Connects a server: a disabled or disconnected one too (as OpenCode's `connect` does); one that
   * failed or exited is started anew. Callers at the same time share one start; a server connected
   * already is left as it is. False when no server has that name.
   */
  async connect(name: string): Promise<boolean> {
    const entry = this.entries.get(name);
    if (!entry) return false;
    const stops = entry.stops;
    if (entry.starting) await entry.starting;
    // Disconnected while this call waited, or started again by another caller meanwhile: that stands.
    if (entry.stops !== stops || entry.status.state === 'connected') return true;
    if (entry.starting) {
      await entry.starting;
      return true;
    }
    entry.status = { ...entry.status, restarts: 0 };
    await this.startEntry(entry);
    return true;
  }

  /**
   * Disconnects a server: a start in flight is cancelled, its client closed (a local server's
   * process stopped), its tools withdrawn; calls in flight end with a tool error. It stays
   * `disabled` until connected again. False when no server has that name.
   */
  async disconnect(name: string): Promise<boolean> {
    const entry = this.entries.get(name);
    if (!entry) return false;
    await this.stopEntry(entry, DISCONNECTED);
    return true;
  }

  /** A copy of each server's status (all, or those named). */
  status(names: readonly string[] = this.names()): ServerStatus[] {
    return names.flatMap((n) => {
      const entry = this.entries.get(n);
      return entry ? [{ ...entry.status }] : [];
    });
  }

  /**
   * Starts the named servers (default: every enabled one) that have not been started yet, in
   * parallel. `waitMs`: a server still starting `waitMs` after its start began is not waited for
   * (it is `starting` in the answer, and a later call does not wait for it again).
   */
  async start(names: readonly string[] = this.enabledNames(), options: { waitMs?: number } = {}): Promise<ServerStatus[]> {
    const known = this.known(names);
    await this.each(known, (e) => (e.status.state === 'idle' ? this.startEntry(e) : e.starting), options.waitMs);
    return this.status(known.map((e) => e.name));
  }

  /** The entries of `names`; a name not configured is warned about. */
  private known(names: readonly string[]): Entry[] {
    const known: Entry[] = [];
    for (const name of names) {
      const entry = this.entries.get(name);
      if (entry) known.push(entry);
      else this.warn({ code: 'MCP_UNKNOWN_SERVER', server: name, message: `MCP server "${name}" is not configured (known: ${this.names().join(', ') || 'none'}).` });
    }
    return known;
  }

  /** Runs `work` for each entry in parallel and waits for it: all of it, or until `waitMs` after each entry's start began. */
  private async each(entries: readonly Entry[], work: (entry: Entry) => Promise<void> | undefined, waitMs: number | undefined): Promise<void> {
    await Promise.all(
      entries.map((e) => {
        const done = work(e);
        if (!done || waitMs === undefined) return done;
        // Its start (begun now or earlier) sets startedAt before its first await.
        return within(done, Math.max(0, (e.startedAt ?? Date.now()) + waitMs - Date.now()));
      }),
    );
  }

  /** The tools of the named servers (started first), with their exposed names; collisions are warned about. */
  async exposedTools(names: readonly string[] = this.enabledNames()): Promise<ExposedTool[]> {
    await this.start(names);
    // A server that said its tools changed: the listing under way (or due) is waited for, so this turn sees them.
    await Promise.all(names.map((name) => this.entries.get(name)?.refresh?.settled()));
    const refs = names.flatMap((name) => {
      const entry = this.entries.get(name);
      if (!entry?.tools || !this.usable(entry)) return [];
      return entry.tools.map((t) => ({
        server: name,
        tool: t.name,
        ...(t.description ? { description: t.description } : {}),
        inputSchema: t.inputSchema as Record<string, unknown>,
      }));
    });
    const { named, collisions } = exposeToolNames(refs, this.options.reservedToolNames);
    for (const c of collisions) this.warn({ code: 'MCP_TOOL_NAME_COLLISION', server: c.renamed.server, message: describeCollision(c) });
    return named;
  }

  /**
   * The instructions the named servers gave at initialize (started first), those of connected
   * servers only, by server name (as OpenCode lists them), each with the names its tools are
   * exposed under: the system prompt names a server whose tools an agent is offered.
   */
  async instructions(names: readonly string[] = this.enabledNames()): Promise<McpInstructions[]> {
    const exposed = await this.exposedTools(names);
    const found: McpInstructions[] = [];
    for (const name of [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const entry = this.entries.get(name);
      const said = entry?.conn?.instructions;
      if (!entry || !said || !this.usable(entry)) continue;
      const { text, note } = boundInstructions(name, said);
      if (note) this.warn({ code: 'MCP_TOOLS_LIMITED', server: name, message: note });
      found.push({ server: name, text, tools: exposed.filter((t) => t.server === name).map((t) => t.name) });
    }
    return found;
  }

  /** The tools of the named servers as AI SDK tools, keyed by exposed name (`ai` is imported lazily). */
  async toolsFor(names: readonly string[] = this.enabledNames()): Promise<Record<string, Tool>> {
    const exposed = await this.exposedTools(names);
    const { toAiTools } = await import('./ai-tools.ts');
    return toAiTools(exposed, (server, tool, args, signal) => this.callTool(server, tool, args, signal ? { signal } : {}));
  }

  /**
   * Calls a tool (by its name on the server). Tool errors, timeouts and a server that died come
   * back as `{isError: true, text: "error: …"}`; only an abort through `signal` throws.
   */
  async callTool(server: string, tool: string, args: Record<string, unknown>, options: Omit<CallOptions, 'timeoutMs'> = {}): Promise<McpCallResult> {
    const entry = this.entries.get(server);
    if (!entry) return this.errorResult(`MCP server "${server}" is not configured.`);
    const conn = await this.ensureConnected(entry);
    if (!conn) {
      if (entry.status.reason === DISCONNECTED) return this.errorResult(`MCP server "${server}" was disconnected; connect it again to use its tools.`);
      return this.errorResult(`MCP server "${server}" is not available: ${entry.status.reason ?? entry.status.state}.`);
    }
    const timeoutMs = entry.config.timeout ?? DEFAULT_TIMEOUT_MS;
    try {
      const raw = await conn.call(tool, args, { ...options, timeoutMs });
      const { text, truncated } = truncateResult(resultText(raw), this.options.maxResultChars ?? MAX_RESULT_CHARS);
      return raw.isError === true ? { isError: true, text: `error: ${text}`, truncated, raw } : { isError: false, text, truncated, raw };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (entry.conn !== conn && entry.status.state === 'disabled') return this.errorResult(`MCP server "${server}" was disconnected during the call to "${tool}"; connect it again to use its tools.`);
      const { connectionLost, text } = failureText(error, { server, tool, timeoutMs, state: entry.status, mayRestart: entry.status.restarts < 1 });
      if (connectionLost && entry.conn === conn) {
        // A remote server that stopped answering: drop the connection so the next call reconnects (once).
        entry.conn = undefined;
        entry.refresh?.cancel();
        entry.catalog?.cancel();
        this.markExited(entry, text.replace(/^error: /, ''));
        this.toolsChanged(entry.name);
        await conn.close();
      }
      return this.errorResult(text, true);
    }
  }

  /** Closes every client and stops every process started (stdin closed, then SIGTERM, then SIGKILL). */
  async shutdown(): Promise<void> {
    this.stopping.abort();
    const entries = [...this.entries.values()];
    await Promise.allSettled(entries.map((e) => e.starting));
    await Promise.allSettled(
      entries.map(async (e) => {
        const conn = e.conn;
        e.conn = undefined;
        e.refresh?.cancel();
        e.catalog?.cancel();
        if (e.status.state === 'connected' || e.status.state === 'exited') e.status = { ...e.status, state: 'stopped' };
        if (conn) await conn.close();
      }),
    );
  }

  /** SIGKILL to every process started, at once; for `process.on('exit')`, where nothing can be awaited. */
  killSync(): void {
    for (const entry of this.entries.values()) for (const k of entry.killers) k.killSync();
  }

  /** Cancels a start in flight, closes the client, and marks the server disabled for `reason`; resolves once its process is gone. */
  private async stopEntry(entry: Entry, reason: string): Promise<void> {
    entry.stops += 1;
    entry.cancel?.abort();
    const killers = entry.killers;
    const conn = entry.conn;
    const starting = entry.starting;
    entry.conn = undefined;
    entry.tools = undefined;
    delete entry.prompts;
    delete entry.resources;
    entry.refresh?.cancel();
    entry.catalog?.cancel();
    const { startMs: _startMs, transport: _transport, pid: _pid, ...rest } = entry.status;
    entry.status = { ...rest, state: 'disabled', reason, toolCount: 0, restarts: 0 };
    await Promise.allSettled([conn?.close(), starting]);
    // Those processes are gone now: killSync need not keep them (a server connected and disconnected many times).
    entry.killers = entry.killers.filter((k) => !killers.includes(k));
  }

  private usable(entry: Entry): boolean {
    return entry.status.state === 'connected' || (entry.status.state === 'exited' && entry.status.restarts < 1);
  }

  private async ensureConnected(entry: Entry): Promise<Connection | undefined> {
    if (entry.starting) await entry.starting;
    if (entry.status.state === 'idle') await this.startEntry(entry);
    else if (entry.status.state === 'exited' && entry.status.restarts < 1) {
      entry.status.restarts += 1;
      await this.startEntry(entry);
    }
    return entry.status.state === 'connected' ? entry.conn : undefined;
  }

  private startEntry(entry: Entry): Promise<void> {
    if (this.stopping.signal.aborted) {
      entry.status = { ...entry.status, state: 'failed', reason: SHUT_DOWN };
      return Promise.resolve();
    }
    entry.status = { ...entry.status, state: 'starting' };
    delete entry.status.reason;
    const begun = Date.now();
    entry.startedAt = begun;
    const cancel = new AbortController();
    entry.cancel = cancel;
    const run = async (): Promise<void> => {
      const { connectServer } = await import('./connect.ts');
      const options: ConnectOptions = {
        timeoutMs: entry.config.timeout ?? DEFAULT_TIMEOUT_MS,
        name: entry.name,
        authFile: mcpAuthFile(this.options.env ?? process.env),
        signal: AbortSignal.any([this.stopping.signal, cancel.signal]),
        onSpawn: (p) => entry.killers.push(p),
        ...(this.options.env ? { env: this.options.env } : {}),
        ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
        ...(this.options.graceMs === undefined ? {} : { graceMs: this.options.graceMs }),
        ...(this.options.clientVersion ? { clientVersion: this.options.clientVersion } : {}),
      };
      try {
        const conn = await connectServer(entry.config, options);
        if (cancel.signal.aborted) {
          // Disconnected (or replaced) while it started: its status says so already.
          await conn.close();
          return;
        }
        // What goes before the model is bounded (tool count, description and schema sizes).
        const bounded = boundTools(entry.name, conn.tools, conn.moreTools);
        for (const note of bounded.notes) this.warn({ code: 'MCP_TOOLS_LIMITED', server: entry.name, message: note });
        entry.conn = conn;
        entry.tools = bounded.tools;
        entry.status = {
          ...entry.status,
          state: 'connected',
          toolCount: bounded.tools.length,
          startMs: Date.now() - begun,
          transport: conn.kind,
          ...(conn.pid === undefined ? {} : { pid: conn.pid }),
        };
        conn.onLost = (exit, stderr, stopped) => {
          if (entry.conn !== conn) return;
          entry.conn = undefined;
          entry.refresh?.cancel();
          entry.catalog?.cancel();
          this.markExited(entry, describeExit(exit, stderr, stopped));
          // Its tools are gone with it (OpenCode says so as it does when they change).
          this.toolsChanged(entry.name);
        };
        entry.refresh?.cancel();
        entry.catalog?.cancel();
        entry.refresh = toolsRefresh(() => this.relist(entry, conn), TOOLS_REFRESH_GAP_MS);
        const refresh = entry.refresh;
        conn.onToolsChanged = () => {
          if (entry.conn === conn) refresh.poke();
        };
        // Its prompts and resources: listed now, beside its tools' first use, and when it says they changed.
        delete entry.prompts;
        delete entry.resources;
        entry.catalog = toolsRefresh(() => this.relistCatalog(entry, conn), TOOLS_REFRESH_GAP_MS);
        const catalog = entry.catalog;
        conn.onCatalogChanged = () => {
          if (entry.conn === conn) catalog.poke();
        };
        catalog.poke();
      } catch (error) {
        if (cancel.signal.aborted) return;
        const auth = (error as { auth?: AuthRefusal }).auth;
        const registration = (error as { registration?: boolean }).registration === true;
        const said = auth ? needsAuthReason(entry.name, auth) : ((error as { reason?: string }).reason ?? (error instanceof Error ? error.message : String(error)));
        const reason = entry.mask(said);
        const state = auth ? 'needs_auth' : registration ? 'needs_client_registration' : 'failed';
        entry.status = { ...entry.status, state, reason, startMs: Date.now() - begun };
        if (!this.stopping.signal.aborted) {
          const what = auth ? 'needs authentication' : registration ? 'needs a registered OAuth client' : 'failed to start';
          this.warn({ code: 'MCP_START_FAILED', server: entry.name, message: `MCP server "${entry.name}" ${what}: ${reason}; going on without its tools.` });
        }
      }
    };
    const starting = run().finally(() => {
      if (entry.starting === starting) delete entry.starting;
      if (entry.cancel === cancel) delete entry.cancel;
    });
    entry.starting = starting;
    return starting;
  }

  /** Lists a connected server's tools again (it said they changed); they are offered from the next turn on, and listeners are told. */
  private async relist(entry: Entry, conn: Connection): Promise<void> {
    const listed = await conn.listTools(entry.config.timeout ?? DEFAULT_TIMEOUT_MS);
    if (entry.conn !== conn) return;
    const bounded = boundTools(entry.name, listed.tools, listed.more);
    for (const note of bounded.notes) this.warn({ code: 'MCP_TOOLS_LIMITED', server: entry.name, message: note });
    entry.tools = bounded.tools;
    entry.status = { ...entry.status, toolCount: bounded.tools.length };
    this.toolsChanged(entry.name);
  }

  /** Lists a connected server's prompts and resources (each on its own: one that fails leaves the other, and keeps what it had). */
  private async relistCatalog(entry: Entry, conn: Connection): Promise<void> {
    const timeoutMs = entry.config.timeout ?? DEFAULT_TIMEOUT_MS;
    const [prompts, resources] = await Promise.allSettled([conn.listPrompts(timeoutMs), conn.listResources(timeoutMs)]);
    if (entry.conn !== conn) return;
    if (prompts.status === 'fulfilled') {
      entry.prompts = catalogPrompts(entry.name, prompts.value.items, (note) => this.warn({ code: 'MCP_TOOLS_LIMITED', server: entry.name, message: note }));
      if (prompts.value.more) this.warn({ code: 'MCP_TOOLS_LIMITED', server: entry.name, message: `MCP server "${entry.name}" offers more than ${MAX_CATALOG_ITEMS} prompts; the first ${MAX_CATALOG_ITEMS} are commands.` });
    } else this.warn({ code: 'MCP_CATALOG_FAILED', server: entry.name, message: `MCP server "${entry.name}": listing its prompts failed (${entry.mask(errorText(prompts.reason))}); its commands are not offered.` });
    if (resources.status === 'fulfilled') {
      entry.resources = catalogResources(entry.name, resources.value.items);
      if (resources.value.more) this.warn({ code: 'MCP_TOOLS_LIMITED', server: entry.name, message: `MCP server "${entry.name}" offers more than ${MAX_CATALOG_ITEMS} resources; the first ${MAX_CATALOG_ITEMS} are offered.` });
    } else this.warn({ code: 'MCP_CATALOG_FAILED', server: entry.name, message: `MCP server "${entry.name}": listing its resources failed (${entry.mask(errorText(resources.reason))}); they are not offered.` });
  }

  /**
   * The named servers (default every enabled one) started, and their prompts and resources listed
   * (a listing under way waited for). `waitMs`: servers not done within it are left out (they go on
   * starting). `revive`: a server that exited is started again first, once, as a tool call does.
   */
  private async catalogEntries(names: readonly string[], options: CatalogOptions = {}): Promise<Entry[]> {
    const ready = async (e: Entry): Promise<void> => {
      if (options.revive && e.status.state === 'exited') await this.ensureConnected(e);
      else if (e.status.state === 'idle') await this.startEntry(e);
      else if (e.starting) await e.starting;
      if (e.status.state === 'connected') await e.catalog?.settled();
    };
    // startNothing: nothing started or waited for, only what the servers connected already have listed.
    if (!options.startNothing) await this.each(this.known(names), ready, options.waitMs);
    // Only what is listed already: a server still starting, or still listing its first catalog, has nothing yet.
    return names.flatMap((n) => {
      const e = this.entries.get(n);
      return e && e.status.state === 'connected' ? [e] : [];
    });
  }

  /** The prompts of the named servers (started first), in config order: OpenCode's `mcp` commands. */
  async prompts(names: readonly string[] = this.enabledNames(), options?: CatalogOptions): Promise<McpPrompt[]> {
    return (await this.catalogEntries(names, options)).flatMap((e) => e.prompts ?? []);
  }

  /** The resources of the named servers (started first), in config order. */
  async resources(names: readonly string[] = this.enabledNames(), options?: CatalogOptions): Promise<McpResource[]> {
    return (await this.catalogEntries(names, options)).flatMap((e) => e.resources ?? []);
  }

  /** `prompts/get` on `server` (started if need be), within its timeout; throws an Error whose message is one sentence. */
  async getPrompt(server: string, prompt: string, args: Record<string, string>): Promise<GetPromptResult> {
    const { entry, conn } = await this.connectionFor(server);
    try {
      return await conn.getPrompt(prompt, args, entry.config.timeout ?? DEFAULT_TIMEOUT_MS);
    } catch (error) {
      await this.dropLost(entry, conn, error);
      throw new Error(`MCP server "${server}" did not give its prompt "${prompt}": ${entry.mask(errorText(error))}`, { cause: error });
    }
  }

  /**
   * The named servers (started first: a start under way is waited for, bounded by its `timeout`)
   * that are connected and declare the `resources` capability, in the order given: those the
   * model's resource tools (resource-tools.ts) serve.
   */
  async resourceServers(names: readonly string[] = this.enabledNames()): Promise<string[]> {
    await this.start(names);
    return names.filter((n) => {
      const e = this.entries.get(n);
      return e !== undefined && e.status.state === 'connected' && e.conn?.offers.resources === true;
    });
  }

  /**
   * `resources/list` or `resources/templates/list` on `server` now (page by page, bounded as the
   * catalog is: `more` says pages or items were left), within its timeout; throws an Error whose
   * message is one sentence.
   */
  async listResourcesOf(server: string, what: 'resources' | 'templates'): Promise<{ items: Resource[] | ResourceTemplate[]; more: boolean }> {
    const { entry, conn } = await this.connectionFor(server);
    const timeoutMs = entry.config.timeout ?? DEFAULT_TIMEOUT_MS;
    try {
      return what === 'resources' ? await conn.listResources(timeoutMs) : await conn.listResourceTemplates(timeoutMs);
    } catch (error) {
      await this.dropLost(entry, conn, error);
      throw new Error(`MCP server "${server}" did not list its ${what === 'resources' ? 'resources' : 'resource templates'}: ${entry.mask(errorText(error))}`, { cause: error });
    }
  }

  /** `resources/read` on `server` (started if need be), within its timeout; throws an Error whose message is one sentence. */
  async readResource(server: string, uri: string): Promise<ReadResourceResult> {
    const { entry, conn } = await this.connectionFor(server);
    try {
      return await conn.readResource(uri, entry.config.timeout ?? DEFAULT_TIMEOUT_MS);
    } catch (error) {
      await this.dropLost(entry, conn, error);
      throw new Error(`MCP server "${server}" did not read ${uri}: ${entry.mask(errorText(error))}`, { cause: error });
    }
  }

  /** A request that found the connection gone (a remote server that stopped answering): dropped, so the next one reconnects (once), as a tool call's does. */
  private async dropLost(entry: Entry, conn: Connection, error: unknown): Promise<void> {
    const kind = (error as { kind?: unknown }).kind;
    if ((kind !== 'closed' && kind !== 'transport') || entry.conn !== conn) return;
    entry.conn = undefined;
    entry.refresh?.cancel();
    entry.catalog?.cancel();
    this.markExited(entry, kind === 'closed' ? 'closed the connection' : `could not be reached (${entry.mask(errorText(error))})`);
    this.toolsChanged(entry.name);
    await conn.close();
  }

  private async connectionFor(server: string): Promise<{ entry: Entry; conn: Connection }> {
    const entry = this.entries.get(server);
    if (!entry) throw new Error(`MCP server "${server}" is not configured`);
    if (entry.status.state === 'disabled') throw new Error(`MCP server "${server}" is disabled (${entry.status.reason ?? 'enabled: false'})`);
    const conn = await this.ensureConnected(entry);
    if (!conn) throw new Error(`MCP server "${server}" is not available: ${entry.status.reason ?? entry.status.state}`);
    return { entry, conn };
  }

  private toolsChanged(server: string): void {
    for (const listener of this.toolListeners) listener(server);
  }

  private markExited(entry: Entry, said: string): void {
    const reason = entry.mask(said);
    entry.status = { ...entry.status, state: 'exited', reason };
    const next = entry.status.restarts < 1 ? 'it will be restarted on its next call' : 'it was restarted once already and stays down';
    this.warn({ code: 'MCP_SERVER_EXITED', server: entry.name, message: `MCP server "${entry.name}" ${reason}; ${next}.` });
  }

  private errorResult(message: string, prefixed = false): McpCallResult {
    return { isError: true, text: prefixed ? message : `error: ${message}`, truncated: false };
  }

  private warn(warning: McpWarning): void {
    const key = `${warning.code}:${warning.message}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    for (const listener of this.listeners) listener(warning);
  }
}
