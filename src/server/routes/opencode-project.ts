/**
 * OpenCode's routes about the project that its TUI asks for when it attaches (`opencode attach
 * URL`): the custom commands of its `/` menu (`GET /command`, v2's `GET /api/command`), the file
 * search of its `@` mentions (`GET /find/file`, v2's `GET /api/fs/find`), the MCP servers' status
 * (`GET /mcp`) and the git branch (`GET /vcs`).
 */
import { PantheonError } from '../../errors.ts';
import { hintsOf } from '../../run/command-template.ts';
import { requestFromOtherSite } from '../cors.ts';
import { HttpError } from '../http-error.ts';
import { withBuiltinCommands } from '../../core/commands/builtin-commands.ts';
import { openCodeMcpStatuses } from '../opencode/mcp-status.ts';
import { skillCommands } from '../opencode/skill-commands.ts';
import { mcpCommandViews } from '../../core/commands/mcp-prompt-command.ts';
import { LIST_WAIT_MS } from '../../mcp/catalog-limits.ts';
import { projectId } from '../opencode/catalog-view.ts';
import { findEntries, type EntryKind } from '../opencode/file-find.ts';
import { gitCheckout } from '../opencode/vcs.ts';
import { defaultBranch } from '../opencode/vcs-changes.ts';
import { ref, type ParamDoc, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { instanceFor } from '../state.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

type Json = Record<string, unknown>;

/** v2's routes name the folder as `location[directory]` (the header and `directory` work too). */
export const LOCATION_QUERY: Record<string, ParamDoc> = { 'location[directory]': { description: 'Project folder (also `directory` or the x-opencode-directory header); default: the server’s working directory' } };

export async function v2Instance(c: ServerContext) {
  const location = c.req.query('location[directory]');
  try {
    return await instanceFor(c.get('state'), c.req.header('x-opencode-directory'), location ?? c.req.query('directory'));
  } catch (error) {
    // The folder v2's parameter names: the 400 says which parameter it was.
    if (location !== undefined && error instanceof PantheonError && error.code === 'DIRECTORY_NOT_FOUND') {
      throw new PantheonError(error.code, `query parameter "location[directory]": ${error.message}`, { hint: 'Give an existing project folder (location[directory], ?directory= or the x-opencode-directory header).' });
    }
    throw error;
  }
}

/** v2's `location` of an answer. */
export function locationOf(instance: { projectRoot: string; directory: string }): Json {
  return { directory: instance.directory, project: { id: projectId(instance.projectRoot), directory: instance.projectRoot } };
}

function bad(name: string, message: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `query parameter "${name}": ${message}.`, { details: { field: name } });
}

interface CommandView {
  name: string;
  template: string;
  description?: string;
  agent?: string;
  model?: string;
  subtask?: boolean;
}

/** The config's custom commands (`command.<name>`, markdown files in `command/` folders), those with a template, in the config's order. */
function commandsOf(config: { command?: Record<string, unknown> }): CommandView[] {
  const out: CommandView[] = [];
  for (const [name, entry] of Object.entries(config.command ?? {})) {
    const c = (entry ?? {}) as Json;
    if (typeof c.template !== 'string') continue;
    out.push({
      name,
      template: c.template,
      ...(typeof c.description === 'string' ? { description: c.description } : {}),
      ...(typeof c.agent === 'string' ? { agent: c.agent } : {}),
      ...(typeof c.model === 'string' ? { model: c.model } : {}),
      ...(typeof c.subtask === 'boolean' ? { subtask: c.subtask } : {}),
    });
  }
  return out;
}

/**
 * What `/` offers in a folder, as OpenCode lists it: the built-in commands, the config's (markdown
 * files of `command/` folders included), the MCP servers' prompts (`server:prompt`; one of the same
 * name takes a command's place; listing them starts the enabled servers), then the skills no
 * command has the name of.
 */
async function listedCommands(instance: Awaited<ReturnType<typeof requestInstance>>, env: NodeJS.ProcessEnv, otherSite: boolean): Promise<(CommandView & { source: string; hints: string[] })[]> {
  const config = withBuiltinCommands(instance.config, instance.projectRoot);
  // A server that hangs or starts slowly does not hold the list for longer than LIST_WAIT_MS: it is listed without its prompts (GET /mcp says why).
  const [skills, prompts] = await Promise.all([skillCommands(config, instance.projectRoot, env), instance.mcp ? instance.mcp.manager.prompts(undefined, { waitMs: LIST_WAIT_MS, ...(otherSite ? { startNothing: true } : {}) }) : []]);
  const mcp = mcpCommandViews(prompts);
  const byName = new Map(mcp.map((m) => [m.name, m]));
  const commands = commandsOf(config).map((cmd) => byName.get(cmd.name) ?? { ...cmd, source: 'command', hints: hintsOf(cmd.template) });
  const listed = new Set(commands.map((cmd) => cmd.name));
  return [...commands, ...mcp.filter((m) => !listed.has(m.name)), ...skills.filter((s) => !byName.has(s.name)).map((s) => ({ ...s, source: 'skill', hints: [] }))];
}

