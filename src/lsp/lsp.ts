/**
 * OpenCode's language servers for one project: as in OpenCode 1.18 the config's `lsp` turns them on
 * (absent or `false`: none; `true`: the built-ins of builtin-servers.ts; an object: the built-ins
 * with its entries over them — `{"disabled": true}` drops one, `{command, extensions, env,
 * initialization}` replaces one or adds one by a new name). One process per (server, root), started
 * by the first file of its extensions that is touched; a server whose program is not found, or that
 * fails to start, is not tried again at that root (a `--debug` note). `touch` tells the servers
 * about a file and waits for its diagnostics (client.ts: bounded); `close` shuts every server down.
 */
import path from 'node:path';
import { safeLine } from '../cli/terminal-text.ts';
import { debugNote } from '../debug-note.ts';
import { BUILTIN_SERVERS, type ServerContext, type ServerDefinition } from './builtin-servers.ts';
import { LspClient, type LspDiagnostic } from './client.ts';
import { keepLspManager, lspManagerOf, lspStarted, registerLsp } from './live.ts';

/** One running server as OpenCode's `GET /lsp` lists it. */
export interface LspStatus {
  id: string;
  name: string;
  root: string;
  status: 'connected' | 'error';
}

interface Entry {
  disabled?: boolean;
  command?: unknown;
  extensions?: unknown;
  env?: unknown;
  initialization?: unknown;
}

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');
const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function note(text: string): void {
  debugNote(`lsp: ${safeLine(text)}`);
}

/** The servers an `lsp` setting turns on (none for absent or `false`). An entry without a usable command is left out (a `--debug` note). */
export function configuredServers(setting: unknown): ServerDefinition[] {
  if (setting !== true && !isRecord(setting)) return [];
  const byId = new Map(BUILTIN_SERVERS.map((s) => [s.id, s]));
  if (setting === true) return [...byId.values()];
  for (const [id, raw] of Object.entries(setting)) {
    const entry = (isRecord(raw) ? raw : {}) as Entry;
    if (entry.disabled === true) {
      byId.delete(id);
      continue;
    }
    const builtin = byId.get(id);
    const command = entry.command;
    if (!isStrings(command) || command.length === 0 || command[0] === '') {
      note(`lsp.${id}: "command" must be a non-empty array of strings (the program, then its arguments); the server is not used.`);
      byId.delete(id);
      continue;
    }
    if (!builtin && !isStrings(entry.extensions)) {
      // OpenCode drops a new server without extensions (config validation warns of it).
      continue;
    }
    const extensions = isStrings(entry.extensions) ? entry.extensions : (builtin?.extensions ?? []);
    const env = isRecord(entry.env) ? (Object.fromEntries(Object.entries(entry.env).filter(([, v]) => typeof v === 'string')) as Record<string, string>) : undefined;
    const initialization = isRecord(entry.initialization) ? entry.initialization : undefined;
    byId.set(id, {
      id,
      extensions,
      root: builtin?.root ?? (async (_file, ctx) => ctx.projectRoot),
      launch: async () => ({ command: [...command], ...(env ? { env } : {}), ...(initialization ? { initialization } : {}) }),
    });
  }
  return [...byId.values()];
}

/** Bounds, for tests (default: OpenCode's). */
export interface LspOptions {
  initializeTimeoutMs?: number;
  waitMs?: number;
}

export class Lsp {
  readonly #options: LspOptions;
  readonly #servers: readonly ServerDefinition[];
  readonly #ctx: ServerContext;
  readonly #clients: LspClient[] = [];
  readonly #starting = new Map<string, Promise<LspClient | undefined>>();
  /** (root, server) pairs not to try again: not found, failed to start, or ended. */
  readonly #broken = new Set<string>();
  readonly #unregister: () => void;
  #closed = false;

