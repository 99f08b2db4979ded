/**
 * OpenCode's credential routes, what its clients call to connect a provider (the SDK's
 * `provider.auth` and `auth.set`): the ways each provider takes a credential (`GET /provider/auth`: an API key, or a
 * project plugin's login methods, run by the OAuth routes), storing one (`PUT
 * /auth/{providerID}`, the SDK's `auth.set`) and removing it (`DELETE /auth/{providerID}`). Keys go
 * to OpenCode's own `auth.json` (0600), as `opencode auth login` writes them, where every process
 * finds them: the next request of any model of the provider uses it. A key is never answered back
 * or shown in an error. Behind the server's password like every OpenCode route.
 */
import { keyProblem } from '../../auth/key.ts';
import { loginEntry } from '../../auth/login-entry.ts';
import { removeEntry, saveApiKey, updateEntry } from '../../auth/store.ts';
import { authFile } from '../../paths.ts';
import { HttpError } from '../http-error.ts';
import { isPantheonError } from '../../errors.ts';
import type { PluginHost } from '../../plugins/types.ts';
import { loginHook, pluginAuthorize, pluginCallback, pluginMethods } from '../opencode/plugin-oauth.ts';
import { providersView } from '../opencode/catalog-view.ts';
import { announceCredentialChange, noOAuthFor, OAUTH_HINT, PROVIDER_ID } from '../opencode/credentials-v2.ts';
import { ref, type JsonSchema, type ParamDoc, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const PROVIDER: Record<string, ParamDoc> = { providerID: { description: 'The provider’s id (`nvidia-nim`, `opencode`, a provider of the config)' } };

function providerIdOf(c: ServerContext): string {
  const id = c.req.param('providerID') ?? '';
  if (!PROVIDER_ID.test(id)) {
    throw new HttpError(400, 'BAD_REQUEST', 'path parameter "providerID": expected a provider id (letters, digits, ".", "_", "-"; at most 100).', { details: { field: 'providerID' } });
  }
  return id;
}

const ERRORS = { 400: { description: 'Bad request (the field is named)', schema: ref('Error') } };

/**
 * `POST /provider/{providerID}/oauth/authorize|callback`: a login through the project's plugin whose
 * `auth` hook serves the provider (opencode/plugin-oauth.ts), as OpenCode runs it; for any other
 * provider refused with OpenCode's ProviderAuthError (`ProviderAuthOauthMissing`, what OpenCode
 * answers when no OAuth login was started). OpenCode's TUI shows the error's JSON, so the sentence
 * and hint are both in it.
 */
function oauthRoute(step: 'authorize' | 'callback', summary: string, body: JsonSchema): RouteDef {
  const path = `/provider/{providerID}/oauth/${step}`;
  return {
    method: 'post',
    path,
    operationId: `provider.oauth.${step}`,
    summary,
    description:
      step === 'authorize'
        ? 'For a provider a plugin’s `auth` hook logs in to (a project plugin’s, or the built-in GitHub Copilot login): runs its `oauth` method `method` (an index of `GET /provider/auth`’s list) with the prompts’ `inputs`, and answers `{url, method: "auto"|"code", instructions}` (`null` for an `api` method); a prompt’s check that refuses is `ProviderAuthValidationFailed`. For other providers a 400 (`ProviderAuthOauthMissing`).'
        : 'Finishes the login `authorize` started (`code`: what the page showed, for a `code` method) and stores it in auth.json under the provider; `true`. `ProviderAuthOauthMissing` when none was started, `ProviderAuthOauthCodeMissing` without the code a `code` method needs, `ProviderAuthOauthCallbackFailed` when the plugin reports a failure.',
    params: PROVIDER,
    query: DIRECTORY_QUERY,
    body,
    bodyOptional: true,
    responses: { 200: { description: 'The login started, or stored', schema: { type: 'object' } }, 400: { description: 'Refused (ProviderAuthError), or a bad request', schema: ref('ProviderAuthError') } },
    handler: async (c, parsed) => {
      const providerID = providerIdOf(c);
      const instance = await requestInstance(c);
      await instance.plugins?.loadBuiltins?.(providerID);
      const hook = loginHook(instance.plugins, providerID);
      if (!hook || !instance.plugins) {
        return c.json({ name: 'ProviderAuthOauthMissing', data: { providerID, message: noOAuthFor(`POST /provider/${providerID}/oauth/${step}`, providerID), hint: OAUTH_HINT } }, 400);
      }
      const given = (parsed.body ?? {}) as { method?: unknown; inputs?: unknown; code?: unknown };
      if (step === 'callback') {
        const code = typeof given.code === 'string' ? given.code : undefined;
        const refused = await pluginCall(() => pluginCallback(instance.plugins as PluginHost, providerID, code, authFile(c.get('state').host.env)));
        if (refused) return c.json({ name: refused.error, data: refused.data }, 400);
        announceCredentialChange(c, instance.projectRoot, providerID);
        return c.json(true);
      }
      if (typeof given.method !== 'number' || !Number.isInteger(given.method) || given.method < 0) {
        throw new HttpError(400, 'BAD_REQUEST', 'body field "method": expected the index of a login method of GET /provider/auth.', { details: { field: 'method' } });
      }
      const inputs = given.inputs && typeof given.inputs === 'object' && !Array.isArray(given.inputs) ? (Object.fromEntries(Object.entries(given.inputs).filter((e) => typeof e[1] === 'string')) as Record<string, string>) : undefined;
      const answer = await pluginCall(() => pluginAuthorize(instance.plugins as PluginHost, hook, providerID, given.method as number, inputs));
      if (answer && 'error' in answer) return c.json({ name: answer.error, data: answer.data }, 400);
      return c.json(answer);
    },
  };
}

/** A plugin's login step; its failure (a sentence naming the method) is a 502, the plugin being the server's upstream here. */
async function pluginCall<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isPantheonError(error)) throw new HttpError(502, error.code, error.message, { ...(error.hint ? { hint: error.hint } : {}) });
    throw error;
  }
}

