/**
 * OpenCode's `GET /experimental/session`: the sessions of every project, most recently updated
 * first, each with its project, a page at a time (`limit`, the next page's `cursor` in the
 * `x-next-cursor` header), as OpenCode 1.18 lists them.
 */
import { HttpError } from '../http-error.ts';
import { projectId } from '../opencode/catalog-view.ts';
import { openCodeSession } from '../opencode/session-view.ts';
import { ref, type ParamDoc, type RouteGroup, type ServerContext } from '../route.ts';
import { requestInstance } from './opencode-app.ts';

/** OpenCode's page when no `limit` is given. */
const DEFAULT_LIMIT = 100;

function bad(name: string, message: string, hint: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `query parameter "${name}": ${message}.`, { hint, details: { field: name } });
}

function flag(c: ServerContext, name: string, hint: string): boolean | undefined {
  const value = c.req.query(name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw bad(name, `expected true or false, found ${JSON.stringify(value.slice(0, 40))}`, hint);
  return value === 'true';
}

function number(c: ServerContext, name: string, hint: string, positive = false): number | undefined {
  const value = c.req.query(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (positive && n < 0)) throw bad(name, `expected ${positive ? 'a number, 0 or more' : 'a number'}, found ${JSON.stringify(value.slice(0, 40))}`, hint);
  return n;
}

const QUERY: Record<string, ParamDoc> = {
  directory: { description: 'Only the sessions of this folder’s project' },
  roots: { description: '`true`: only sessions that are no other’s child' },
  start: { description: 'Only sessions updated at or after this time (ms since 1970)' },
  cursor: { description: 'Only sessions updated before this time (ms): the `x-next-cursor` of the previous page' },
  search: { description: 'Only sessions whose title contains this (any case)' },
  limit: { description: `At most this many (default ${DEFAULT_LIMIT})` },
  archived: { description: '`true`: archived sessions too (Pantheon archives none)' },
};

export const openCodeGlobalSessionRoutes: RouteGroup = {
  name: 'opencode-global-sessions',
  description: 'The sessions of every project, as OpenCode’s experimental API lists them.',
  routes: [
    {
      method: 'get',
      path: '/experimental/session',
      operationId: 'experimental.session.list',
      summary: 'The sessions of every project, most recently updated first',
      description:
        'OpenCode’s GlobalSession: each session as `GET /session` gives it, with its `project` (`{id, worktree}`), ordered by `time.updated` then id, newest first. `limit` (default 100) cuts the page; when more follow, the header `x-next-cursor` holds the last one’s `time.updated`, to send as `cursor` for the next page. `directory` keeps the sessions of that folder’s project (Pantheon keeps a session’s project, not the folder inside it that it was made in); the `x-opencode-directory` header does not filter, as OpenCode. `roots`, `search` and `start` narrow it as their descriptions say. Unreadable session files are left out (`opencode session list --all` names them).',
      query: QUERY,
      responses: { 200: { description: 'Sessions', schema: { type: 'array', items: ref('Session') } }, 400: { description: 'Bad request (the parameter is named)', schema: ref('Error') } },
      handler: async (c) => {
        const roots = flag(c, 'roots', 'roots=true leaves out the child sessions of task calls.');
        flag(c, 'archived', 'archived=true lists archived sessions too.');
        const start = number(c, 'start', 'Send a time in milliseconds since 1970.');
        const cursor = number(c, 'cursor', 'Send the x-next-cursor header of the previous page.');
        const limit = number(c, 'limit', `Send how many sessions to answer at most (default ${DEFAULT_LIMIT}).`, true) ?? DEFAULT_LIMIT;
        const search = c.req.query('search')?.toLowerCase();
        const state = c.get('state');
        const projectRoot = c.req.query('directory') === undefined ? undefined : (await requestInstance(c)).projectRoot;
        const all = await state.host.sessions.listAll(projectRoot);
        const found = all
          .filter((s) => (!roots || s.parentID === undefined) && (start === undefined || s.updatedAt >= start) && (cursor === undefined || s.updatedAt < cursor))
          .map((s) => ({ s, view: openCodeSession(s, state.version) }))
          .filter(({ view }) => !search || String(view.title).toLowerCase().includes(search))
          .sort((a, b) => b.s.updatedAt - a.s.updatedAt || (a.s.id < b.s.id ? 1 : a.s.id > b.s.id ? -1 : 0));
        const page = found.slice(0, Math.floor(limit));
        const more = found.length > page.length && page.length > 0;
        const body = page.map(({ s, view }) => ({ ...view, project: { id: projectId(s.projectRoot), worktree: s.projectRoot } }));
        return c.json(body, 200, more ? { 'x-next-cursor': String(page[page.length - 1]?.s.updatedAt) } : {});
      },
    },
  ],
};
