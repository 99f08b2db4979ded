/**
 * OpenCode's GET /experimental/session through `@opencode-ai/sdk` v2 against `opencode serve`: the
 * sessions of two projects, newest first, each with its project; pages by `limit` and the
 * `x-next-cursor` header; `roots`, `search`, `start` and `directory`; bad parameters named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

type Listed = { id: string; title: string; directory: string; parentID?: string; time: { updated: number }; project: { id: string; worktree: string } | null };

let sb: Sandbox;
let s: Served;
let other: string;
const made: { id: string; project: string }[] = [];

/** A session made after the clock moved on from the last one's (so their times differ). */
async function create(directory: string, body: { title: string; parentID?: string }): Promise<string> {
  const last = Date.now();
  while (Date.now() === last) await new Promise((resolve) => setImmediate(resolve));
  const r = await createV2({ baseUrl: s.url, directory }).session.create(body);
  const id = r.data?.id ?? '';
  made.push({ id, project: directory });
  return id;
}

beforeAll(async () => {
  sb = await sandbox();
  other = path.join(sb.root, 'other');
  fs.mkdirSync(path.join(other, '.git'), { recursive: true });
  s = await serve(sb);
  const parent = await create(sb.project, { title: 'Alpha plan' });
  await create(other, { title: 'beta elsewhere' });
  await create(sb.project, { title: 'child of alpha', parentID: parent });
  await create(other, { title: 'Gamma notes' });
});

afterAll(async () => {
  await s?.stop();
  await sb?.remove();
});

const v2 = () => createV2({ baseUrl: s.url });

describe('GET /experimental/session', () => {
  it('lists every project’s sessions, newest first, each with its project', async () => {
    const r = await v2().experimental.session.list();
    expect(r.response.status).toBe(200);
    const list = r.data as unknown as Listed[];
    expect(list.map((x) => x.id)).toEqual(made.map((m) => m.id).reverse());
    for (const [i, x] of list.entries()) {
      const project = made[made.length - 1 - i]?.project as string;
      expect(x).toMatchObject({ directory: project, project: { worktree: project, id: expect.any(String) } });
    }
    expect(list.find((x) => x.title === 'child of alpha')?.parentID).toBe(made[0]?.id);
    expect(r.response.headers.get('x-next-cursor')).toBeNull();
  });

  it('pages by limit, the next page from the x-next-cursor header', async () => {
    const first = await v2().experimental.session.list({ limit: 3 });
    const page1 = first.data as unknown as Listed[];
    expect(page1.length).toBe(3);
    const cursor = first.response.headers.get('x-next-cursor');
    expect(cursor).toBe(String(page1[2]?.time.updated));
    const page2 = (await v2().experimental.session.list({ limit: 3, cursor: Number(cursor) })).data as unknown as Listed[];
    expect([...page1, ...page2].map((x) => x.id)).toEqual(made.map((m) => m.id).reverse());
    expect((await v2().experimental.session.list({ limit: 0 })).data).toEqual([]);
  });

  it('roots, search (any case), start and directory narrow it', async () => {
    const titles = async (query: Parameters<ReturnType<typeof v2>['experimental']['session']['list']>[0]) => ((await v2().experimental.session.list(query)).data as unknown as Listed[]).map((x) => x.title);
    expect(await titles({ roots: true })).toEqual(['Gamma notes', 'beta elsewhere', 'Alpha plan']);
    expect(await titles({ search: 'ALPHA' })).toEqual(['child of alpha', 'Alpha plan']);
    const all = (await v2().experimental.session.list()).data as unknown as Listed[];
    expect(await titles({ start: all[1]?.time.updated })).toEqual(['Gamma notes', 'child of alpha']);
    expect(await titles({ directory: other })).toEqual(['Gamma notes', 'beta elsewhere']);
  });

  it('bad parameters are a 400 naming them', async () => {
    for (const [query, field] of [['roots=maybe', 'roots'], ['archived=yes', 'archived'], ['limit=-1', 'limit'], ['limit=lots', 'limit'], ['cursor=soon', 'cursor'], ['start=', 'start']] as const) {
      const r = await getJson(`${s.url}/experimental/session?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body, query).toMatchObject({ name: 'BadRequest', data: { field, message: expect.stringContaining(`query parameter "${field}"`) } });
    }
    expect((await getJson(`${s.url}/experimental/session?directory=${encodeURIComponent(path.join(sb.root, 'nowhere'))}`)).status).toBe(400);
  });
});
