/**
 * OpenCode's status routes that its TUI asks for when it attaches, answered as true for Pantheon:
 * the formatters and the language servers running that the config turns on (src/format/formatters.ts, src/lsp/); no workspaces run here, the MCP servers' resources (for the `@` menu), no OpenCode Console
 * org is signed in (none to switch to), subagents do not run in the background; the project's
 * folders; the skills (v1's list, as the TUI's `/skills` dialog asks for it); and the upgrade its TUI
 * offers, refused with how to upgrade Pantheon (an npm package).
 */
import { SKILL_LISTING_NOTE, skillsWithContent } from '../opencode/catalog-v2.ts';
import { projectId } from '../opencode/catalog-view.ts';
import { formattersOf } from '../../format/formatters.ts';
import { lspStatusOf } from '../../lsp/live.ts';
import { HttpError } from '../http-error.ts';
import { resourceKey } from '../../mcp/catalog.ts';
import { LIST_WAIT_MS } from '../../mcp/catalog-limits.ts';
import { requestFromOtherSite } from '../cors.ts';

import { projectDirectories } from '../opencode/project-copies.ts';
import { ref, type JsonSchema, type ParamDoc, type RouteDef, type RouteGroup } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const str: JsonSchema = { type: 'string' };
const badRequest = { 400: { description: 'Bad request (a directory that does not exist)', schema: ref('Error') } };

/** A route that answers the same for every folder (the folder is still checked: a missing one is a 400). */
function fixed(path: string, operationId: string, summary: string, description: string, schema: JsonSchema, answer: () => unknown): RouteDef {
  return {
    method: 'get',
    path,
    operationId,
    summary,
    description,
    query: DIRECTORY_QUERY,
    responses: { 200: { description: summary, schema }, ...badRequest },
    handler: async (c) => {
      await requestInstance(c);
      return c.json(answer() as object);
    },
  };
}

/** How Pantheon is upgraded: it is an npm package. */
const UPGRADE_ADVICE = 'Pantheon is installed from npm: upgrade it with `npm install -g pantheon@latest` (or `npm update pantheon` in a project that depends on it), then restart `opencode serve`.';

const PROJECT: Record<string, ParamDoc> = { projectID: { description: 'A project’s id (`GET /project/current`’s `id`)' } };

