/**
 * OpenCode's v2 routes that connect a provider (`@opencode-ai/sdk/v2`'s `v2.integration.*` and
 * `v2.credential.*`): one integration of `GET /api/integration`, connecting it by an API key, and
 * relabelling or removing the credential. Keys go to OpenCode's auth.json, the store of `PUT
 * /auth/{providerID}` and `opencode auth login` (credentials-v2.ts), and are never answered back.
 * The OAuth routes are refused with one sentence: Pantheon connects providers by API key. Errors in
 * v2's shape (`{_tag, message}`); each change is published as OpenCode does
 * (`integration.connection.updated`, then `integration.updated`).
 */
import { readAuthStoreFile, type AuthEntry } from '../../auth/store.ts';
import { providerInfo } from '../../auth/providers.ts';
import { authFile } from '../../paths.ts';
import { HttpError } from '../http-error.ts';
import { integrationsV2 } from '../opencode/catalog-v2.ts';
import { announceCredentialChange, connectKey, noOAuth, OAUTH_HINT, PROVIDER_ID, providerOfCredential, relabel, removeCredential } from '../opencode/credentials-v2.ts';
import { v2Error } from '../opencode/v2-error.ts';
import { ref, type JsonSchema, type ParamDoc, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { LOCATION_QUERY, locationOf, v2Instance } from './opencode-project.ts';

const str: JsonSchema = { type: 'string' };
const obj = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ type: 'object', properties, required, additionalProperties: false });
const INTEGRATION: Record<string, ParamDoc> = { integrationID: { description: 'A provider’s id (an `id` of GET /api/integration)' } };
const ATTEMPT: Record<string, ParamDoc> = { attemptID: { description: 'An OAuth attempt’s id (Pantheon never starts one)' } };
const CREDENTIAL: Record<string, ParamDoc> = { credentialID: { description: 'A credential’s id, `cred_<providerID>` (a `connections[].id` of GET /api/integration)' } };
const LABEL: JsonSchema = { type: 'string', maxLength: 200, description: 'A name for the credential (at most 200 characters; `""`: the default, `default`)' };
const INVALID = { 400: { description: 'Bad request (the field is named; OpenCode’s InvalidRequestError)', schema: ref('V2Error') } };
const REFUSED = { 400: { description: 'v2 has no OAuth connections here (InvalidRequestError, with a hint)', schema: ref('V2Error') } };
const NOT_FOUND = { 404: { description: 'No such integration or credential (NotFoundError, with a hint)', schema: ref('V2Error') } };
const DONE = { 204: { description: 'Done' } };

function integrationIdOf(c: ServerContext): string {
  const id = c.req.param('integrationID') ?? '';
  if (!PROVIDER_ID.test(id)) throw new HttpError(400, 'BAD_REQUEST', 'path parameter "integrationID": expected a provider id (letters, digits, ".", "_", "-"; at most 100).', { hint: 'GET /api/integration lists the ids.', details: { field: 'integrationID', kind: 'Path' } });
  return id;
}

function storeEntries(env: NodeJS.ProcessEnv): Record<string, AuthEntry> {
  try {
    return readAuthStoreFile(authFile(env)).entries;
  } catch {
    // An unreadable store (doctor says why) connects nothing.
    return {};
  }
}

/** A v2 OAuth route, refused: v2 connects providers by API key (the built-in logins run through v1's routes). */
function oauthRefused(method: RouteDef['method'], path: string, operationId: string, summary: string, extra: Partial<RouteDef>): RouteDef {
  const route = `${method.toUpperCase()} ${path}`;
  return {
    method,
    path,
    operationId,
    summary: `${summary} (refused: no OAuth connections in v2)`,
    description: `Always a 400 (InvalidRequestError): v2 has no OAuth connections here; providers connect by API key (POST /api/integration/{integrationID}/connect/key, PUT /auth/{providerID}, \`opencode auth login\`), and the built-in GitHub Copilot and ChatGPT logins run through POST /provider/{providerID}/oauth/authorize or \`opencode auth login\`.`,
    query: LOCATION_QUERY,
    responses: REFUSED,
    ...extra,
    handler: async (c) => {
      await v2Instance(c);
      throw new HttpError(400, 'BAD_REQUEST', noOAuth(route), { hint: OAUTH_HINT, details: { kind: 'integration_authorization' } });
    },
  };
}

