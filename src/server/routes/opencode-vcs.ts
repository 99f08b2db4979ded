/**
 * OpenCode's routes about the project's uncommitted changes, which its web and desktop apps call:
 * the changed files (`GET /vcs/status`), their patches (`GET /vcs/diff`, `GET /vcs/diff/raw`) and a
 * patch applied (`POST /vcs/apply`). The work is in opencode/vcs-changes.ts.
 */
import { requestFromOtherSite } from '../cors.ts';
import { HttpError } from '../http-error.ts';
import { MAX_PATCH_BYTES, MAX_VCS_FILES, vcsApply, vcsDiff, vcsDiffRaw, vcsStatus } from '../opencode/vcs-changes.ts';
import { ref, type JsonSchema, type ParamDoc, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';
import { thousands } from '../../icu-free.ts';

const MAX_FILES = thousands(MAX_VCS_FILES);
const MAX_PATCH = thousands(MAX_PATCH_BYTES);
const TRUNCATED = { 'x-pantheon-truncated': 'true' };

function bad(name: string, message: string, hint: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `query parameter "${name}": ${message}.`, { hint, details: { field: name } });
}

/** A page of another site may name any folder, and a repository's own config may make git run commands. */
function refuseOtherSite(c: ServerContext, route: string): void {
  if (requestFromOtherSite(c)) throw new HttpError(403, 'FORBIDDEN_ORIGIN', `A page of another site may not have the server run git: ${route} answers programs and this server’s own pages.`, { hint: 'Call it from a program, or add the page’s origin to server.cors (or --cors).' });
}

function modeOf(c: ServerContext): 'git' | 'branch' {
  const mode = c.req.query('mode');
  if (mode === undefined) throw bad('mode', 'is required', 'Send mode=git (the uncommitted changes) or mode=branch (the changes since the branch left the default branch).');
  if (mode !== 'git' && mode !== 'branch') throw bad('mode', `expected "git" or "branch", found ${JSON.stringify(mode.slice(0, 40))}`, 'mode=git: the uncommitted changes; mode=branch: the changes since the branch left the default branch.');
  return mode;
}

function contextOf(c: ServerContext): number | undefined {
  const given = c.req.query('context');
  if (given === undefined) return undefined;
  if (!/^\d{1,9}$/.test(given)) throw bad('context', `expected a whole number of lines, 0 or more, found ${JSON.stringify(given.slice(0, 40))}`, 'Leave context out for the whole file around each change, or send e.g. context=3.');
  return Number(given);
}

const STATUS: JsonSchema = { type: 'string', enum: ['added', 'deleted', 'modified'] };
const FILE_STATUS: JsonSchema = { type: 'object', required: ['file', 'additions', 'deletions', 'status'], properties: { file: { type: 'string' }, additions: { type: 'number' }, deletions: { type: 'number' }, status: STATUS } };
const FILE_DIFF: JsonSchema = { type: 'object', required: ['file', 'additions', 'deletions'], properties: { file: { type: 'string' }, patch: { type: 'string' }, additions: { type: 'number' }, deletions: { type: 'number' }, status: STATUS } };
const MODE: Record<string, ParamDoc> = {
  mode: { description: '`git`: the uncommitted changes (against `HEAD`, untracked files as added); `branch`: the changes since the branch left the default branch (the remote’s HEAD, else `init.defaultBranch`, `main` or `master`; `[]` on it)', required: true, schema: { type: 'string', enum: ['git', 'branch'] } },
  context: { description: 'Lines of context around each change (default: the whole file, as OpenCode)', schema: { type: 'integer', minimum: 0 } },
};
const BAD = { 400: { description: 'Bad request (the parameter is named)', schema: ref('Error') }, 403: { description: 'A page of another site', schema: ref('Error') } };
const BOUNDS = `At most ${MAX_FILES} files (by name; the rest are left out) and ${MAX_PATCH} bytes of patches (a file past that gets OpenCode’s empty patch, a header without hunks); an untracked file’s patch is one git run, and none is started after 15 s. When anything was left out the header \`x-pantheon-truncated: true\` says so. git gets 10 s per run (a git that fails is a 500 saying why). A page of another site is refused (403): a repository’s config may make git run commands.`;

