/**
 * A request's `agent` field (a session created for it, a prompt sent with it): refused with a 400
 * that names the field and the agents there are, when it is not an enabled agent of the project
 * (nor one a plugin's config hook replaced: `replaced`, the instance's `loaded.leftByPlugins`);
 * and its `model` field, when no provider or model of that name is declared or known.
 */
import { unknownAgent, type ReplacedAgents } from '../agents/resolve-agent.ts';
import type { Config } from '../config/schema-types.ts';
import { isPantheonError } from '../errors.ts';
import { resolveModel } from '../providers/resolve-model.ts';
import { HttpError } from './http-error.ts';

export function checkAgentField(config: Config, name: string, replaced?: ReplacedAgents): void {
  const unknown = unknownAgent(config, name, 'agent', replaced);
  if (unknown) throw new HttpError(400, 'UNKNOWN_AGENT', unknown.message, { ...(unknown.hint ? { hint: unknown.hint } : {}), details: { field: 'agent' } });
}

/** A body's `model` (`provider/model`) that names no model the project has: a 400 naming `model`, before anything is stored or run. */
export function checkModelField(config: Config, ref: string, env: NodeJS.ProcessEnv): void {
  try {
    resolveModel(config, ref, { env }, 'model');
  } catch (error) {
    if (!isPantheonError(error) || (error.code !== 'UNKNOWN_MODEL' && error.code !== 'UNKNOWN_PROVIDER')) throw error;
    throw new HttpError(400, error.code, error.message, { ...(error.hint ? { hint: error.hint } : {}), details: { field: 'model' } });
  }
}
