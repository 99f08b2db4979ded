/**
 * OpenCode's routes that change the config, and let the server's projects go so it is read anew:
 * `GET`/`PATCH /global/config` (the global opencode.json[c]), `PATCH /config` (the project's),
 * `POST /global/dispose`. Secrets are masked in every answer, as in `GET /config`.
 */
import path from 'node:path';
import { GLOBAL_FILES } from '../../config/discover.ts';
import { parseConfigText } from '../../config/jsonc.ts';
import { maskConfig } from '../../config/mask.ts';
import { readIfExists } from '../../config/read-layer.ts';
import { createContext } from '../../config/context.ts';
import { globalConfigFolder } from '../../config/home.ts';
import { disposeAll, disposeInstance } from '../opencode/instance-events.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

type Json = Record<string, unknown>;

const BAD = { 400: { description: 'Bad request, or a change that would make the config invalid (the field is named; nothing is written)', schema: ref('Error') } };
const PATCH_BODY: JsonSchema = { type: 'object', description: 'Keys to change: objects are merged key by key, anything else replaces, `null` removes the key', additionalProperties: true };

const MERGE_NOTE =
  'The change is merged into the file as OpenCode merges it (objects key by key, anything else replaced, `null` removes a key), in place: the file’s comments and layout stay. The whole config it would make is validated first (OpenCode’s schema for its keys, Pantheon’s for its own): a change that would make it invalid is a 400 naming the field, and nothing is written. The file is written atomically (a temp file renamed over it; a link is followed). A masked secret sent back as GET /config shows it (`sk-a…wxyz`) leaves the secret as it is.';

/** The global config file: the one the loader reads (`opencode.json`, else `opencode.jsonc`), or a new `opencode.jsonc` (as OpenCode makes it). */
async function globalFile(env: NodeJS.ProcessEnv): Promise<{ file: string; text?: string }> {
  const dir = globalConfigFolder(env);
  const ctx = createContext({ env });
  for (const name of GLOBAL_FILES) {
    const file = path.join(dir, name);
    const text = await readIfExists(file, ctx);
    if (text !== undefined) return { file, text };
  }
  return { file: path.join(dir, 'opencode.jsonc') };
}

async function editModule() {
  return import('../opencode/config-edit.ts');
}

/** The config as `GET /config` answers it. */
function configView(config: unknown): Json {
  return { ...(maskConfig(config) as Json), share: 'disabled' };
}

async function patchProject(c: ServerContext, patch: Json): Promise<Response> {
  const state = c.get('state');
  const instance = await requestInstance(c);
  const { editConfigFile, projectConfigFile } = await editModule();
  const file = projectConfigFile(instance.loaded, instance.directory);
  await editConfigFile({ file, kind: 'project', loaded: instance.loaded, cwd: instance.directory, env: state.host.env }, patch);
  await disposeInstance(state, instance);
  return c.json(configView((await state.host.instance(instance.directory)).config));
}

export const openCodeConfigRoutes: RouteGroup = {
  name: 'opencode-config',
  description: 'Changing the config (the project’s file, the global file) and letting the server’s projects go so it is read anew.',
  routes: [
    {
      method: 'get',
      path: '/global/config',
      operationId: 'global.config.get',
      summary: 'Get the global config',
      description: 'The global config file as written (`$XDG_CONFIG_HOME/opencode/opencode.json`, else `opencode.jsonc`; nothing substituted), secrets masked; `{}` when there is none.',
      responses: { 200: { description: 'The global config', schema: { type: 'object' } }, ...BAD },
      handler: async (c) => {
        const { file, text } = await globalFile(c.get('state').host.env);
        return c.json(text === undefined || text.trim() === '' ? {} : (maskConfig(parseConfigText(text, file)) as Json));
      },
    },
    {
      method: 'patch',
      path: '/global/config',
      operationId: 'global.config.update',
      summary: 'Change the global config',
      description: `Writes the change into the global config file (\`opencode.json\`, else \`opencode.jsonc\`, made when there is none, in \`$XDG_CONFIG_HOME/opencode/\`). ${MERGE_NOTE} Every project the server has open is let go (\`server.instance.disposed\` for each, then \`global.disposed\` on /global/event), so the next request reads the new config. Answers the global config as GET /global/config does.`,
      body: PATCH_BODY,
      responses: { 200: { description: 'The global config after the change', schema: { type: 'object' } }, ...BAD },
      handler: async (c, { body }) => {
        const state = c.get('state');
        const env = state.host.env;
        const instance = await state.host.instance();
        const { editConfigFile } = await editModule();
        const { file } = await globalFile(env);
        const after = await editConfigFile({ file, kind: 'global', loaded: instance.loaded, cwd: instance.directory, env }, body as Json);
        await disposeAll(state);
        return c.json(maskConfig(after));
      },
    },
    {
      method: 'patch',
      path: '/config',
      operationId: 'config.update',
      summary: 'Change the project’s config',
      description: `Writes the change into the project’s config file: its nearest \`opencode.json\` or \`opencode.jsonc\` as loaded, else a new \`opencode.json\` in the requested folder. (OpenCode 1.18.33 writes a \`config.json\` in the folder, which neither it nor Pantheon reads.) ${MERGE_NOTE} The project is let go (\`server.instance.disposed\`), so the attached TUI reads it anew. Keys a higher layer also sets (\`.opencode/opencode.json\`, \`pantheon.json\`, \`OPENCODE_CONFIG\`, …) still win. Answers the config as GET /config then does.`,
      query: DIRECTORY_QUERY,
      body: PATCH_BODY,
      responses: { 200: { description: 'The config after the change', schema: { type: 'object' } }, ...BAD },
      handler: (c, { body }) => patchProject(c, body as Json),
    },
    {
      method: 'post',
      path: '/global/dispose',
      operationId: 'global.dispose',
      summary: 'Let every project go',
      description: 'Every project the server has open is let go (its MCP servers stopped; at once, or when the turns using it end) and read anew on the next request: `server.instance.disposed` for each on its stream, then `global.disposed` on /global/event. Sessions are kept. Answers `true`.',
      responses: { 200: { description: 'Disposed', schema: { type: 'boolean' } } },
      handler: async (c) => {
        await disposeAll(c.get('state'));
        return c.json(true);
      },
    },
  ] satisfies RouteDef[],
};
