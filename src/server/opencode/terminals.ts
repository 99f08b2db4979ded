/**
 * The server's terminals (OpenCode's PTY sessions): a shell, or the command a client names, on a
 * real pseudo-terminal (pty-native.ts), per project. Its output goes to the WebSockets attached to
 * it (pty-socket.ts) and into a replay buffer of the last REPLAY_CHARS characters, from which a
 * client that reconnects is sent what it missed (`?cursor=`: the count of characters it has seen).
 * Frames: output as text; after the replay, a binary control frame `0x00` + `{"cursor":N}`.
 *
 * Bounded: at most MAX_TERMINALS at once and MAX_SOCKETS clients each; a client that lets more than
 * MAX_BACKLOG_BYTES pile up unsent is disconnected (1013; it may reconnect with its cursor). Ended
 * for good: on DELETE, on the shell's exit, and when the server stops, every process of the
 * terminal's session is sent SIGHUP, then SIGKILL after KILL_GRACE_MS (process-session.ts).
 * What a terminal shows or is sent is never logged.
 */
import { ascendingId } from '../../session/ids.ts';
import { HttpError } from '../http-error.ts';
import type { ServerState } from '../state.ts';
import { signalSession, sessionAlive } from './process-session.ts';
import { checkedCommand, checkedCwd } from './pty-create-input.ts';
import { ptySpawn, type NativePty } from './pty-native.ts';
import { PtyTickets } from './pty-tickets.ts';
import { loginShell, preferredShell } from './shells.ts';

/** OpenCode's Pty. */
export interface PtyInfo {
  id: string;
  title: string;
  command: string;
  args: string[];
  cwd: string;
  status: 'running' | 'exited';
  pid: number;
  exitCode?: number;
}

export interface PtyCreate {
  command?: string;
  args?: string[];
  cwd?: string;
  title?: string;
  env?: Record<string, string>;
}

export interface PtyUpdate {
  title?: string;
  size?: { rows: number; cols: number };
}

/** The part of a `ws` WebSocket a terminal uses. */
export interface PtySocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export const MAX_TERMINALS = 16;
export const MAX_SOCKETS = 8;
/** Characters of output kept for a client that connects later or reconnects (OpenCode's 2 MiB). */
export const REPLAY_CHARS = 2 * 1024 * 1024;
/** Bytes queued unsent for one client before it is disconnected. */
export const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
export const KILL_GRACE_MS = 1000;
/** The replay is sent in text frames of at most this many characters (OpenCode's). */
const REPLAY_CHUNK = 64 * 1024;
const OPEN = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The control frame: 0x00, then `{"cursor":N}`. */
function cursorFrame(cursor: number): Uint8Array {
  const json = encoder.encode(JSON.stringify({ cursor }));
  const frame = new Uint8Array(json.length + 1);
  frame.set(json, 1);
  return frame;
}

interface Terminal {
  info: PtyInfo;
  projectRoot: string;
  proc: NativePty;
  /** The last output (up to REPLAY_CHARS, trimmed in steps), which starts at character `bufferStart` of all output. */
  buffer: string;
  bufferStart: number;
  /** Characters of output so far. */
  cursor: number;
  sockets: Set<PtySocket>;
  /** Set once the terminal is gone from the list (deleted, exited, the server stopping). */
  ended: boolean;
  exited: Promise<void>;
}

export type PtyEvent = { type: 'pty.created' | 'pty.updated'; properties: { info: PtyInfo } } | { type: 'pty.exited'; properties: { id: string; exitCode: number } } | { type: 'pty.deleted'; properties: { id: string } };

function notFound(id: string): HttpError {
  return new HttpError(404, 'PTY_NOT_FOUND', `No terminal ${JSON.stringify(id.slice(0, 100))} is running in this project.`, { hint: 'GET /pty lists the project’s terminals.', details: { ptyID: id } });
}

export class Terminals {
  readonly tickets = new PtyTickets();
  readonly #terminals = new Map<string, Terminal>();
  /** The sessions (by their leader's pid) of terminals not yet ended for sure, listed or not. */
  readonly #sessions = new Set<number>();
  readonly #publish: (projectRoot: string, event: PtyEvent) => void;
  readonly #env: NodeJS.ProcessEnv;
  #closing = false;