  constructor(servers: readonly ServerDefinition[], projectRoot: string, env: NodeJS.ProcessEnv, options: LspOptions = {}) {
    this.#options = options;
    this.#servers = servers;
    this.#ctx = { projectRoot, env };
    this.#unregister = registerLsp(this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  async #start(server: ServerDefinition, root: string, key: string): Promise<LspClient | undefined> {
    const launch = await server.launch(root, this.#ctx).catch(() => undefined);
    if (!launch) {
      this.#broken.add(key);
      note(`${server.id}: its program is not found for ${path.relative(this.#ctx.projectRoot, root) || '.'} (Pantheon installs no language servers: put it on the PATH).`);
      return undefined;
    }
    try {
      const client = await LspClient.start({ id: server.id, root, launch, env: this.#ctx.env, onTrouble: (text) => note(text), ...(this.#options.initializeTimeoutMs ? { initializeTimeoutMs: this.#options.initializeTimeoutMs } : {}) });
      if (this.#closed) {
        await client.shutdown();
        return undefined;
      }
      this.#clients.push(client);
      lspStarted(this.#ctx.projectRoot);
      return client;
    } catch (error) {
      this.#broken.add(key);
      note(`${server.id} did not start: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /** The running servers that take `file` (absolute), started as needed. */
  async #clientsFor(file: string): Promise<LspClient[]> {
    const rel = path.relative(this.#ctx.projectRoot, file);
    // Files outside the project are not sent to its servers (as OpenCode).
    if (rel.startsWith('..') || path.isAbsolute(rel)) return [];
    const extension = path.extname(file) || path.basename(file);
    const out: LspClient[] = [];
    for (const server of this.#servers) {
      if (this.#closed) break;
      if (server.extensions.length > 0 && !server.extensions.includes(extension)) continue;
      const root = await server.root(file, this.#ctx).catch(() => undefined);
      if (!root) continue;
      const key = `${root}\u0000${server.id}`;
      if (this.#broken.has(key)) continue;
      const running = this.#clients.find((c) => c.root === root && c.id === server.id);
      if (running && !running.ended) {
        out.push(running);
        continue;
      }
      if (running) {
        // It ended: not started again at this root (as OpenCode marks it broken).
        this.#clients.splice(this.#clients.indexOf(running), 1);
        this.#broken.add(key);
        continue;
      }
      let starting = this.#starting.get(key);
      if (!starting) {
        starting = this.#start(server, root, key).finally(() => this.#starting.delete(key));
        this.#starting.set(key, starting);
      }
      const client = await starting;
      if (client) out.push(client);
    }
    return out;
  }

  /** Tells the servers of `file` (absolute) it changed and waits (bounded) for its diagnostics; never throws. */
  async touch(file: string): Promise<void> {
    if (this.#closed) return;
    const clients = await this.#clientsFor(file).catch(() => []);
    await Promise.all(
      clients.map(async (client) => {
        try {
          const after = Date.now();
          await client.touch(file);
          await client.waitForDiagnostics(file, after, this.#options.waitMs);
        } catch (error) {
          note(`${client.id} on ${path.relative(this.#ctx.projectRoot, file)}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
  }

  /** Every server's diagnostics, by absolute file. */
  diagnostics(): Map<string, LspDiagnostic[]> {
    const out = new Map<string, LspDiagnostic[]>();
    for (const client of this.#clients) {
      for (const [file, list] of client.diagnostics()) out.set(file, [...(out.get(file) ?? []), ...list]);
    }
    return out;
  }

  /** The servers running, as OpenCode's `GET /lsp` lists them (root relative to the project). */
  status(): LspStatus[] {
    return this.#clients.filter((c) => !c.ended).map((c) => ({ id: c.id, name: c.id, root: path.relative(this.#ctx.projectRoot, c.root), status: 'connected' as const }));
  }

  /** Shuts every server down (bounded); servers asked for afterwards are not started. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unregister();
    const starting = await Promise.all([...this.#starting.values()]);
    const all = new Set([...this.#clients, ...starting.filter((c): c is LspClient => c !== undefined)]);
    this.#clients.length = 0;
    await Promise.allSettled([...all].map((c) => c.shutdown()));
  }
}

/** The language servers of a project under `config` (shared by the configs with the same `lsp`; live.ts), or undefined when its `lsp` turns none on. */
export function lspOf(config: { lsp?: unknown }, projectRoot: string, env: NodeJS.ProcessEnv): Lsp | undefined {
  const found = lspManagerOf(config, projectRoot);
  if (found) return found as Lsp;
  const servers = configuredServers(config.lsp);
  if (servers.length === 0) return undefined;
  const made = new Lsp(servers, projectRoot, env);
  keepLspManager(config, projectRoot, made);
  return made;
}
