/**
 * OpenCode v2's read routes over real HTTP, through @opencode-ai/sdk's v2 client where it has them,
 * against a password-protected `opencode serve`: health, a folder's listing and a file served as it
 * is (containment, dot segments, folders, missing files, binary and large files), one provider,
 * the open permission requests and questions of a location, what "always" approved (listed, taken
 * back: the call is asked about again), and the v2 event stream that puts those questions to its
 * client. Shapes as OpenCode 1.18.33's own server answers them (recorded offline).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { untilNotBusy } from './asks-helper.ts';
import { collect, type OcEventLike } from './sdk-helper.ts';
import { basic, getJson, serve, type Served } from './serve-helper.ts';

const PASSWORD = 'v2 reads, behind a password';
const AUTH = { authorization: basic('opencode', PASSWORD) };

let model: ScriptedServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;
let outside: string;

function write(rel: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.join(sb.project, rel)), { recursive: true });
  fs.writeFileSync(path.join(sb.project, rel), content);
}

beforeAll(async () => {
  model = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, permission: { bash: 'ask' } });
  write('src/app.ts', 'export const greeting = "héllo";\n');
  write('pic.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
  write('blob.dat', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0]));
  write('empty.txt', '');
  write('with space #1.txt', 'spaced');
  // Over the 5 MB that GET /file/content reads: served whole, streamed.
  write('large.txt', 'line of text\n'.repeat(500_000));
  outside = path.join(sb.root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'not for clients');
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(sb.project, 'secret-link.txt'));
  s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: PASSWORD });
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project, headers: AUTH });
});

beforeEach(() => model.reset());

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

const get = (route: string, init: RequestInit = {}) => getJson(`${s.url}${route}`, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string>) } });

describe('v2 health, files and providers', () => {
  it('health: {healthy: true}, without the password a 401', async () => {
    const { data, response } = await client.v2.health.get();
    expect(response.status).toBe(200);
    expect(data).toEqual({ healthy: true });
    expect((await getJson(`${s.url}/api/health`)).status).toBe(401);
  });

  it('lists a folder: {path, type}, folders first with a trailing slash, relative to the location; v2 errors for a file, a missing folder, a path out', async () => {
    const { data, response } = await client.v2.fs.list({ location: { directory: sb.project } });
    expect(response.status).toBe(200);
    const body = data as { location: { directory: string }; data: { path: string; type: string }[] };
    expect(body.location.directory).toBe(sb.project);
    expect(body.data.slice(0, 2)).toEqual([
      { path: '.git/', type: 'directory' },
      { path: 'src/', type: 'directory' },
    ]);
    expect(body.data).toContainEqual({ path: 'pic.png', type: 'file' });
    // A symlink is not listed, as OpenCode lists none.
    expect(body.data.map((e) => e.path)).not.toContain('secret-link.txt');
    expect((await client.v2.fs.list({ path: 'src' })).data).toMatchObject({ data: [{ path: 'src/app.ts', type: 'file' }] });

    const file = await get('/api/fs/list?path=pic.png');
    expect(file.status).toBe(400);
    expect(file.body).toMatchObject({ _tag: 'InvalidRequestError', kind: 'Query', field: 'path', message: 'query parameter "path": "pic.png" is a file, not a folder.' });
    const missing = await get('/api/fs/list?path=nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ _tag: 'NotFoundError', message: 'query parameter "path": no folder "nope" in the project.' });
    for (const out of ['..', 'src/../..', outside]) {
      const res = await get(`/api/fs/list?path=${encodeURIComponent(out)}`);
      expect(res.status, out).toBe(403);
      expect(res.body, out).toMatchObject({ _tag: 'ForbiddenError', message: expect.stringContaining('leads outside the project folder') });
    }
    const gone = await get(`/api/fs/list?location[directory]=${encodeURIComponent(path.join(sb.root, 'nowhere'))}`);
    expect(gone.status).toBe(400);
    expect(gone.body).toMatchObject({ _tag: 'InvalidRequestError', kind: 'Query', message: expect.stringContaining('query parameter "location[directory]"') });
  });

  it('serves a file as it is, with its content type, never as a page; text, binary, empty, large, an encoded name', async () => {
    const read = (rel: string) => fetch(`${s.url}/api/fs/read/${rel}`, { headers: AUTH });
    const text = await read('src/app.ts');
    expect(text.status).toBe(200);
    // OpenCode answers video/mp2t for a .ts file (by its extension alone).
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text.headers.get('x-content-type-options')).toBe('nosniff');
    expect(text.headers.get('content-security-policy')).toBe('sandbox');
    expect(text.headers.get('cross-origin-resource-policy')).toBe('same-site');
    expect(await text.text()).toBe('export const greeting = "héllo";\n');

    const png = await read('pic.png');
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer())).toEqual(fs.readFileSync(path.join(sb.project, 'pic.png')));
    const blob = await read('blob.dat');
    expect(blob.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await blob.arrayBuffer())).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0]));
    const empty = await read('empty.txt');
    expect([empty.status, empty.headers.get('content-length'), await empty.text()]).toEqual([200, '0', '']);
    const spaced = await read(encodeURIComponent('with space #1.txt'));
    expect(await spaced.text()).toBe('spaced');
    const large = await read('large.txt');
    expect(large.headers.get('content-length')).toBe(String(13 * 500_000));
    expect((await large.arrayBuffer()).byteLength).toBe(13 * 500_000);
    // A location names the folder the path is relative to.
    const located = await fetch(`${s.url}/api/fs/read/app.ts?location[directory]=${encodeURIComponent(path.join(sb.project, 'src'))}`, { headers: AUTH });
    expect(await located.text()).toBe('export const greeting = "héllo";\n');
  });

  it('lets a file go when its reader leaves mid-file: no descriptor of it left open in the server', async () => {
    const big = path.join(sb.project, 'huge.bin');
    // Sparse: 256 MiB that take no disk, far more than the sockets between the two hold.
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, 256 * 1024 * 1024);
    const fdsOf = () => fs.readdirSync(`/proc/${s.proc.child.pid as number}/fd`).flatMap((fd) => {
      try {
        return [fs.readlinkSync(`/proc/${s.proc.child.pid as number}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
    const res = await fetch(`${s.url}/api/fs/read/huge.bin`, { headers: AUTH });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).done).toBe(false);
    expect(fdsOf()).toContain(big);
    await reader.cancel();
    const deadline = Date.now() + 15_000;
    while (fdsOf().includes(big)) {
      if (Date.now() > deadline) throw new Error(`${big} still open in the server after its reader left`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The server goes on answering.
    expect((await get('/api/health')).status).toBe(200);
    fs.rmSync(big);
  });

  it('serves nothing outside the folder, nor a folder or a missing file: v2 errors naming the path; the SDK’s read (which cannot name a file) is a 404', async () => {
    const read = async (rel: string) => {
      const res = await fetch(`${s.url}/api/fs/read/${rel}`, { headers: AUTH });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await read('secret-link.txt')).toMatchObject({ status: 403, body: { _tag: 'ForbiddenError', message: 'path parameter "path": "secret-link.txt" leads outside the project folder through a symlink.' } });
    expect(await read(encodeURIComponent(path.join(outside, 'secret.txt')))).toMatchObject({ status: 403, body: { _tag: 'ForbiddenError' } });
    // A dot segment, its slash encoded or not, names no route at all.
    for (const dots of ['..%2Foutside%2Fsecret.txt', 'src/%2e%2e/%2e%2e/outside/secret.txt', '%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt']) {
      const res = await read(dots);
      expect(res.status, dots).toBe(404);
      expect(JSON.stringify(res.body), dots).not.toContain('not for clients');
    }
    expect(await read('src')).toMatchObject({ status: 400, body: { _tag: 'InvalidRequestError', kind: 'Params', field: 'path', message: 'path parameter "path": "src" is a folder, not a file.' } });
    expect(await read('nope.txt')).toMatchObject({ status: 404, body: { _tag: 'NotFoundError', message: 'path parameter "path": no file "nope.txt" in the project.' } });
    expect(await read('bad%00name')).toMatchObject({ status: 400, body: { _tag: 'InvalidRequestError' } });
    // Longer than a file system takes (ENAMETOOLONG was a 500, on v1's /file and /file/content too): a 400 naming the path.
    const long = 'n'.repeat(300);
    expect(await read(long)).toMatchObject({ status: 400, body: { _tag: 'InvalidRequestError', kind: 'Params', field: 'path', message: expect.stringContaining('is too long for a path (at most 255 bytes a name, 4,096 in all)') } });
    expect(await read('d/'.repeat(2100))).toMatchObject({ status: 400, body: { _tag: 'InvalidRequestError' } });
    expect(await get(`/api/fs/list?path=${long}`)).toMatchObject({ status: 400, body: { _tag: 'InvalidRequestError', kind: 'Query', field: 'path' } });
    for (const v1 of ['/file', '/file/content']) {
      const res = await get(`${v1}?path=${long}`);
      expect(res.status, v1).toBe(400);
      expect(res.body, v1).toMatchObject({ name: 'BadRequest', data: { message: expect.stringContaining('query parameter "path"'), field: 'path' } });
    }
    const sdk = await client.v2.fs.read({});
    expect(sdk.response.status).toBe(404);
    expect((await fetch(`${s.url}/api/fs/read/src/app.ts`)).status).toBe(401);
  });

  it('one provider by id; an unknown one is a 404 ProviderNotFoundError, as OpenCode answers', async () => {
    const { data, response } = await client.v2.provider.get({ providerID: 'p' });
    expect(response.status).toBe(200);
    const listed = ((await client.v2.provider.list()).data as { data: { id: string }[] }).data.find((p) => p.id === 'p');
    expect((data as { data: unknown }).data).toEqual(listed);
    expect(JSON.stringify(data)).not.toContain(SECRET);
    const unknown = await client.v2.provider.get({ providerID: 'nope' });
    expect(unknown.response.status).toBe(404);
    expect(unknown.error).toMatchObject({ _tag: 'ProviderNotFoundError', providerID: 'nope', message: 'No provider "nope" in this folder’s config or catalogue.' });
    const gone = await get(`/api/provider/p?location[directory]=${encodeURIComponent(path.join(sb.root, 'nowhere'))}`);
    expect(gone.status).toBe(400);
    expect(gone.body).toMatchObject({ _tag: 'InvalidRequestError' });
  });
});

type V2Event = { id: string; type: string; location?: { directory: string }; data: Record<string, unknown> };

describe('v2 permission requests, questions and saved approvals', () => {
  it('a v2 listener is asked; the request is listed in v2’s shape; "always" is saved, listed, and taken back (the next call is asked again)', async () => {
    const abort = new AbortController();
    const sse = await client.v2.event.subscribe({ signal: abort.signal, sseMaxRetryAttempts: 0 });
    const stream = collect(sse.stream as AsyncIterable<unknown>, (e) => {
      const v2 = e as V2Event;
      return { type: v2.type, properties: { ...v2.data, _location: v2.location, _id: v2.id } } as OcEventLike;
    });
    try {
      const connected = await stream.until((e) => e.type === 'server.connected');
      expect(connected.properties._id).toMatch(/^evt_/);
      const session = ((await client.session.create({})).data as { id: string }).id;
      const created = await stream.until((e) => e.type === 'session.created' && e.properties.sessionID === session);
      expect(created.properties._location).toEqual({ directory: sb.project });

      const askTouch = async (file: string) => {
        const marker = path.join(sb.project, file);
        model.script('m', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: `touch ${marker}` }, id: `call_${file.replace(/\W/g, '')}` }] }, { type: 'text', text: 'done.' });
        await untilNotBusy(client, session);
        const seen = stream.events.length;
        expect((await client.session.promptAsync({ sessionID: session, parts: [{ type: 'text', text: `touch ${file}` }] })).response.status).toBeLessThan(300);
        return { marker, seen };
      };
      const askedAfter = (seen: number) => stream.until((e) => stream.events.indexOf(e) >= seen && e.type === 'permission.asked' && e.properties.sessionID === session);
      const idleAfter = (seen: number) => stream.until((e) => stream.events.indexOf(e) >= seen && e.type === 'session.idle' && e.properties.sessionID === session);

      const first = await askTouch('first.txt');
      const asked = (await askedAfter(first.seen)).properties as { id: string };
      const pending = await client.v2.permission.request.list({ location: { directory: sb.project } });
      expect(pending.response.status).toBe(200);
      expect((pending.data as { data: unknown[] }).data).toEqual([
        { id: asked.id, sessionID: session, action: 'bash', resources: [`touch ${first.marker}`], save: ['touch *'], metadata: { command: `touch ${first.marker}` }, source: { type: 'tool', messageID: expect.stringMatching(/^msg_/), callID: 'call_firsttxt' } },
      ]);
      expect((await client.v2.question.request.list({})).data).toMatchObject({ location: { directory: sb.project }, data: [] });
      expect((await client.v2.permission.saved.list({})).data).toEqual({ data: [] });

      expect((await client.permission.reply({ requestID: asked.id, reply: 'always' })).response.status).toBe(200);
      await idleAfter(first.seen);
      expect(fs.existsSync(first.marker)).toBe(true);
      const projectID = ((await client.v2.location.get({})).data as { project: { id: string } }).project.id;
      const saved = (await client.v2.permission.saved.list({})).data as { data: { id: string }[] };
      expect(saved.data).toEqual([{ id: expect.stringMatching(/^psv_/), projectID, action: 'bash', resource: 'touch *' }]);
      expect((await client.v2.permission.saved.list({ projectID })).data).toEqual(saved);
      expect((await client.v2.permission.saved.list({ projectID: 'another-project' })).data).toEqual({ data: [] });
      expect((await client.v2.permission.request.list({})).data).toMatchObject({ data: [] });

      // Approved: the next touch runs without a question.
      const second = await askTouch('second.txt');
      await idleAfter(second.seen);
      expect(fs.existsSync(second.marker)).toBe(true);
      expect(stream.events.slice(second.seen).some((e) => e.type === 'permission.asked')).toBe(false);

      // Taken back: asked again. Removing it twice, or an id that never was, is a 204 too (as OpenCode answers).
      const id = (saved.data[0] as { id: string }).id;
      expect((await client.v2.permission.saved.remove({ id })).response.status).toBe(204);
      expect((await client.v2.permission.saved.remove({ id })).response.status).toBe(204);
      expect((await client.v2.permission.saved.list({})).data).toEqual({ data: [] });
      const third = await askTouch('third.txt');
      const again = (await askedAfter(third.seen)).properties as { id: string };
      expect(fs.existsSync(third.marker)).toBe(false);
      expect((await client.permission.reply({ requestID: again.id, reply: 'once' })).response.status).toBe(200);
      await idleAfter(third.seen);
      expect(fs.existsSync(third.marker)).toBe(true);
    } finally {
      abort.abort();
    }
  });

  it('bad input: an empty or overlong projectID is a 400 naming it; the routes need the password; a page of another site may not delete', async () => {
    for (const bad of ['', 'x'.repeat(201)]) {
      const res = await get(`/api/permission/saved?projectID=${bad}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ _tag: 'InvalidRequestError', kind: 'Query', field: 'projectID', message: expect.stringContaining('query parameter "projectID": expected a project id') });
    }
    // Every /api/… route of OpenCode's answers in v2's error shape, as OpenCode's do; Pantheon's own /api/state keeps OpenCode's v1 shape.
    for (const route of ['/api/permission/request', '/api/question/request', '/api/permission/saved', '/api/fs/list', '/api/provider/p', '/api/event', '/api/health', '/api/agent']) {
      const res = await getJson(`${s.url}${route}`);
      expect(res.status, route).toBe(401);
      expect(res.body, route).toMatchObject({ _tag: 'UnauthorizedError', message: 'This server needs a password.' });
    }
    expect((await getJson(`${s.url}/api/state`)).body).toMatchObject({ name: 'UnauthorizedError', data: { code: 'UNAUTHORIZED' } });
    const unknown = await get('/api/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ _tag: 'NotFoundError' });
    const foreign = await fetch(`${s.url}/api/permission/saved/psv_x`, { method: 'DELETE', headers: { ...AUTH, origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    const gone = await get(`/api/question/request?location[directory]=${encodeURIComponent(path.join(sb.root, 'nowhere'))}`);
    expect(gone.status).toBe(400);
    expect(gone.body).toMatchObject({ _tag: 'InvalidRequestError', message: expect.stringContaining('location[directory]') });
  });
});
