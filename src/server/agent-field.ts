/**
 * A request's `agent` field (a session created for it, a prompt sent with it): refused with a 400
 * that names the field and the agents there are, when it is not an enabled agent of the project.
 */
import { unknownAgent } from '../agents/resolve-agent.ts';
import type { Config } from '../config/schema-types.ts';
import { HttpError } from './http-error.ts';

export function checkAgentField(config: Config, name: string): void {
  const unknown = unknownAgent(config, name, 'agent');
  if (unknown) throw new HttpError(400, 'UNKNOWN_AGENT', unknown.message, { ...(unknown.hint ? { hint: unknown.hint } : {}), details: { field: 'agent' } });
}
