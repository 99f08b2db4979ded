/**
 * Drives `opencode acp` (the built CLI, as an editor runs it) with the ACP SDK's own client: a child
 * process whose stdin and stdout are the protocol, every `session/update` kept, permission questions
 * answered by the test's `permission` handler. `lines()` is every line of stdout, to check that
 * nothing but JSON-RPC reached it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { client, ndJsonStream, type ClientConnection, type RequestPermissionRequest, type RequestPermissionResponse, type SessionNotification } from '@agentclientprotocol/sdk';
import { BIN, type Sandbox } from '../cli/cli-helper.ts';

export interface AcpProcess {
  child: ChildProcess;
  conn: ClientConnection;
  updates: SessionNotification[];
  /** Answers `session/request_permission` (default: reject). */
  permission: (request: RequestPermissionRequest) => RequestPermissionResponse | Promise<RequestPermissionResponse>;
  asked: RequestPermissionRequest[];
  stderr: () => string;
  /** Everything written to stdout so far (the protocol's bytes, including what the SDK read). */
  stdout: () => string;
  /** Resolves when an update matching `test` has come. */
  waitForUpdate: (test: (n: SessionNotification) => boolean) => Promise<SessionNotification>;
  /** Closes stdin (the editor going away) and resolves with the exit code. */
  close: () => Promise<number | null>;
  exited: Promise<number | null>;
}

export function startAcp(sb: Sandbox, args: string[] = [], options: { capabilities?: Record<string, unknown> } = {}): AcpProcess {
  const child = spawn(process.execPath, [BIN, 'acp', ...args], { cwd: sb.project, env: sb.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // A copy of stdout for the test, and the stream the SDK reads.
  const out = new Readable({ read() {} });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    out.push(chunk);
  });
  child.stdout?.on('end', () => out.push(null));
  child.stdin?.on('error', () => undefined);
  const updates: SessionNotification[] = [];
  const waiters: { test: (n: SessionNotification) => boolean; resolve: (n: SessionNotification) => void }[] = [];
  const asked: RequestPermissionRequest[] = [];
  const proc: AcpProcess = {
    child,
    conn: undefined as unknown as ClientConnection,
    updates,
    asked,
    permission: () => ({ outcome: { outcome: 'selected', optionId: 'reject' } }),
    stderr: () => stderr,
    stdout: () => stdout,
    waitForUpdate: (test) =>
      new Promise((resolve, reject) => {
        const found = updates.find(test);
        if (found) return resolve(found);
        waiters.push({ test, resolve });
        void exited.then((code) => reject(new Error(`opencode acp exited (${String(code)}) before the update came:\n${stderr}`)));
      }),
    close: async () => {
      child.stdin?.end();
      return exited;
    },
    exited,
  };
  const app = client({ name: 'test-editor' })
    .onNotification('session/update', ({ params }) => {
      updates.push(params);
      for (const w of waiters.filter((x) => x.test(params))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(params);
      }
    })
    .onRequest('session/request_permission', async ({ params }) => {
      asked.push(params);
      return proc.permission(params);
    });
  proc.conn = app.connect(ndJsonStream(Writable.toWeb(child.stdin as Writable) as WritableStream<Uint8Array>, Readable.toWeb(out) as unknown as ReadableStream<Uint8Array>));
  void options;
  return proc;
}

/** Initializes the connection as an editor does (capabilities: Zed's file system ones). */
export async function initialize(p: AcpProcess, capabilities: Record<string, unknown> = {}) {
  return p.conn.agent.request('initialize', { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, ...capabilities } });
}

/** The text of a session's updates of one kind, joined. */
export function textOf(updates: readonly SessionNotification[], kind: 'agent_message_chunk' | 'agent_thought_chunk' | 'user_message_chunk', sessionId?: string): string {
  return updates
    .filter((n) => (sessionId === undefined || n.sessionId === sessionId) && n.update.sessionUpdate === kind)
    .map((n) => {
      const content = (n.update as { content?: { type: string; text?: string } }).content;
      return content?.type === 'text' ? (content.text ?? '') : '';
    })
    .join('');
}

/** Every stdout line is one JSON-RPC 2.0 message. */
export function onlyProtocol(stdout: string): boolean {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .every((l) => {
      try {
        return (JSON.parse(l) as { jsonrpc?: unknown }).jsonrpc === '2.0';
      } catch {
        return false;
      }
    });
}
