/**
 * One language server process at one root, spoken to over JSON-RPC on its stdin and stdout as
 * OpenCode 1.18 does: `initialize` (rootUri, workspaceFolders, its `initialization` as options;
 * publishDiagnostics, pull diagnostics and configuration among the capabilities), `didOpen` for a
 * file touched first, `didChange` (the whole text) after, and waiting for a file's diagnostics after
 * a touch: pulled (`textDocument/diagnostic`) when the server offers it, else the pushed ones, a
 * debounce of 150 ms after the last push, at most 5 s. typescript's first push for a newly opened
 * file (its syntax pass) does not end the wait, as in OpenCode. A server that ends or never answers
 * ends the wait; nothing here throws at the tool that touched a file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { ServerLaunch } from './builtin-servers.ts';
import { languageIdOf } from './language-ids.ts';
import { trackServerProcess } from './live.ts';

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspDiagnostic {
  range: { start: LspPosition; end: LspPosition };
  severity?: number;
  message: string;
  source?: string;
  code?: number | string;
}

/** The debounce after a file's last push (OpenCode's). */
export const PUSH_DEBOUNCE_MS = 150;
/** How long a touch waits for a file's diagnostics at most (OpenCode's, for `edit` and `write`). */
export const DIAGNOSTICS_WAIT_MS = 5000;
/** How long a pull (`textDocument/diagnostic`) may take. */
const PULL_TIMEOUT_MS = 3000;
/** How long `initialize` may take (OpenCode's). */
export const INITIALIZE_TIMEOUT_MS = 45_000;
/** How long a server is given to end after `shutdown` and `exit` before it is killed. */
const SHUTDOWN_GRACE_MS = 1500;

const uriOf = (file: string): string => pathToFileURL(file).href;

