/**
 * OpenCode's experimental sandbox worktrees: list, make, remove and reset git worktrees of the
 * project in OpenCode's folder for them. The work is in opencode/worktrees.ts.
 */
import { requestFromOtherSite } from '../cors.ts';
import { HttpError } from '../http-error.ts';
import { createWorktree, listWorktrees, removeWorktree, resetWorktree } from '../opencode/worktrees.ts';
import { ref, type JsonSchema, type RouteGroup } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const ERROR = { 400: { description: 'WorktreeError (`name`: WorktreeNotGitError, WorktreeCreateFailedError, WorktreeRemoveFailedError, WorktreeResetFailedError, …), or a bad body', schema: ref('Error') } };
const DIRECTORY_BODY: JsonSchema = { type: 'object', required: ['directory'], properties: { directory: { type: 'string', minLength: 1, maxLength: 4096 } }, additionalProperties: false };
const WORKTREE: JsonSchema = { type: 'object', required: ['name', 'directory'], properties: { name: { type: 'string' }, branch: { type: 'string' }, directory: { type: 'string' } } };
const FOLDER = '`$XDG_DATA_HOME/opencode/worktree/<project id>/<name>` (OpenCode’s folder for them; the id is `GET /project/current`’s)';

export const openCodeWorktreeRoutes: RouteGroup = {
  name: 'opencode-worktree',
  description: 'Git worktrees of the project as OpenCode’s experimental API makes them (sandboxes on `opencode/<name>` branches).',
  routes: [
    {
      method: 'get',
      path: '/experimental/worktree',
      operationId: 'worktree.list',
      summary: 'The project’s sandbox worktrees',
      description: `The directories of the project’s git worktrees in ${FOLDER}; \`[]\` outside a git checkout. A page of another site is refused (403): a repository’s config may make git run commands.`,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Worktree directories', schema: { type: 'array', items: { type: 'string' } } }, ...ERROR },
      handler: async (c) => {
        if (requestFromOtherSite(c)) throw new HttpError(403, 'FORBIDDEN_ORIGIN', 'A page of another site may not have the server run git: GET /experimental/worktree answers programs and this server’s own pages.', { hint: 'Call it from a program, or add the page’s origin to server.cors (or --cors).' });
        const instance = await requestInstance(c);
        return c.json(await listWorktrees(c.get('state').host.env, instance.projectRoot));
      },
    },
    {
      method: 'post',
      path: '/experimental/worktree',
      operationId: 'worktree.create',
      summary: 'Make a sandbox worktree',
      description: `A git worktree of the project’s \`HEAD\` on a new branch \`opencode/<name>\`, in ${FOLDER}: \`name\` as OpenCode makes it of the one sent (lower case, letters and digits joined by \`-\`; a random one when none is given; \`-<random>\` added when taken). Its files are checked out before the answer (OpenCode checks them out after it). \`startCommand\` is then run with \`bash -lc\` in the worktree, in the background (its output dropped; a failure, or a run over 10 minutes, is logged). Outside a git checkout: 400 \`WorktreeNotGitError\`.`,
      query: DIRECTORY_QUERY,
      body: { type: 'object', properties: { name: { type: 'string', maxLength: 200 }, startCommand: { type: 'string', maxLength: 100_000, description: 'Run with `bash -lc` in the new worktree' } }, additionalProperties: false },
      bodyOptional: true,
      responses: { 200: { description: 'The worktree', schema: WORKTREE }, ...ERROR },
      handler: async (c, { body }) => {
        const instance = await requestInstance(c);
        const state = c.get('state');
        return c.json(await createWorktree(state.host.env, instance.projectRoot, (body ?? {}) as { name?: string; startCommand?: string }, state.log));
      },
    },
    {
      method: 'delete',
      path: '/experimental/worktree',
      operationId: 'worktree.remove',
      summary: 'Remove a sandbox worktree and its branch',
      description: `\`git worktree remove --force\`, then its branch deleted. Only a worktree in ${FOLDER} is removed: the primary checkout, a worktree made elsewhere, or a folder that is no worktree is a 400 \`WorktreeRemoveFailedError\` with nothing removed (OpenCode deletes such a folder). A directory that is not there is answered \`true\`, as OpenCode.`,
      query: DIRECTORY_QUERY,
      body: DIRECTORY_BODY,
      responses: { 200: { description: 'Removed', schema: { type: 'boolean' } }, ...ERROR },
      handler: async (c, { body }) => {
        const instance = await requestInstance(c);
        await removeWorktree(c.get('state').host.env, instance.projectRoot, (body as { directory: string }).directory);
        return c.json(true);
      },
    },
    {
      method: 'post',
      path: '/experimental/worktree/reset',
      operationId: 'worktree.reset',
      summary: 'Reset a sandbox worktree to the default branch',
      description: `The worktree (one in ${FOLDER}) reset hard to the default branch (fetched first when it is a remote’s) and cleaned (\`git clean -ffdx\`); submodules are left as they are. The primary checkout is refused (400 \`WorktreeResetFailedError\`, “Cannot reset the primary workspace.”), as is a directory that is not one of them (“Worktree not found.”).`,
      query: DIRECTORY_QUERY,
      body: DIRECTORY_BODY,
      responses: { 200: { description: 'Reset', schema: { type: 'boolean' } }, ...ERROR },
      handler: async (c, { body }) => {
        const instance = await requestInstance(c);
        await resetWorktree(c.get('state').host.env, instance.projectRoot, (body as { directory: string }).directory);
        return c.json(true);
      },
    },
  ],
};
