/** OpenCode's read-only routes about the project: paths, project, config (masked), providers, agents. */
import os from 'node:os';
import { credentialFor, providerInfo } from '../../auth/providers.ts';
import { readAuthStoreFile, type AuthEntry } from '../../auth/store.ts';
import { maskConfig } from '../../config/mask.ts';
import type { Config } from '../../config/schema-types.ts';
import { authFile, globalConfigDir, stateDir } from '../../paths.ts';
import { agentsView, projectId } from '../opencode/catalog-view.ts';
import { offeredProvidersView } from '../opencode/offered-view.ts';
import { readProjectRecords, type ProjectRecord } from '../opencode/project-records.ts';
import { OPENCODE_SCHEMAS } from '../opencode/schemas.ts';
import { gitCheckout } from '../opencode/vcs.ts';
import { ref, type ParamDoc, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { instanceFor } from '../state.ts';

export const DIRECTORY_QUERY: Record<string, ParamDoc> = {
  directory: { description: 'Project folder (also the x-opencode-directory header); default: the server’s working directory' },
};

/** The instance of the request's directory (header or query). */
export function requestInstance(c: ServerContext) {
  return instanceFor(c.get('state'), c.req.header('x-opencode-directory'), c.req.query('directory'));
}

function get(path: string, operationId: string, summary: string, schema: RouteDef['responses'][number]['schema'], handler: RouteDef['handler']): RouteDef {
  return { method: 'get', path, operationId, summary, query: DIRECTORY_QUERY, responses: { 200: { description: summary, ...(schema ? { schema } : {}) }, 400: { description: 'Bad request (a directory that does not exist)', schema: ref('Error') } }, handler };
}

/**
 * The providers OpenCode would count as connected: those the config declares, those served from
 * this machine, those with a key (config, OpenCode's auth.json, environment) and those with any
 * other entry in auth.json (an OAuth login). A model ref to a
 * well-known provider with no key anywhere is listed but not connected, so the TUI offers to connect it.
 */
function connectedProviders(config: Config, providers: readonly { id: string }[], env: NodeJS.ProcessEnv): string[] {
  let entries: Record<string, AuthEntry>;
  try {
    entries = readAuthStoreFile(authFile(env)).entries;
  } catch {
    // An unreadable store (doctor says why) connects nothing by itself.
    entries = {};
  }
  return providers
    .filter(({ id }) => {
      if (config.provider && Object.hasOwn(config.provider, id)) return true;
      const info = providerInfo(config, id);
      // Any entry of auth.json connects its provider, as in OpenCode (an OAuth login a plugin's auth hook uses).
      return (info !== undefined && !info.needsKey) || Object.hasOwn(entries, id) || credentialFor(config, id, env, entries).source !== 'none';
    })
    .map((p) => p.id);
}

/**
 * OpenCode's Project of a project folder: its name, icon and start command as `PATCH
 * /project/{projectID}` set them (`records`: readProjectRecords'); created at the server's start,
 * updated then or at the last such change.
 */
export async function projectView(projectRoot: string, at: number, records: Record<string, ProjectRecord>): Promise<object> {
  const id = projectId(projectRoot);
  const { git } = await gitCheckout(projectRoot);
  const record = Object.hasOwn(records, id) ? records[id] : undefined;
  const kept = record ? { ...(record.name !== undefined ? { name: record.name } : {}), ...(record.icon ? { icon: record.icon } : {}), ...(record.commands ? { commands: record.commands } : {}) } : {};
  return { id, worktree: projectRoot, ...(git ? { vcs: 'git' } : {}), ...kept, time: { created: at, updated: Math.max(at, record?.updated ?? 0) }, sandboxes: [] };
}

export const openCodeAppRoutes: RouteGroup = {
  name: 'opencode',
  description: "OpenCode's server API (what @opencode-ai/sdk v1 and v2 clients call).",
  schemas: OPENCODE_SCHEMAS,
  routes: [
    get('/path', 'path.get', 'Get paths', ref('Path'), async (c) => {
      const state = c.get('state');
      const instance = await requestInstance(c);
      return c.json({ home: os.homedir(), state: stateDir(state.host.env), config: globalConfigDir(state.host.env), worktree: instance.projectRoot, directory: instance.directory });
    }),
    get('/project/current', 'project.current', 'Get the current project', ref('Project'), async (c) => {
      const instance = await requestInstance(c);
      const host = c.get('state').host;
      return c.json(await projectView(instance.projectRoot, host.startedAt, await readProjectRecords(host.env)));
    }),
    get('/config', 'config.get', 'Get the merged config (secrets masked; `share` is always "disabled": Pantheon does not share sessions)', { type: 'object' }, async (c) => {
      const instance = await requestInstance(c);
      // OpenCode's apps leave their share command out when sharing is disabled.
      return c.json({ ...(maskConfig(instance.config) as object), share: 'disabled' });
    }),
    get('/config/providers', 'config.providers', 'List providers and their default models', { type: 'object', properties: { providers: { type: 'array', items: ref('Provider') }, default: { type: 'object' } } }, async (c) => {
      const instance = await requestInstance(c);
      return c.json(await offeredProvidersView(instance.config, c.get('state').host.env));
    }),
    get('/provider', 'provider.list', 'List providers', { type: 'object', properties: { all: { type: 'array', items: ref('Provider') }, default: { type: 'object' }, connected: { type: 'array', items: { type: 'string' } } } }, async (c) => {
      const instance = await requestInstance(c);
      const env = c.get('state').host.env;
      const view = await offeredProvidersView(instance.config, env);
      return c.json({ all: view.providers, default: view.default, connected: connectedProviders(instance.config, view.providers, env) });
    }),
    get('/agent', 'app.agents', 'List agents', { type: 'array', items: ref('Agent') }, async (c) => {
      const instance = await requestInstance(c);
      return c.json(agentsView(instance.config, instance.loaded.leftByPlugins));
    }),
  ],
};
