/**
 * OpenCode's v2 catalogue routes (`@opencode-ai/sdk/v2`'s `v2.*.list`), what its TUI asks for when it
 * attaches: the location, the agents, providers and models of the config (the same views as `GET
 * /agent` and `GET /provider`, secrets masked), the skills the `skill` tool loads, the providers one
 * may connect, and the references (none: Pantheon has no references). Each answers `{location, data}`.
 */
import { readAuthStoreFile, type AuthEntry } from '../../auth/store.ts';
import { authFile } from '../../paths.ts';
import { agentsV2, integrationsV2, modelsV2, providersV2, SKILL_LISTING_NOTE, skillsWithContent } from '../opencode/catalog-v2.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import type { Instance } from '../../core/instances.ts';
import { LOCATION_QUERY, locationOf, v2Instance } from './opencode-project.ts';
import { HttpError } from '../http-error.ts';

const str: JsonSchema = { type: 'string' };
const num: JsonSchema = { type: 'number' };
const obj = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ type: 'object', properties, required });
const record: JsonSchema = { type: 'object' };
const request = obj({ headers: { type: 'object', additionalProperties: str }, body: record }, ['headers', 'body']);
const api = obj({ type: { type: 'string', enum: ['aisdk', 'native'] }, package: str, url: str, settings: record }, ['type']);
const badRequest = { 400: { description: 'InvalidRequestError (a folder that does not exist)', schema: ref('V2Error') } };

/** A `{location, data: [...]}` route. */
function list(path: string, operationId: string, summary: string, description: string, item: JsonSchema, data: (instance: Instance, c: ServerContext) => unknown[] | Promise<unknown[]>): RouteDef {
  return {
    method: 'get',
    path,
    operationId,
    summary: `${summary} (OpenCode’s v2 API)`,
    description,
    query: LOCATION_QUERY,
    responses: { 200: { description: '{location, data}', schema: obj({ location: ref('LocationInfo'), data: { type: 'array', items: item } }, ['location', 'data']) }, ...badRequest },
    handler: async (c) => {
      const instance = await v2Instance(c);
      return c.json({ location: locationOf(instance), data: await data(instance, c) });
    },
  };
}

function authEntries(env: NodeJS.ProcessEnv): Record<string, AuthEntry> {
  try {
    return readAuthStoreFile(authFile(env)).entries;
  } catch {
    // An unreadable store (doctor says why) connects nothing.
    return {};
  }
}