  constructor(publish: (projectRoot: string, event: PtyEvent) => void, env: NodeJS.ProcessEnv) {
    this.#publish = publish;
    this.#env = env;
  }

  get closing(): boolean {
    return this.#closing;
  }

  list(projectRoot: string): PtyInfo[] {
    return [...this.#terminals.values()].filter((t) => t.projectRoot === projectRoot).map((t) => t.info);
  }

  /** A running terminal of the project, or a 404. */
  get(id: string, projectRoot: string): Terminal {
    if (!id.startsWith('pty')) throw new HttpError(400, 'BAD_REQUEST', `path parameter "ptyID": expected an id starting with "pty", got ${JSON.stringify(id.slice(0, 100))}.`, { hint: 'GET /pty lists the project’s terminals.', details: { field: 'ptyID' } });
    const found = this.#terminals.get(id);
    if (!found || found.projectRoot !== projectRoot) throw notFound(id);
    return found;
  }

  /** `pluginEnv`: the variables the project's plugins' `shell.env` set for the terminal's folder (over the client's `env`, as OpenCode sets them). */
  create(input: PtyCreate, where: { projectRoot: string; directory: string }, pluginEnv?: Record<string, string>): PtyInfo {
    if (this.#closing) throw new HttpError(503, 'SHUTTING_DOWN', 'The server is stopping; no new terminals.');
    if (this.#terminals.size >= MAX_TERMINALS) {
      throw new HttpError(429, 'TOO_MANY_TERMINALS', `${MAX_TERMINALS} terminals are open, as many as the server keeps.`, { hint: 'Close one (DELETE /pty/{ptyID}) or exit its shell first.' });
    }
    const cwd = checkedCwd(input, where.directory);
    // The server's environment but its password, the client's variables, and what OpenCode sets.
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#env)) if (value !== undefined && name !== 'OPENCODE_SERVER_PASSWORD') env[name] = value;
    Object.assign(env, input.env ?? {}, pluginEnv ?? {}, { TERM: 'xterm-256color', OPENCODE_TERMINAL: '1' });
    const command = checkedCommand(input.command || preferredShell(this.#env), cwd, env);
    const args = [...(input.args ?? []), ...(loginShell(command) ? ['-l'] : [])];
    const spawn = ptySpawn();
    const proc = spawn(command, args, { name: 'xterm-256color', cols: 80, rows: 24, cwd, env });
    this.#sessions.add(proc.pid);
    const id = ascendingId('pty');
    const info: PtyInfo = { id, title: input.title || `Terminal ${id.slice(-4)}`, command, args, cwd, status: 'running', pid: proc.pid };
    let exited!: () => void;
    const terminal: Terminal = { info, projectRoot: where.projectRoot, proc, buffer: '', bufferStart: 0, cursor: 0, sockets: new Set(), ended: false, exited: new Promise((resolve) => (exited = resolve)) };
    this.#terminals.set(id, terminal);
    proc.onData((chunk) => this.#output(terminal, chunk));
    proc.onExit(({ exitCode }) => {
      exited();
      info.status = 'exited';
      info.exitCode = Number.isInteger(exitCode) && exitCode >= 0 ? exitCode : 1;
      if (terminal.ended) return;
      this.#publish(terminal.projectRoot, { type: 'pty.exited', properties: { id, exitCode: info.exitCode } });
      void this.#end(terminal);
    });
    this.#publish(where.projectRoot, { type: 'pty.created', properties: { info } });
    return info;
  }

  update(id: string, projectRoot: string, input: PtyUpdate): PtyInfo {
    const terminal = this.get(id, projectRoot);
    if (input.title) terminal.info.title = input.title;
    if (input.size) {
      try {
        terminal.proc.resize(input.size.cols, input.size.rows);
      } catch {
        // The shell exited a moment ago (its exit is on its way): nothing left to resize.
      }
    }
    this.#publish(projectRoot, { type: 'pty.updated', properties: { info: terminal.info } });
    return terminal.info;
  }

  remove(id: string, projectRoot: string): void {
    void this.#end(this.get(id, projectRoot));
  }

  /** Attaches a client: what it missed since `cursor` (-1: nothing, none: all that is kept), the cursor frame, then the output as it comes. */
  attach(terminal: Terminal, socket: PtySocket, cursor: number | undefined): void {
    const end = terminal.cursor;
    const from = cursor === -1 ? end : cursor !== undefined && cursor >= 0 ? cursor : 0;
    let replay = from >= end ? '' : terminal.buffer.slice(Math.max(0, from - terminal.bufferStart));
    if (replay.length > REPLAY_CHARS) replay = replay.slice(-REPLAY_CHARS);
    for (let i = 0; i < replay.length; i += REPLAY_CHUNK) socket.send(replay.slice(i, i + REPLAY_CHUNK));
    socket.send(cursorFrame(end));
    terminal.sockets.add(socket);
    // A frame ws refuses (over MAX_INPUT_BYTES: it closes with 1009) is the client's fault, not the server's.
    socket.on('error', () => terminal.sockets.delete(socket));
    socket.on('message', (data, isBinary) => {
      if (terminal.info.status !== 'running' || terminal.ended) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      let text: string;
      try {
        text = isBinary ? decoder.decode(bytes) : bytes.toString('utf8');
      } catch {
        // Not UTF-8: nothing a terminal can be typed.
        return;
      }
      try {
        terminal.proc.write(text);
      } catch {
        // The shell exited a moment ago: its exit closes this socket.
      }
    });
    socket.on('close', () => terminal.sockets.delete(socket));
  }

  /** Whether the terminal takes another client. */
  full(terminal: Terminal): boolean {
    return terminal.sockets.size >= MAX_SOCKETS;
  }

  /** Kills every process of every terminal at once (the process is exiting without a graceful stop: a second signal, a crash). */
  killNow(): void {
    for (const sid of this.#sessions) signalSession(sid, 'SIGKILL');
  }

  /** Ends every terminal (the server is stopping): resolves once their processes are gone (SIGKILL after the grace). */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#terminals.values()].map((t) => this.#end(t, 1001, 'server closing')));
  }

  #output(terminal: Terminal, chunk: string): void {
    terminal.cursor += chunk.length;
    for (const socket of terminal.sockets) {
      if (socket.readyState !== OPEN) {
        terminal.sockets.delete(socket);
        continue;
      }
      socket.send(chunk);
      if (socket.bufferedAmount > MAX_BACKLOG_BYTES) {
        terminal.sockets.delete(socket);
        socket.close(1013, 'reading too slowly; reconnect with ?cursor= to resume');
      }
    }
    terminal.buffer += chunk;
    // Trimmed once it is a quarter over, not at every chunk (each trim copies the buffer).
    if (terminal.buffer.length > REPLAY_CHARS + REPLAY_CHARS / 4) {
      const excess = terminal.buffer.length - REPLAY_CHARS;
      terminal.buffer = terminal.buffer.slice(excess);
      terminal.bufferStart += excess;
    }
  }

  /** Takes a terminal off the list (`pty.deleted`), closes its clients, and ends its processes. */
  async #end(terminal: Terminal, code = 1000, reason = ''): Promise<void> {
    if (!terminal.ended) {
      terminal.ended = true;
      this.#terminals.delete(terminal.info.id);
      this.#publish(terminal.projectRoot, { type: 'pty.deleted', properties: { id: terminal.info.id } });
      for (const socket of terminal.sockets) socket.close(code, reason);
      terminal.sockets.clear();
      terminal.buffer = '';
    }
    const sid = terminal.info.pid;
    signalSession(sid, 'SIGHUP');
    // Not unref'd: a stopping server waits for it (with nothing else left, the process would exit before the SIGKILL).
    const grace = new Promise<void>((resolve) => setTimeout(resolve, KILL_GRACE_MS));
    await Promise.race([terminal.exited.then(() => (sessionAlive(sid) ? grace : undefined)), grace]);
    if (sessionAlive(sid)) signalSession(sid, 'SIGKILL');
    this.#sessions.delete(sid);
  }
}

/** The server's terminals, made on first use. */
export function terminalsOf(state: ServerState): Terminals {
  if (!state.terminals) {
    const made = (state.terminals = new Terminals((projectRoot, event) => state.events.announce(projectRoot, event), state.host.env));
    // A process that exits without closing the server (a second SIGTERM, a crash) leaves no shell behind either.
    process.once('exit', () => made.killNow());
  }
  return state.terminals;
}