export const openCodeIntegrationRoutes: RouteGroup = {
  name: 'opencode-v2-integration',
  description: 'OpenCode’s v2 provider connections: one integration, connecting it by an API key (OpenCode’s auth.json); OAuth refused.',
  prefix: '/api/integration',
  renderError: (error) => v2Error(error),
  routes: [
    {
      method: 'get',
      path: '/api/integration/{integrationID}',
      operationId: 'v2.integration.get',
      summary: 'Get an integration (OpenCode’s v2 API)',
      description: 'One item of GET /api/integration: its key and environment methods and its connections (the stored credential, the variable set). `data: null` for an id that is not one of them, as in OpenCode.',
      params: INTEGRATION,
      query: LOCATION_QUERY,
      responses: { 200: { description: '{location, data}', schema: { type: 'object', properties: { location: ref('LocationInfo'), data: { anyOf: [ref('IntegrationInfo'), { type: 'null' }] } }, required: ['location', 'data'] } }, ...INVALID },
      handler: async (c) => {
        const id = integrationIdOf(c);
        const instance = await v2Instance(c);
        const env = c.get('state').host.env;
        const found = integrationsV2(instance.config, env, storeEntries(env)).find((i) => i.id === id);
        return c.json({ location: locationOf(instance), data: found ?? null });
      },
    },
    {
      method: 'post',
      path: '/api/integration/{integrationID}/connect/key',
      operationId: 'v2.integration.connect.key',
      summary: 'Connect an integration by API key (OpenCode’s v2 API)',
      description:
        'Stores `key` in OpenCode’s auth.json (0600, written atomically, every other entry kept), where `PUT /auth/{providerID}` and `opencode auth login` put keys: requests use it from then on. The provider’s one credential, `cred_<providerID>`, is replaced, with `label` (default `default`). The key is checked as `opencode auth login` checks it and never answered back. An id that is not an integration is a 404.',
      params: INTEGRATION,
      query: LOCATION_QUERY,
      body: obj({ key: { type: 'string', maxLength: 65_536, description: 'The API key: one printable word' }, label: LABEL }, ['key']),
      responses: { ...DONE, ...INVALID, ...NOT_FOUND },
      handler: async (c, { body }) => {
        const id = integrationIdOf(c);
        const instance = await v2Instance(c);
        if (!providerInfo(instance.config, id)) {
          throw new HttpError(404, 'NOT_FOUND', `No integration "${id}": it is neither a provider of the config nor one Pantheon knows.`, {
            hint: 'GET /api/integration lists them; another provider must be declared under "provider" in opencode.json first.',
          });
        }
        const given = body as { key: string; label?: string };
        await connectKey(authFile(c.get('state').host.env), id, given.key, given.label);
        announceCredentialChange(c, instance.projectRoot, id);
        return c.body(null, 204);
      },
    },
    oauthRefused('post', '/api/integration/{integrationID}/connect/oauth', 'v2.integration.connect.oauth', 'Begin an OAuth connection', {
      params: INTEGRATION,
      body: obj({ methodID: str, inputs: { type: 'object', additionalProperties: str }, label: str }),
      bodyOptional: true,
    }),
    oauthRefused('get', '/api/integration/attempt/{attemptID}', 'v2.integration.attempt.status', 'Get an OAuth attempt’s status', { params: ATTEMPT }),
    oauthRefused('delete', '/api/integration/attempt/{attemptID}', 'v2.integration.attempt.cancel', 'Cancel an OAuth attempt', { params: ATTEMPT }),
    oauthRefused('post', '/api/integration/attempt/{attemptID}/complete', 'v2.integration.attempt.complete', 'Complete an OAuth attempt', { params: ATTEMPT, body: obj({ code: str }), bodyOptional: true }),
  ],
};

export const openCodeCredentialRoutes: RouteGroup = {
  name: 'opencode-v2-credential',
  description: 'OpenCode’s v2 stored credentials: the API keys of OpenCode’s auth.json, relabelled or removed.',
  prefix: '/api/credential',
  renderError: (error) => v2Error(error),
  routes: [
    {
      method: 'patch',
      path: '/api/credential/{credentialID}',
      operationId: 'v2.credential.update',
      summary: 'Relabel a credential (OpenCode’s v2 API)',
      description: 'Sets the label of a stored API key (kept in its auth.json entry’s `metadata`; the key is untouched). `""` puts back the default, `default`. A credential that is not stored is a 404.',
      params: CREDENTIAL,
      query: LOCATION_QUERY,
      body: obj({ label: LABEL }, ['label']),
      responses: { ...DONE, ...INVALID, ...NOT_FOUND },
      handler: async (c, { params, body }) => {
        const instance = await v2Instance(c);
        const id = params.credentialID as string;
        await relabel(authFile(c.get('state').host.env), id, (body as { label: string }).label);
        announceCredentialChange(c, instance.projectRoot, providerOfCredential(id));
        return c.body(null, 204);
      },
    },
    {
      method: 'delete',
      path: '/api/credential/{credentialID}',
      operationId: 'v2.credential.remove',
      summary: 'Remove a credential (OpenCode’s v2 API)',
      description: 'Removes a stored API key from OpenCode’s auth.json (as `DELETE /auth/{providerID}`); requests fall back to the provider’s environment variable, if set. A credential that is not stored is a 404.',
      params: CREDENTIAL,
      query: LOCATION_QUERY,
      responses: { ...DONE, ...INVALID, ...NOT_FOUND },
      handler: async (c, { params }) => {
        const instance = await v2Instance(c);
        const id = params.credentialID as string;
        await removeCredential(authFile(c.get('state').host.env), id);
        announceCredentialChange(c, instance.projectRoot, providerOfCredential(id));
        return c.body(null, 204);
      },
    },
  ],
};
