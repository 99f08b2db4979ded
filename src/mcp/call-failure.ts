/**
 * Tool-call failures in words the model (and the user of `mcp call`) can act on. Free of the MCP
 * SDK: connect.ts classifies the SDK's errors into McpCallError.
 */
import type { ChildExit } from './stdio-transport.ts';
import type { ServerStatus } from './types.ts';

export type CallFailureKind = 'timeout' | 'closed' | 'rejected' | 'transport';

/** A failed call: `timeout` (no answer in time), `closed` (the connection ended), `rejected` (a JSON-RPC error from the server), `transport` (could not send or reach it). */
export class McpCallError extends Error {
  readonly kind: CallFailureKind;
  constructor(kind: CallFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'McpCallError';
    this.kind = kind;
  }
}

/** "exited with code 1; stderr: …" / "was killed by SIGKILL"; `stopped`: why Pantheon stopped it, when it did. */
export function describeExit(exit: ChildExit | undefined, stderr: string, stopped?: string): string {
  const how = stopped ?? (!exit ? 'closed the connection' : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`);
  const line = stderr.split('\n').map((l) => l.trim()).filter(Boolean).at(-1);
  return line ? `${how} (stderr: ${line.length > 200 ? `${line.slice(0, 200)}…` : line})` : how;
}

export interface FailureContext {
  server: string;
  tool: string;
  timeoutMs: number;
  /** The server's status after the failure (a server that died is already marked exited). */
  state: ServerStatus;
  /** Whether a restart is still allowed. */
  mayRestart: boolean;
}

/** The error text for the model, and whether the connection is to be treated as lost. */
export function failureText(error: unknown, ctx: FailureContext): { connectionLost: boolean; text: string } {
  const kind = error instanceof McpCallError ? error.kind : 'transport';
  const message = error instanceof Error ? error.message : String(error);
  const what = `MCP tool "${ctx.tool}" of server "${ctx.server}"`;
  const restart = ctx.mayRestart ? 'it will be restarted on the next call' : 'it was restarted once already and stays down';
  switch (kind) {
    case 'timeout':
      return { connectionLost: false, text: `error: ${what} did not answer within ${ctx.timeoutMs} ms (timeout).` };
    case 'closed': {
      const how = ctx.state.state === 'exited' && ctx.state.reason ? ctx.state.reason : 'closed the connection';
      return { connectionLost: true, text: `error: MCP server "${ctx.server}" ${how} during the call to "${ctx.tool}"; ${restart}.` };
    }
    case 'rejected':
      return { connectionLost: false, text: `error: ${message}` };
    default:
      return { connectionLost: true, text: `error: ${what} could not be reached: ${message}` };
  }
}