export const openCodeVcsRoutes: RouteGroup = {
  name: 'opencode-vcs',
  description: 'The project’s uncommitted changes as OpenCode’s apps show and apply them (git status, diffs, patches).',
  routes: [
    {
      method: 'get',
      path: '/vcs/status',
      operationId: 'vcs.status',
      summary: 'The changed files, without patches',
      description: `The files \`git status\` lists (staged or not; a rename as the old file \`deleted\` and the new one \`added\`; untracked files not ignored as \`added\`), sorted by path, each with the lines added and deleted since \`HEAD\` (an untracked file’s lines counted; 0 for a binary file). Paths relative to the repository’s root. \`[]\` outside a git checkout. ${BOUNDS}`,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Changed files', schema: { type: 'array', items: FILE_STATUS } }, ...BAD },
      handler: async (c) => {
        refuseOtherSite(c, 'GET /vcs/status');
        const instance = await requestInstance(c);
        const { files, truncated } = await vcsStatus(instance.projectRoot, instance.directory);
        return c.json(files, 200, truncated ? TRUNCATED : {});
      },
    },
    {
      method: 'get',
      path: '/vcs/diff',
      operationId: 'vcs.diff',
      summary: 'The changed files with their patches',
      description: `Each changed file (as \`GET /vcs/status\` lists them) with its unified \`patch\` (git’s, with \`context\` lines around each change; binary files as git shows them). \`mode\` is required (400 without it, as OpenCode). \`[]\` outside a git checkout. ${BOUNDS}`,
      query: { ...DIRECTORY_QUERY, ...MODE },
      responses: { 200: { description: 'File diffs', schema: { type: 'array', items: FILE_DIFF } }, ...BAD },
      handler: async (c) => {
        refuseOtherSite(c, 'GET /vcs/diff');
        const mode = modeOf(c);
        const context = contextOf(c);
        const instance = await requestInstance(c);
        const { files, truncated } = await vcsDiff(instance.projectRoot, instance.directory, mode, context);
        return c.json(files, 200, truncated ? TRUNCATED : {});
      },
    },
    {
      method: 'get',
      path: '/vcs/diff/raw',
      operationId: 'vcs.diff.raw',
      summary: 'The uncommitted changes as one patch',
      description: `\`text/x-diff\`: git’s patch of the changes against \`HEAD\` (three lines of context), then each untracked file’s, as \`git apply\` takes it. Empty outside a git checkout. At most ${MAX_PATCH} bytes, of whole files’ patches (and ${MAX_FILES} untracked files): the header \`x-pantheon-truncated: true\` says when some were left out. A page of another site is refused (403).`,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Raw patch', contentType: 'text/x-diff; charset=utf-8', schema: { type: 'string' } }, ...BAD },
      handler: async (c) => {
        refuseOtherSite(c, 'GET /vcs/diff/raw');
        const instance = await requestInstance(c);
        const { text, truncated } = await vcsDiffRaw(instance.projectRoot, instance.directory);
        return c.body(text, 200, { 'content-type': 'text/x-diff; charset=utf-8', ...(truncated ? TRUNCATED : {}) });
      },
    },
    {
      method: 'post',
      path: '/vcs/apply',
      operationId: 'vcs.apply',
      summary: 'Apply a patch to the working tree',
      description:
        '`git apply` of `patch` in the folder, once `git apply --check` found that all of it applies: a patch that does not apply changes nothing and is a 400 `VcsApplyError` (`data.reason` `not-clean`, with git’s complaint in `data.detail`), as is one that names a path outside the folder (absolute, or through `..`; git also refuses paths through a symlink). Outside a git checkout: 400 `VcsApplyError`, reason `non-git`. The body’s size is the server’s limit for any body.',
      query: DIRECTORY_QUERY,
      body: { type: 'object', required: ['patch'], properties: { patch: { type: 'string' } } },
      responses: { 200: { description: 'Applied', schema: { type: 'object', required: ['applied'], properties: { applied: { type: 'boolean' } } } }, 400: { description: 'VcsApplyError (data.reason: non-git, not-clean), or a bad body', schema: ref('Error') } },
      handler: async (c, { body }) => {
        const instance = await requestInstance(c);
        return c.json(await vcsApply(instance.projectRoot, instance.directory, (body as { patch: string }).patch));
      },
    },
  ],
};