/** `provider/model[:variant]` as v2's model reference. */
function modelRef(model: string): Json | undefined {
  const slash = model.indexOf('/');
  if (slash <= 0) return undefined;
  const rest = model.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  return colon > 0 ? { providerID: model.slice(0, slash), id: rest.slice(0, colon), variant: rest.slice(colon + 1) } : { providerID: model.slice(0, slash), id: rest };
}

/** A search's query parameters: `query` (required), `type` (`file`/`directory`), `dirs` (v1: `false` leaves folders out), `limit` (1–200). */
function findQuery(c: ServerContext, defaultLimit: number): { query: string; kind?: EntryKind; limit: number } {
  const query = c.req.query('query');
  if (query === undefined) throw bad('query', 'is required');
  if (query.length > 1024) throw bad('query', 'must be at most 1,024 characters');
  const type = c.req.query('type');
  if (type !== undefined && type !== 'file' && type !== 'directory') throw bad('type', `expected "file" or "directory", found ${JSON.stringify(type.slice(0, 40))}`);
  const dirs = c.req.query('dirs');
  if (dirs !== undefined && dirs !== 'true' && dirs !== 'false') throw bad('dirs', `expected "true" or "false", found ${JSON.stringify(dirs.slice(0, 40))}`);
  const given = c.req.query('limit');
  const limit = given === undefined ? defaultLimit : Number(given);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw bad('limit', `expected a whole number from 1 to 200, found ${JSON.stringify(String(given).slice(0, 40))}`);
  const kind: EntryKind | undefined = type ?? (dirs === 'false' ? 'file' : undefined);
  return { query, ...(kind ? { kind } : {}), limit };
}

const FIND_QUERY: Record<string, ParamDoc> = {
  query: { description: 'What to look for (fuzzy: `srvidx` finds `src/server/index.ts`); empty lists the shallowest entries' },
  type: { description: '`file` or `directory` (default: both)' },
  limit: { description: 'At most this many (1–200)' },
};

const badRequest = { 400: { description: 'Bad request (the parameter is named)', schema: ref('Error') } };

