/**
 * `opencode acp`: the host (config, scheduler, MCP servers, sessions) behind the Agent Client
 * Protocol on stdin/stdout (src/acp/acp-agent.ts). Stdout carries the protocol alone: anything
 * else written there goes to stderr. It ends when the editor closes stdin (or on SIGTERM/SIGINT):
 * turns under way are cancelled and saved as such, MCP servers stopped.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PantheonError } from '../errors.ts';
import type { AcpArgs } from './commands/acp.ts';
import { claimStdout, printErr, printWarnings } from './print.ts';
import { safeLine } from './terminal-text.ts';
import { version } from './version.ts';

/** How long turns under way may take to end once the editor has gone. */
const DRAIN_MS = 2_000;

async function projectDir(given: unknown): Promise<string> {
  const value = Array.isArray(given) ? given[given.length - 1] : given;
  if (value === undefined) return process.cwd();
  const dir = path.resolve(String(value));
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new PantheonError('USAGE', `--cwd: expected an existing folder, found "${String(value)}".`, { hint: 'Give the project folder the editor works in, or leave --cwd out to use the current one.' });
  return dir;
}

export async function acpAction(args: AcpArgs): Promise<void> {
  const cwd = await projectDir(args.cwd);
  // As OpenCode's `acp`: the client is an editor, which has no panel for the `question` tool.
  process.env.OPENCODE_CLIENT = 'acp';
  const writeOut = claimStdout();
  const [{ Host }, { acpAgent }, { acpStream }] = await Promise.all([import('../core/host.ts'), import('../acp/acp-agent.ts'), import('../acp/acp-stream.ts')]);
  const host = await Host.open({ cwd, ...(args.config ? { configPath: args.config } : {}) });
  const instance = await host.instance();
  printWarnings(instance.loaded.warnings);
  if (instance.runtime.cacheUnavailable) printErr(`${safeLine(`warning: ${instance.runtime.cacheUnavailable}`)}\n`);
  // The editor closing stdin, or a signal, is the end of the connection; anything else ending it is a failure, said.
  let expected = false;
  process.stdin.once('end', () => (expected = true));
  const input = Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
  const output = new WritableStream<Uint8Array>({ write: (chunk) => writeOut(chunk) });
  const connection = acpAgent(host, { version }).connect(acpStream(output, input));
  const stop = (signal: NodeJS.Signals) => {
    expected = true;
    process.exitCode = signal === 'SIGINT' ? 130 : 0;
    connection.close();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await connection.closed;
  const reason: unknown = connection.signal.reason;
  if (!expected) {
    process.exitCode = 1;
    printErr(`${safeLine(`acp: the connection to the editor ended: ${reason instanceof Error ? reason.message : String(reason)}.`)}\n`);
  }
  // Nothing more is read (stdin may still be open: a message over the size limit ends the connection, not the editor).
  process.stdin.destroy();
  await host.close(DRAIN_MS);
  await (await import('../mcp/process-servers.ts')).shutdownAllMcp();
}
