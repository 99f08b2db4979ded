/**
 * OpenCode's project copies: `POST|DELETE /experimental/project/{projectID}/copy`,
 * `…/copy/refresh` and `…/copy/generate-name`. The work is in opencode/project-copies.ts.
 */
import { projectId } from '../opencode/catalog-view.ts';
import { createCopy, ProjectCopyError, removeCopy } from '../opencode/project-copies.ts';
import { randomName } from '../opencode/worktrees.ts';
import { ref, type ParamDoc, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';
import { LOCATION_QUERY, v2Instance } from './opencode-project.ts';

const PROJECT: Record<string, ParamDoc> = { projectID: { description: 'The project’s id (`GET /project/current`’s `id`, of the requested folder)' } };
const ERROR = { 400: { description: 'ProjectCopyError (`data.forceRequired` when a copy with changes needs `force`), or a bad body', schema: ref('Error') } };

/** The requested folder's project root, when `projectID` is its id. */
async function projectOf(c: ServerContext): Promise<string> {
  const instance = await v2Instance(c);
  const id = c.req.param('projectID') ?? '';
  const own = projectId(instance.projectRoot);
  if (id !== own) throw new ProjectCopyError(`Project copy source not found: project ${JSON.stringify(id.slice(0, 80))} is not the requested folder's (${instance.projectRoot} is project ${own}).`, 'Send the id GET /project/current gives for the folder named by location[directory] (or ?directory=, or x-opencode-directory).');
  return instance.projectRoot;
}

function changed(c: ServerContext, projectRoot: string): void {
  c.get('state').events.publish(projectRoot, { type: 'project.directories.updated', properties: { projectID: projectId(projectRoot) } });
}

export const openCodeProjectCopyRoutes: RouteGroup = {
  name: 'opencode-project-copy',
  description: 'Copies of the project (git worktrees), as OpenCode’s experimental API makes them.',
  routes: [
    {
      method: 'post',
      path: '/experimental/project/{projectID}/copy',
      operationId: 'v2.projectCopy.create',
      summary: 'Make a project copy',
      description:
        'A git worktree of the project’s `HEAD`, detached, at `<directory>/<name>` (`directory` made when missing, relative to the project’s root; `name` as given, random as `<adjective>-<noun>` when left out; `-2` … `-10` added when taken), its files checked out; answers `{directory}` and publishes `project.directories.updated`. `strategy` must be `git_worktree` (OpenCode’s one). 400 `ProjectCopyError`: another strategy, a project outside git, a `projectID` that is not the requested folder’s project, a name with `/`, every name taken.',
      params: PROJECT,
      query: LOCATION_QUERY,
      body: { type: 'object', required: ['strategy', 'directory'], properties: { strategy: { type: 'string', maxLength: 200 }, directory: { type: 'string', minLength: 1, maxLength: 4096 }, name: { type: 'string', minLength: 1, maxLength: 200 } }, additionalProperties: false },
      responses: { 200: { description: 'The copy', schema: { type: 'object', required: ['directory'], properties: { directory: { type: 'string' } } } }, ...ERROR },
      handler: async (c, { body }) => {
        const projectRoot = await projectOf(c);
        const made = await createCopy(projectRoot, body as { strategy: string; directory: string; name?: string });
        changed(c, projectRoot);
        return c.json(made);
      },
    },
    {
      method: 'delete',
      path: '/experimental/project/{projectID}/copy',
      operationId: 'v2.projectCopy.remove',
      summary: 'Remove a project copy',
      description:
        '`git worktree remove` (with `--force` when `force` is true) of a copy of the project: a worktree of its repository other than its primary checkout (the sandbox worktrees of /experimental/worktree are copies too, as in OpenCode; their branch is kept). 204, and `project.directories.updated`. A copy with changes and `force: false`: 400 `ProjectCopyError` with `forceRequired: true`. The project’s root, a folder that is no worktree of it, or one not there: 400, nothing removed.',
      params: PROJECT,
      query: LOCATION_QUERY,
      body: { type: 'object', required: ['directory', 'force'], properties: { directory: { type: 'string', minLength: 1, maxLength: 4096 }, force: { type: 'boolean' } }, additionalProperties: false },
      responses: { 204: { description: 'Removed' }, ...ERROR },
      handler: async (c, { body }) => {
        const projectRoot = await projectOf(c);
        await removeCopy(projectRoot, body as { directory: string; force: boolean });
        changed(c, projectRoot);
        return c.body(null, 204);
      },
    },
    {
      method: 'post',
      path: '/experimental/project/{projectID}/copy/refresh',
      operationId: 'v2.projectCopy.refresh',
      summary: 'Refresh the project’s copies',
      description: '204, nothing to do: Pantheon reads the copies from `git worktree list` each time they are asked for (OpenCode refreshes a registry of them from it). A `projectID` that is not the requested folder’s project is a 400 `ProjectCopyError`.',
      params: PROJECT,
      query: LOCATION_QUERY,
      responses: { 204: { description: 'Refreshed' }, ...ERROR },
      handler: async (c) => {
        await projectOf(c);
        return c.body(null, 204);
      },
    },
    {
      method: 'post',
      path: '/experimental/project/{projectID}/copy/generate-name',
      operationId: 'experimental.projectCopy.generateName',
      summary: 'Generate project copy name',
      description:
        'A random `<adjective>-<noun>` name (`{name}`), the one POST …/copy would pick. OpenCode asks its small model for a short name from `context` and falls back to such a random name when it has none; Pantheon does not spend a model call on it: `context` is taken and not used. Any `projectID` is taken, as OpenCode.',
      params: PROJECT,
      query: DIRECTORY_QUERY,
      body: { type: 'object', properties: { context: { type: 'string', maxLength: 100_000 } }, additionalProperties: false },
      responses: { 200: { description: 'A name', schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } }, 400: { description: 'A bad body', schema: ref('Error') } },
      handler: async (c) => {
        await requestInstance(c);
        return c.json({ name: randomName() });
      },
    },
  ] satisfies RouteDef[],
};