export const openCodeProjectRoutes: RouteGroup = {
  name: 'opencode-project',
  description: 'The project as OpenCode’s TUI asks for it: commands, file search, MCP status, the git branch.',
  routes: [
    {
      method: 'get',
      path: '/command',
      operationId: 'command.list',
      summary: 'List the commands',
      description:
        'OpenCode’s built-in commands that Pantheon runs (`init`: create or improve AGENTS.md; `review`: review the uncommitted changes, or a commit, branch or pull request), then the config’s `command` entries and the markdown files of `command/` folders in the config’s order, as OpenCode lists them (one of the same name takes a built-in’s place), with the placeholders each template takes (`hints`); then the project’s MCP servers’ prompts (`source: "mcp"`, named `<server>:<prompt>`, `hints` `$1`… per declared argument (at most 32), the template empty: the prompt is asked for when run; listing them starts the enabled servers, and waits at most 10 s for them: a server not started and listed by then, or one that failed, is listed without its prompts, and GET /mcp says how it went; a page of another site starts none), then the skills no command has the name of (`source: "skill"`, the template their instructions and folder, `hints` empty), which OpenCode’s TUI lists under `/skills`.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Commands', schema: { type: 'array', items: { type: 'object' } } }, ...badRequest },
      handler: async (c) => c.json(await listedCommands(await requestInstance(c), c.get('state').host.env, requestFromOtherSite(c))),
    },
    {
      method: 'get',
      path: '/api/command',
      operationId: 'v2.command.list',
      summary: 'List the commands (OpenCode’s v2 API)',
      description: 'The list of `GET /command` (built-in, the config’s, MCP prompts, skills), each `model` as `{providerID, id, variant?}`.',
      query: LOCATION_QUERY,
      responses: { 200: { description: '{location, data}', schema: { type: 'object' } }, ...badRequest },
      handler: async (c) => {
        const instance = await v2Instance(c);
        const data = (await listedCommands(instance, c.get('state').host.env, requestFromOtherSite(c))).map(({ model, ...cmd }) => {
          const parsed = typeof model === 'string' ? modelRef(model) : undefined;
          return { ...cmd, ...(parsed ? { model: parsed } : {}) };
        });
        return c.json({ location: locationOf(instance), data });
      },
    },
    {
      method: 'get',
      path: '/find/file',
      operationId: 'find.files',
      summary: 'Find files and folders by name',
      description: 'Fuzzy search of the project’s file and folder names (folders end with `/`), as the `@` mention of OpenCode’s TUI asks it. `.git`, `node_modules` and the root `.gitignore`’s entries are left out. `dirs=false` leaves folders out; `limit` defaults to 10.',
      query: { ...DIRECTORY_QUERY, ...FIND_QUERY, dirs: { description: '`false` leaves folders out' } },
      responses: { 200: { description: 'Paths relative to the folder', schema: { type: 'array', items: { type: 'string' } } }, ...badRequest },
      handler: async (c) => {
        const find = findQuery(c, 10);
        const instance = await requestInstance(c);
        return c.json(await findEntries(instance.projectRoot, instance.directory, find, c.get('state').log));
      },
    },
    {
      method: 'get',
      path: '/api/fs/find',
      operationId: 'v2.fs.find',
      summary: 'Find files and folders by name (OpenCode’s v2 API)',
      description: 'The same search as GET /find/file, answered as `{location, data: [{path, type}]}`; `limit` defaults to 20.',
      query: { ...LOCATION_QUERY, ...FIND_QUERY },
      responses: { 200: { description: '{location, data}', schema: { type: 'object' } }, ...badRequest },
      handler: async (c) => {
        const find = findQuery(c, 20);
        const instance = await v2Instance(c);
        const found = await findEntries(instance.projectRoot, instance.directory, find, c.get('state').log);
        const data = found.map((entry) => (entry.endsWith('/') ? { path: entry.slice(0, -1), type: 'directory' } : { path: entry, type: 'file' }));
        return c.json({ location: locationOf(instance), data });
      },
    },
    {
      method: 'get',
      path: '/mcp',
      operationId: 'mcp.status',
      summary: 'The MCP servers’ status',
      description: 'Each server configured or added (POST /mcp): `connected`, `disabled` (`enabled: false`, or disconnected), `failed` with why, `needs_auth` (a remote server that answered 401 with no usable OAuth tokens; its `error` says what to do: `opencode mcp auth NAME`, or a token in its `headers` for a server without OAuth), or `needs_client_registration` with `error` (set `oauth.clientId`). Servers not yet started are started first (OpenCode connects them when a project opens; Pantheon when a turn first needs them), waiting at most 10 s, as GET /command does: a server still starting then is `failed` with error `still starting…` (OpenCode has no word for it), except for a page of another site (`Sec-Fetch-Site: cross-site`, or a foreign `Origin`): it starts nothing, and a server not started yet is `failed` with error `not started`.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Status by server name', schema: { type: 'object', additionalProperties: ref('MCPStatus') } }, ...badRequest },
      handler: async (c) => {
        const instance = await requestInstance(c);
        const manager = instance.mcp?.manager;
        // A page of another site may name any folder: its config's commands are not run for it.
        // At most LIST_WAIT_MS, as GET /command waits: a server still starting then says so.
        if (manager && !requestFromOtherSite(c)) await manager.start(undefined, { waitMs: LIST_WAIT_MS });
        return c.json(openCodeMcpStatuses(manager?.status() ?? []));
      },
    },
    {
      method: 'get',
      path: '/vcs',
      operationId: 'vcs.get',
      summary: 'The git branch and the default one',
      description:
        '`{branch, default_branch}`: the branch checked out (`HEAD` when detached) and the repository’s default branch as OpenCode finds it (the remote’s `HEAD`, else `init.defaultBranch`, `main` or `master` among the branches; left out when none is); `{}` outside a git checkout.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'VCS info', schema: { type: 'object', properties: { branch: { type: 'string' }, default_branch: { type: 'string' } } } }, ...badRequest },
      handler: async (c) => {
        const instance = await requestInstance(c);
        const checkout = await gitCheckout(instance.projectRoot);
        if (!checkout.git) return c.json({});
        const base = await defaultBranch(instance.projectRoot);
        return c.json({ ...(checkout.branch === undefined ? {} : { branch: checkout.branch }), ...(base ? { default_branch: base.name } : {}) });
      },
    },
  ] satisfies RouteDef[],
};