export const openCodeAuthRoutes: RouteGroup = {
  name: 'opencode-auth',
  description: 'Provider credentials, as OpenCode’s TUI stores them: API keys in OpenCode’s auth.json.',
  schemas: {
    AuthSetBody: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['api', 'oauth', 'wellknown'], description: '`api`: an API key; `oauth`: a login a plugin’s `auth` hook made (`refresh`, `access`, `expires`); `wellknown`: `key` and `token`' },
        key: { type: 'string', maxLength: 65_536, description: 'The API key: one printable word (as `opencode auth login` takes it); a well-known login’s variable name' },
        refresh: { type: 'string', description: 'An OAuth login’s refresh token' },
        access: { type: 'string', description: 'An OAuth login’s access token' },
        expires: { type: 'number', description: 'When an OAuth login’s access token expires (ms since the epoch)' },
        accountId: { type: 'string' },
        enterpriseUrl: { type: 'string' },
        token: { type: 'string', description: 'A well-known login’s token' },
      },
      required: ['type'],
    },
    ProviderAuthError: {
      type: 'object',
      properties: { name: { type: 'string' }, data: { type: 'object', properties: { providerID: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } } } },
      required: ['name', 'data'],
    },
  },
  routes: [
    {
      method: 'get',
      path: '/provider/auth',
      operationId: 'provider.auth',
      summary: 'How each provider takes a credential',
      description: 'Every provider of `GET /provider` takes an API key (`{type: "api", label: "API key"}`); a provider a project plugin’s `auth` hook logs in to offers the plugin’s methods instead (`{type: "oauth"|"api", label, prompts?}`), run by the two routes below.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Methods by provider id', schema: { type: 'object' } }, ...ERRORS },
      handler: async (c) => {
        const instance = await requestInstance(c);
        const { providers } = providersView(instance.config, c.get('state').host.env);
        // The built-in logins (GitHub Copilot's) are listed as OpenCode lists them.
        await instance.plugins?.loadBuiltins?.();
        // A provider a project plugin logs in to offers the plugin's methods instead, as in OpenCode.
        return c.json({ ...Object.fromEntries(providers.map((p) => [p.id, [{ type: 'api', label: 'API key' }]])), ...pluginMethods(instance.plugins) });
      },
    },
    {
      method: 'put',
      path: '/auth/{providerID}',
      operationId: 'auth.set',
      summary: 'Store a provider’s API key',
      description:
        '`{type: "api", key}` is written to OpenCode’s auth.json (0600), keeping every other entry; requests use it from then on. `{type: "oauth", refresh, access, expires}` (what a plugin stores when it refreshes its token) and `{type: "wellknown", key, token}` are stored as OpenCode stores them, for the plugin whose `auth` hook serves the provider. Published to the project’s event streams as `integration.connection.updated` (`{integrationID}`) then `integration.updated` (never the key).',
      params: PROVIDER,
      query: DIRECTORY_QUERY,
      body: ref('AuthSetBody'),
      responses: { 200: { description: 'Stored', schema: { type: 'boolean' } }, ...ERRORS },
      handler: async (c, { body }) => {
        const id = providerIdOf(c);
        const given = body as { type: string; key?: string } & Record<string, unknown>;
        if (given.type !== 'api') {
          // An OAuth login (a plugin refreshing its token through `client.auth.set`), or a well-known one.
          const checked = loginEntry(given);
          if ('problem' in checked) throw new HttpError(400, 'BAD_REQUEST', `body field "${checked.field}": ${checked.problem}.`, { details: { field: checked.field } });
          const { projectRoot } = await requestInstance(c);
          await updateEntry(authFile(c.get('state').host.env), id, () => checked.entry);
          announceCredentialChange(c, projectRoot, id);
          return c.json(true);
        }
        // The same check as `opencode auth login`'s: one printable word, never quoted back.
        const problem = typeof given.key === 'string' ? keyProblem(given.key) : 'The key is missing.';
        if (problem !== undefined) throw new HttpError(400, 'BAD_REQUEST', `body field "key": ${problem}`, { details: { field: 'key' } });
        const { projectRoot } = await requestInstance(c);
        await saveApiKey(authFile(c.get('state').host.env), id, (given.key as string).trim());
        announceCredentialChange(c, projectRoot, id);
        return c.json(true);
      },
    },
    {
      method: 'delete',
      path: '/auth/{providerID}',
      operationId: 'auth.remove',
      summary: 'Remove a provider’s credential',
      description: 'Removes its entry from OpenCode’s auth.json; `false` when there was none. Published as `integration.connection.updated` (when one was removed) then `integration.updated`.',
      params: PROVIDER,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Whether one was removed', schema: { type: 'boolean' } }, ...ERRORS },
      handler: async (c) => {
        const id = providerIdOf(c);
        const { projectRoot } = await requestInstance(c);
        const removed = await removeEntry(authFile(c.get('state').host.env), id);
        announceCredentialChange(c, projectRoot, id, removed);
        return c.json(removed);
      },
    },
    oauthRoute('authorize', 'Start a plugin’s OAuth login', { type: 'object', properties: { method: { type: 'number' }, inputs: { type: 'object', additionalProperties: { type: 'string' } } } }),
    oauthRoute('callback', 'Finish a plugin’s OAuth login', { type: 'object', properties: { method: { type: 'number' }, code: { type: 'string' } } }),
  ],
};