function fileOf(uri: string): string | undefined {
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${what} in ${ms / 1000} s`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** The value of a dotted `section` in the server's initialization options (for `workspace/configuration`). */
function section(options: Record<string, unknown> | undefined, name: string | undefined): unknown {
  if (!name) return options ?? null;
  let at: unknown = options;
  for (const key of name.split('.')) {
    if (at === null || typeof at !== 'object' || !(key in at)) return null;
    at = (at as Record<string, unknown>)[key];
  }
  return at ?? null;
}

function endOf(text: string): LspPosition {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: (lines.at(-1) ?? '').length };
}

export interface ClientOptions {
  id: string;
  root: string;
  launch: ServerLaunch;
  env: NodeJS.ProcessEnv;
  /** Told why the server ended or failed (a `--debug` note). */
  onTrouble: (text: string) => void;
  initializeTimeoutMs?: number;
}

export class LspClient {
  readonly id: string;
  readonly root: string;
  readonly #child: ChildProcess;
  readonly #connection: MessageConnection;
  readonly #launch: ServerLaunch;
  readonly #onTrouble: ClientOptions['onTrouble'];
  readonly #initializeTimeoutMs: number;
  readonly #untrack: () => void;
  /** Diagnostics pushed, and pulled, by file. */
  readonly #pushed = new Map<string, LspDiagnostic[]>();
  readonly #pulled = new Map<string, LspDiagnostic[]>();
  /** When each file's last push came. */
  readonly #pushedAt = new Map<string, number>();
  readonly #listeners = new Set<(file: string) => void>();
  readonly #open = new Map<string, { version: number; text: string }>();
  #incremental = false;
  #pull = false;
  #ended = false;
  readonly #exited: Promise<void>;

  private constructor(options: ClientOptions, child: ChildProcess) {
    this.id = options.id;
    this.root = options.root;
    this.#launch = options.launch;
    this.#onTrouble = options.onTrouble;
    this.#initializeTimeoutMs = options.initializeTimeoutMs ?? INITIALIZE_TIMEOUT_MS;
    this.#child = child;
    this.#untrack = child.pid === undefined ? () => false : trackServerProcess(child.pid);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#untrack();
        if (!this.#ended) this.#onTrouble(`${this.id} ended (${code === null ? `signal ${signal ?? '?'}` : `exit code ${code}`})`);
        this.#ended = true;
        for (const listener of this.#listeners) listener('');
        resolve();
      });
      child.once('error', (error) => {
        this.#untrack();
        this.#onTrouble(`${this.id}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `${this.#launch.command[0]} not found` : error.message}`);
        this.#ended = true;
        for (const listener of this.#listeners) listener('');
        resolve();
      });
    });
    child.stderr?.resume();
    // Writes after the server ended fail; the wait they belong to ends on the exit.
    child.stdin?.on('error', () => undefined);
    this.#connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    this.#connection.onError(() => undefined);
    this.#listen();
  }

  /** Starts the server at its root and initializes it; rejects (the process stopped) when it cannot. */
  static async start(options: ClientOptions): Promise<LspClient> {
    const [program, ...args] = options.launch.command as [string, ...string[]];
    const child = spawn(program, args, {
      cwd: options.root,
      env: { ...options.env, ...options.launch.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    const client = new LspClient(options, child);
    try {
      await client.#initialize();
      return client;
    } catch (error) {
      await client.shutdown();
      throw error;
    }
  }

  get ended(): boolean {
    return this.#ended;
  }

  #listen(): void {
    const c = this.#connection;
    c.onNotification('textDocument/publishDiagnostics', (params: { uri: string; diagnostics?: LspDiagnostic[] }) => {
      const file = fileOf(params.uri);
      if (!file) return;
      const diagnostics = Array.isArray(params.diagnostics) ? params.diagnostics : [];
      this.#pushedAt.set(file, Date.now());
      // typescript's first push for a file just opened is its syntax pass: kept, but no waiter is told.
      if (this.id === 'typescript' && !this.#pushed.has(file)) {
        this.#pushed.set(file, diagnostics);
        return;
      }
      this.#pushed.set(file, diagnostics);
      for (const listener of this.#listeners) listener(file);
    });
    c.onRequest('window/workDoneProgress/create', () => null);
    c.onRequest('workspace/configuration', (params: { items?: { section?: string }[] }) => (params.items ?? []).map((item) => section(this.#launch.initialization, item.section)));
    c.onRequest('client/registerCapability', () => null);
    c.onRequest('client/unregisterCapability', () => null);
    c.onRequest('workspace/workspaceFolders', () => [{ name: 'workspace', uri: uriOf(this.root) }]);
    c.onRequest('workspace/diagnostic/refresh', () => null);
    c.listen();
  }

  async #initialize(): Promise<void> {
    const c = this.#connection;
    const exited = this.#exited.then(() => {
      throw new Error(`${this.id} ended before it was initialized`);
    });
    const initialize = c.sendRequest('initialize', {
      rootUri: uriOf(this.root),
      processId: process.pid,
      workspaceFolders: [{ name: 'workspace', uri: uriOf(this.root) }],
      initializationOptions: { ...this.#launch.initialization },
      capabilities: {
        window: { workDoneProgress: true },
        workspace: { configuration: true, didChangeWatchedFiles: { dynamicRegistration: true }, diagnostics: { refreshSupport: false } },
        textDocument: {
          synchronization: { didOpen: true, didChange: true },
          diagnostic: { dynamicRegistration: true, relatedDocumentSupport: true },
          publishDiagnostics: { versionSupport: false },
        },
      },
    }) as Promise<{ capabilities?: Record<string, unknown> }>;
    const result = await withTimeout(Promise.race([initialize, exited]), this.#initializeTimeoutMs, 'initialize');
    const capabilities = result?.capabilities ?? {};
    const sync = capabilities.textDocumentSync;
    const kind = typeof sync === 'number' ? sync : sync !== null && typeof sync === 'object' ? (sync as { change?: number }).change : undefined;
    this.#incremental = kind === 2;
    this.#pull = Boolean(capabilities.diagnosticProvider);
    await c.sendNotification('initialized', {});
    if (this.#launch.initialization) await c.sendNotification('workspace/didChangeConfiguration', { settings: this.#launch.initialization });
  }

  /** Tells the server about a file as it is on disk now (opened the first time, changed after); its version. */
  async touch(file: string): Promise<number> {
    const text = await fs.readFile(file, 'utf8');
    const uri = uriOf(file);
    const c = this.#connection;
    const known = this.#open.get(file);
    if (known) {
      await c.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri, type: 2 }] });
      const version = known.version + 1;
      this.#open.set(file, { version, text });
      await c.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: this.#incremental ? [{ range: { start: { line: 0, character: 0 }, end: endOf(known.text) }, text }] : [{ text }],
      });
      return version;
    }
    await c.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri, type: 1 }] });
    this.#pushed.delete(file);
    this.#pulled.delete(file);
    await c.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: languageIdOf(file), version: 0, text } });
    this.#open.set(file, { version: 0, text });
    return 0;
  }

  /** Asks for a file's diagnostics (a server that offers pulling); whether it answered with them. */
  async #pullDiagnostics(file: string): Promise<boolean> {
    const answer = (await withTimeout(this.#connection.sendRequest('textDocument/diagnostic', { textDocument: { uri: uriOf(file) } }), PULL_TIMEOUT_MS, 'textDocument/diagnostic').catch(
      () => null,
    )) as { items?: LspDiagnostic[]; relatedDocuments?: Record<string, { items?: LspDiagnostic[] }> } | null;
    if (!answer) return false;
    let matched = false;
    if (Array.isArray(answer.items)) {
      this.#pulled.set(file, answer.items);
      matched = true;
    }
    for (const [uri, related] of Object.entries(answer.relatedDocuments ?? {})) {
      const other = fileOf(uri);
      if (other && Array.isArray(related.items)) this.#pulled.set(other, related.items);
    }
    return matched;
  }

  /** Waits (at most `timeoutMs` from `after`) for the diagnostics of a file just touched. */
  async waitForDiagnostics(file: string, after: number, timeoutMs: number = DIAGNOSTICS_WAIT_MS): Promise<void> {
    if (this.#ended) return;
    if (this.#pull && (await this.#pullDiagnostics(file))) return;
    const left = timeoutMs - (Date.now() - after);
    if (left <= 0 || this.#ended) return;
    await new Promise<void>((resolve) => {
      let debounce: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(deadline);
        clearTimeout(debounce);
        this.#listeners.delete(listener);
        resolve();
      };
      const check = (): void => {
        const at = this.#pushedAt.get(file);
        if (at === undefined || at < after) return;
        clearTimeout(debounce);
        debounce = setTimeout(finish, Math.max(0, PUSH_DEBOUNCE_MS - (Date.now() - at)));
      };
      const listener = (pushed: string): void => {
        if (pushed === '') return finish();
        if (pushed === file) check();
      };
      const deadline = setTimeout(finish, left);
      this.#listeners.add(listener);
      // A push for this file since `after` that came before the wait began ends it after the debounce.
      check();
    });
  }

  /** What the server said of each file (pushed and pulled together). */
  diagnostics(): Map<string, LspDiagnostic[]> {
    const out = new Map<string, LspDiagnostic[]>();
    for (const file of new Set([...this.#pushed.keys(), ...this.#pulled.keys()])) out.set(file, [...(this.#pushed.get(file) ?? []), ...(this.#pulled.get(file) ?? [])]);
    return out;
  }

  /** `shutdown` and `exit`, then the process (and its group) killed if it has not ended in a moment. Bounded. */
  async shutdown(): Promise<void> {
    const wasEnded = this.#ended;
    this.#ended = true;
    if (!wasEnded) {
      await withTimeout(this.#connection.sendRequest('shutdown'), SHUTDOWN_GRACE_MS, 'shutdown').catch(() => undefined);
      await this.#connection.sendNotification('exit').catch(() => undefined);
    }
    const grace = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([this.#exited, grace]);
    // The server's own children (tsserver under typescript-language-server) go with its group.
    this.#kill();
    this.#connection.dispose();
    this.#child.stdin?.destroy();
    this.#untrack();
  }

  #kill(): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      if (process.platform !== 'win32') process.kill(-pid, 'SIGKILL');
      else this.#child.kill('SIGKILL');
    } catch {
      // Gone already (with its group).
    }
  }
}