export const openCodeExtrasRoutes: RouteGroup = {
  name: 'opencode-extras',
  description: 'What OpenCode’s TUI asks about the server’s features when it attaches: LSP, formatters, workspaces, MCP resources, Console, capabilities, the project’s folders, skills; upgrades refused.',
  schemas: {
    LspStatus: { type: 'object', properties: { id: str, name: str, root: str, status: { type: 'string', enum: ['connected', 'error'] } }, required: ['id', 'name', 'root', 'status'] },
    FormatterStatus: { type: 'object', properties: { name: str, extensions: { type: 'array', items: str }, enabled: { type: 'boolean' } }, required: ['name', 'extensions', 'enabled'] },
    Workspace: { type: 'object', properties: { id: str, type: str, name: str, branch: str, directory: str, projectID: str, timeUsed: { type: 'number' } }, required: ['id', 'type', 'name', 'projectID', 'timeUsed'] },
    WorkspaceStatus: { type: 'object', properties: { workspaceID: str, status: { type: 'string', enum: ['connected', 'connecting', 'disconnected', 'error'] } }, required: ['workspaceID', 'status'] },
    McpResource: { type: 'object', properties: { name: str, uri: str, description: str, mimeType: str, client: str }, required: ['name', 'uri', 'client'] },
    ConsoleState: { type: 'object', properties: { consoleManagedProviders: { type: 'array', items: str }, activeOrgName: str, switchableOrgCount: { type: 'number' } }, required: ['consoleManagedProviders', 'switchableOrgCount'] },
    ConsoleOrgs: { type: 'object', properties: { orgs: { type: 'array', items: { type: 'object', properties: { accountID: str, accountEmail: str, accountUrl: str, orgID: str, orgName: str, active: { type: 'boolean' } }, required: ['accountID', 'accountEmail', 'accountUrl', 'orgID', 'orgName', 'active'] } } }, required: ['orgs'] },
    UpgradeResult: { type: 'object', properties: { success: { type: 'boolean' }, version: str, error: str }, required: ['success'] },
    ExperimentalCapabilities: { type: 'object', properties: { backgroundSubagents: { type: 'boolean' } }, required: ['backgroundSubagents'] },
    ProjectDirectories: { type: 'array', items: { type: 'object', properties: { directory: str, strategy: str }, required: ['directory'] } },
  },
  routes: [
    {
      method: 'get',
      path: '/lsp',
      operationId: 'lsp.status',
      summary: 'LSP server status',
      description:
        'The language servers running for the project (`{id, name, root, status}`, `root` relative to the project): the config’s `lsp` turns them on (`true`: the built-ins; an object: the built-ins with its entries over them; absent or `false`: none), and each starts when `edit` or `write` first touches a file of its extensions. `[]` until then. Pantheon installs no language servers: one whose program is not on the PATH (or in a `node_modules/.bin`) does not run.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'LSP server status', schema: { type: 'array', items: ref('LspStatus') } }, ...badRequest },
      handler: async (c) => {
        const instance = await requestInstance(c);
        return c.json(lspStatusOf(instance.config, instance.projectRoot));
      },
    },
    {
      method: 'get',
      path: '/formatter',
      operationId: 'formatter.status',
      summary: 'Formatter status',
      description:
        'The formatters the config’s `formatter` turns on (`true`: the built-ins; an object: the built-ins with its entries over them; absent or `false`: none, `[]`), each with its extensions and whether it is found in the project (its program, and the config file or dependency it needs). They run on a file after `edit` or `write` changes it.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Formatter status', schema: { type: 'array', items: ref('FormatterStatus') } }, ...badRequest },
      handler: async (c) => {
        const instance = await requestInstance(c);
        const formatters = formattersOf(instance.config, instance.projectRoot, c.get('state').host.env);
        return c.json(formatters ? await formatters.status() : []);
      },
    },
    fixed('/experimental/workspace', 'experimental.workspace.list', 'List workspaces', 'Always `[]`: Pantheon has no workspaces (sessions run in the folder they were made in).', { type: 'array', items: ref('Workspace') }, () => []),
    fixed('/experimental/workspace/status', 'experimental.workspace.status', 'Workspaces’ connection status', 'Always `[]`: Pantheon has no workspaces to connect to.', { type: 'array', items: ref('WorkspaceStatus') }, () => []),
    {
      method: 'get',
      path: '/experimental/resource',
      operationId: 'experimental.resource.list',
      summary: 'List MCP resources',
      description:
        'The resources of the project’s enabled MCP servers (started if need be, waiting at most 10 s: a server not started and listed by then, or one that failed, has none this time, and GET /mcp says how it went; a page of another site starts none), as OpenCode lists them for its TUI’s `@` menu: keyed `<server>:<uri>` (`%` and `:` of the server’s name escaped), each `{name, uri, description?, mimeType?, client}` with the server’s name as `client`. Listed when a server connects and again when it sends `notifications/resources/list_changed`; at most 500 per server.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'MCP resources', schema: { type: 'object', additionalProperties: ref('McpResource') } }, ...badRequest },
      handler: async (c) => {
        const instance = await requestInstance(c);
        // As GET /command: a server not started and listed within LIST_WAIT_MS is left out this time; a page of another site starts none.
        const resources = instance.mcp ? await instance.mcp.manager.resources(undefined, { waitMs: LIST_WAIT_MS, ...(requestFromOtherSite(c) ? { startNothing: true } : {}) }) : [];
        return c.json(Object.fromEntries(resources.map((r) => [resourceKey(r.client, r.uri), r])));
      },
    },
    fixed('/experimental/console', 'experimental.console.get', 'OpenCode Console state', 'No Console org is signed in here: `{consoleManagedProviders: [], switchableOrgCount: 0}`.', ref('ConsoleState'), () => ({ consoleManagedProviders: [], switchableOrgCount: 0 })),
    fixed('/experimental/console/orgs', 'experimental.console.listOrgs', 'List switchable Console orgs', 'Always `{orgs: []}`, as OpenCode answers with no account logged in: Pantheon has no OpenCode Console accounts.', ref('ConsoleOrgs'), () => ({ orgs: [] })),
    {
      method: 'post',
      path: '/experimental/console/switch',
      operationId: 'experimental.console.switchOrg',
      summary: 'Switch the active Console org (refused)',
      description: 'Always a 400 once the body is checked: Pantheon has no OpenCode Console accounts, so there is no org to switch to (GET /experimental/console/orgs is empty).',
      query: DIRECTORY_QUERY,
      body: { type: 'object', properties: { accountID: str, orgID: str }, required: ['accountID', 'orgID'], additionalProperties: false },
      responses: { 400: { description: 'Refused, or a bad body (the field is named)', schema: ref('Error') } },
      handler: async (c) => {
        await requestInstance(c);
        throw new HttpError(400, 'BAD_REQUEST', 'POST /experimental/console/switch: Pantheon has no OpenCode Console accounts, so there is no org to switch to.', {
          hint: 'GET /experimental/console/orgs lists none; providers are connected by API key (PUT /auth/{providerID}, `opencode auth login`).',
        });
      },
    },
    {
      method: 'post',
      path: '/global/upgrade',
      operationId: 'global.upgrade',
      summary: 'Upgrade (refused: installed from npm)',
      description: `Always a 400 \`{success: false, error}\` once the body is checked (OpenCode’s answer for an installation it cannot upgrade): nothing is run. ${UPGRADE_ADVICE}`,
      body: { type: 'object', properties: { target: { type: 'string', description: 'The version asked for (not used)' } }, required: ['target'], additionalProperties: false },
      responses: { 400: { description: '`{success: false, error}`, or a bad body (the field is named)', schema: ref('UpgradeResult') } },
      handler: async (c) => c.json({ success: false, error: `POST /global/upgrade: Pantheon does not upgrade itself from the server; ${UPGRADE_ADVICE.replace('Pantheon is', 'it is')}` }, 400),
    },
    fixed('/experimental/capabilities', 'experimental.capabilities.get', 'Experimental capabilities', '`backgroundSubagents: true`: the subagents a session waits for can be sent to the background (POST /experimental/session/{sessionID}/background).', ref('ExperimentalCapabilities'), () => ({ backgroundSubagents: true })),
    {
      method: 'get',
      path: '/skill',
      operationId: 'app.skills',
      summary: 'List skills',
      description: `The skills the \`skill\` tool can load in the folder, each with its instructions (the SKILL.md’s body); the same list as GET /api/skill. ${SKILL_LISTING_NOTE}`,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Skills', schema: { type: 'array', items: ref('SkillV2Info') } }, ...badRequest },
      handler: async (c) => {
        const instance = await requestInstance(c);
        return c.json(await skillsWithContent(instance, c.get('state').host.env));
      },
    },
    {
      method: 'get',
      path: '/project/{projectID}/directories',
      operationId: 'project.directories',
      summary: 'List a project’s folders',
      description: 'The project’s folders when `projectID` is the id of the requested folder’s project: its copies (`{directory, strategy: "git_worktree"}`: the other worktrees of its git repository, POST /experimental/project/{projectID}/copy’s among them), then its root (`{directory}`), in OpenCode’s order; `[]` for any other id.',
      params: PROJECT,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Folders', schema: ref('ProjectDirectories') }, ...badRequest },
      handler: async (c) => {
        const instance = await requestInstance(c);
        return c.json(c.req.param('projectID') === projectId(instance.projectRoot) ? await projectDirectories(instance.projectRoot) : []);
      },
    },
  ] satisfies RouteDef[],
};