export const openCodeV2CatalogRoutes: RouteGroup = {
  name: 'opencode-v2-catalog',
  description: 'OpenCode’s v2 lists of the config’s agents, providers, models and skills, as its TUI asks for them.',
  schemas: {
    LocationInfo: obj({ directory: str, workspaceID: str, project: obj({ id: str, directory: str }, ['id', 'directory']) }, ['directory', 'project']),
    AgentV2Info: obj(
      {
        id: str,
        model: obj({ id: str, providerID: str, variant: str }, ['id', 'providerID']),
        request,
        system: str,
        description: str,
        mode: { type: 'string', enum: ['subagent', 'primary', 'all'] },
        hidden: { type: 'boolean' },
        color: str,
        steps: num,
        permissions: { type: 'array', items: obj({ action: str, resource: str, effect: { type: 'string', enum: ['allow', 'deny', 'ask'] } }, ['action', 'resource', 'effect']) },
      },
      ['id', 'request', 'mode', 'hidden', 'permissions'],
    ),
    ProviderV2Info: obj({ id: str, name: str, api, request }, ['id', 'name', 'api', 'request']),
    ModelV2Info: obj(
      {
        id: str,
        providerID: str,
        name: str,
        api: obj({ id: str, type: { type: 'string', enum: ['aisdk', 'native'] }, package: str, url: str, settings: record }, ['id', 'type']),
        capabilities: obj({ tools: { type: 'boolean' }, input: { type: 'array', items: str }, output: { type: 'array', items: str } }, ['tools', 'input', 'output']),
        request,
        variants: { type: 'array', items: obj({ id: str, headers: record, body: record }, ['id', 'headers', 'body']) },
        time: obj({ released: num }, ['released']),
        cost: { type: 'array', items: obj({ input: num, output: num, cache: obj({ read: num, write: num }, ['read', 'write']) }, ['input', 'output', 'cache']) },
        status: { type: 'string', enum: ['alpha', 'beta', 'deprecated', 'active'] },
        enabled: { type: 'boolean' },
        limit: obj({ context: num, input: num, output: num }, ['context', 'output']),
      },
      ['id', 'providerID', 'name', 'api', 'capabilities', 'request', 'variants', 'time', 'cost', 'status', 'enabled', 'limit'],
    ),
    SkillV2Info: obj({ name: str, description: str, slash: { type: 'boolean' }, location: str, content: str }, ['name', 'location', 'content']),
    ReferenceInfo: obj({ name: str, path: str, description: str, hidden: { type: 'boolean' }, source: record }, ['name', 'path', 'source']),
    IntegrationInfo: obj(
      {
        id: str,
        name: str,
        methods: { type: 'array', items: obj({ type: { type: 'string', enum: ['key', 'env', 'oauth'] }, names: { type: 'array', items: str } }, ['type']) },
        connections: { type: 'array', items: obj({ type: { type: 'string', enum: ['credential', 'env'] }, id: str, label: str, name: str }, ['type']) },
      },
      ['id', 'name', 'methods', 'connections'],
    ),
  },
  routes: [
    {
      method: 'get',
      path: '/api/location',
      operationId: 'v2.location.get',
      summary: 'Where a request runs (OpenCode’s v2 API)',
      description: 'The folder and its project.',
      query: LOCATION_QUERY,
      responses: { 200: { description: 'Location', schema: ref('LocationInfo') }, ...badRequest },
      handler: async (c) => c.json(locationOf(await v2Instance(c))),
    },
    list('/api/agent', 'v2.agent.list', 'List agents', 'The agents of `GET /agent` (the default one first), their options masked as in /config; `temperature` and `topP` in `request.body`.', ref('AgentV2Info'), (instance) => agentsV2(instance.config, instance.loaded.leftByPlugins)),
    list('/api/provider', 'v2.provider.list', 'List providers', 'The providers of `GET /config/providers`; options but the address and headers in `api.settings`; keys and secret headers masked.', ref('ProviderV2Info'), (instance, c) => providersV2(instance.config, c.get('state').host.env)),
    {
      method: 'get',
      path: '/api/provider/{providerID}',
      operationId: 'v2.provider.get',
      summary: 'Get a provider (OpenCode’s v2 API)',
      description: 'One provider of `GET /api/provider`, as `{location, data}`; an unknown one is a 404 `ProviderNotFoundError`.',
      params: { providerID: { description: 'The provider’s id (GET /api/provider lists them)' } },
      query: LOCATION_QUERY,
      responses: { 200: { description: '{location, data}', schema: obj({ location: ref('LocationInfo'), data: ref('ProviderV2Info') }, ['location', 'data']) }, 400: { description: 'InvalidRequestError (a folder that does not exist)', schema: ref('V2Error') }, 404: { description: 'ProviderNotFoundError', schema: ref('V2Error') } },
      handler: async (c, { params }) => {
        const id = params.providerID as string;
        const instance = await v2Instance(c);
        const found = (await providersV2(instance.config, c.get('state').host.env)).find((p) => p.id === id);
        if (!found) {
          const shown = JSON.stringify(id.length > 200 ? `${id.slice(0, 200)}…` : id);
          throw new HttpError(404, 'PROVIDER_NOT_FOUND', `No provider ${shown} in this folder’s config or catalogue.`, { hint: 'GET /api/provider lists the providers.', details: { providerID: id } });
        }
        return c.json({ location: locationOf(instance), data: found });
      },
    },
    list('/api/model', 'v2.model.list', 'List models', 'Every model of `GET /config/providers`, with its limits, prices and variants.', ref('ModelV2Info'), (instance, c) => modelsV2(instance.config, c.get('state').host.env)),
    list('/api/skill', 'v2.skill.list', 'List skills', `The skills the \`skill\` tool can load in the folder, each with its instructions (the SKILL.md’s body). ${SKILL_LISTING_NOTE}`, ref('SkillV2Info'), (instance, c) => skillsWithContent(instance, c.get('state').host.env)),
    list('/api/reference', 'v2.reference.list', 'List references', 'Always `[]`: Pantheon has no references.', ref('ReferenceInfo'), () => []),
    list(
      '/api/integration',
      'v2.integration.list',
      'List integrations',
      'The providers one may connect (the config’s, then the catalogue’s): each by an API key (`PUT /auth/{providerID}`) or its environment variables; `connections` says where its key is found now (`env`, or `credential` for OpenCode’s auth.json). No OAuth logins.',
      ref('IntegrationInfo'),
      (instance, c) => {
        const env = c.get('state').host.env;
        return integrationsV2(instance.config, env, authEntries(env));
      },
    ),
  ],
};
