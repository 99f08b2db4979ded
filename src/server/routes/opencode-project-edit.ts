/**
 * OpenCode's routes that change a project: `POST /project/git/init` (make the folder a git
 * repository) and `PATCH /project/{projectID}` (its name, icon and start command, as OpenCode's apps
 * set them). Each publishes `project.updated` on /global/event, as OpenCode does.
 */
import { execFile } from 'node:child_process';
import { safeLine } from '../../cli/terminal-text.ts';
import { HttpError } from '../http-error.ts';
import { projectId } from '../opencode/catalog-view.ts';
import { disposeInstance } from '../opencode/instance-events.ts';
import { changeProjectRecord, readProjectRecords, type ProjectChange } from '../opencode/project-records.ts';
import { gitCheckout } from '../opencode/vcs.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import type { ServerState } from '../state.ts';
import { DIRECTORY_QUERY, projectView, requestInstance } from './opencode-app.ts';

/** How long `git init` may take. */
const GIT_INIT_TIMEOUT_MS = 15_000;

const BAD = { 400: { description: 'Bad request (the field is named)', schema: ref('Error') } };
const text = (maxLength: number, description?: string): JsonSchema => ({ type: ['string', 'null'], maxLength, ...(description ? { description } : {}) });

const PROJECT_CHANGE: JsonSchema = {
  type: 'object',
  properties: {
    name: text(200, 'The project’s name (`null` clears it)'),
    icon: {
      type: ['object', 'null'],
      properties: { url: text(1_000_000, 'An image URL (a data: URL too)'), override: text(1_000_000), color: text(100) },
      additionalProperties: false,
    },
    commands: { type: ['object', 'null'], properties: { start: text(10_000, 'Startup script to run when creating a new workspace (worktree)') }, additionalProperties: false },
  },
  additionalProperties: false,
};

/** The project as answered, and `project.updated` with it on /global/event. */
async function announce(state: ServerState, projectRoot: string): Promise<object> {
  const project = await projectView(projectRoot, state.host.startedAt, await readProjectRecords(state.host.env));
  state.events.publish(undefined, { type: 'project.updated', properties: project as Record<string, unknown> });
  return project;
}

function gitInit(directory: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('git', ['init', '-q'], { cwd: directory, timeout: GIT_INIT_TIMEOUT_MS, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed' : safeLine(stderr.trim() || error.message, 300);
      reject(new HttpError(500, 'GIT_INIT_FAILED', `git init failed in ${directory}: ${why}.`, { hint: 'Run `git init` in the folder yourself to see why.' }));
    });
  });
}

/** The project root of `id` among the server's open projects and the request's own. */
async function projectRootOf(c: ServerContext, id: string): Promise<string> {
  const state = c.get('state');
  const roots = [(await requestInstance(c)).projectRoot, ...(await state.host.instances.list()).map((i) => i.projectRoot)];
  const root = roots.find((r) => projectId(r) === id);
  if (root === undefined) {
    throw new HttpError(404, 'PROJECT_NOT_FOUND', `Project not found: ${JSON.stringify(id.slice(0, 80))}.`, { hint: 'GET /project lists the projects the server has open, with their ids.', details: { projectID: id.slice(0, 80) } });
  }
  return root;
}

export const openCodeProjectEditRoutes: RouteGroup = {
  name: 'opencode-project-edit',
  description: 'Changing a project: making it a git repository, its name, icon and start command.',
  routes: [
    {
      method: 'post',
      path: '/project/git/init',
      operationId: 'project.initGit',
      summary: 'Make the project a git repository',
      description:
        'Runs `git init` in the requested folder when its project is not in a git repository yet (nothing is run when it is), then answers the project as GET /project/current does. A new repository changes the project (its root is now the folder): it is let go (`server.instance.disposed`) and `project.updated` is published on /global/event.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'The project', schema: ref('Project') }, ...BAD, 500: { description: 'git init failed (why is said)', schema: ref('Error') } },
      handler: async (c) => {
        const state = c.get('state');
        const instance = await requestInstance(c);
        if ((await gitCheckout(instance.projectRoot)).git) return c.json(await projectView(instance.projectRoot, state.host.startedAt, await readProjectRecords(state.host.env)));
        await gitInit(instance.directory);
        await disposeInstance(state, instance);
        const reopened = await state.host.instance(instance.directory);
        return c.json(await announce(state, reopened.projectRoot));
      },
    },
    {
      method: 'patch',
      path: '/project/{projectID}',
      operationId: 'project.update',
      summary: 'Change a project’s name, icon or start command',
      description:
        'Sets the fields given (`null` clears one; an `icon`’s fields merge with those kept), kept by project id in `$XDG_DATA_HOME/pantheon/projects.json`, then answers the project and publishes `project.updated` on /global/event. The project must be one the server has open (GET /project): another id is a 404.',
      params: { projectID: { description: 'A project’s id (`GET /project`’s `id`)' } },
      query: DIRECTORY_QUERY,
      body: PROJECT_CHANGE,
      responses: { 200: { description: 'The project', schema: ref('Project') }, ...BAD, 404: { description: 'No such project open', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const state = c.get('state');
        const root = await projectRootOf(c, params.projectID as string);
        await changeProjectRecord(state.host.env, projectId(root), body as ProjectChange, Date.now());
        return c.json(await announce(state, root));
      },
    },
  ] satisfies RouteDef[],
};
