/**
 * With OPENCODE_SERVER_PASSWORD set, every route of every group the password guards (all but the
 * gateway's, which take their bearer keys) refuses a request without it: a 401 with a JSON reason,
 * read from the route table itself, so a route added later is covered without a word here. Nothing
 * a refused request would change is changed (the project's config file, its sessions).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { ROUTE_GROUPS } from '../../src/server/routes/index.ts';
import { serve, type Served } from './serve-helper.ts';

const PASSWORD = 'every route asks';

describe('the server password on every route', () => {
  let sb: Sandbox;
  let served: Served;
  let config: string;

  beforeAll(async () => {
    sb = await sandbox();
    sb.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRET }, models: { m: {} } } } });
    config = fs.readFileSync(path.join(sb.project, 'opencode.json'), 'utf8');
    served = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: PASSWORD });
  });

  afterAll(async () => {
    await served?.stop();
    await sb?.remove();
  });

  it('refuses every guarded route without it (401, a JSON reason), and changes nothing', async () => {
    const routes = ROUTE_GROUPS.filter((g) => !g.gate).flatMap((g) => g.routes.map((r) => ({ method: r.method.toUpperCase(), path: r.path })));
    expect(routes.length).toBeGreaterThan(150);
    const answered: string[] = [];
    for (const { method, path: route } of routes) {
      const url = `${served.url}${route.replace(/\{[^}]+\}/g, 'x1').replace(/\*$/, 'x1')}`;
      const res = await fetch(url, { method, headers: { 'content-type': 'application/json', 'x-opencode-directory': sb.project }, ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }) });
      const text = await res.text();
      if (res.status !== 401) answered.push(`${method} ${route}: ${res.status}`);
      // OpenCode's v1 error shape, or v2's tagged one under /api/session and /api/pty.
      else expect(JSON.parse(text), `${method} ${route}`).toSatisfy((b: { data?: { code?: string }; _tag?: string }) => b.data?.code === 'UNAUTHORIZED' || b._tag === 'UnauthorizedError');
    }
    expect(answered).toEqual([]);
    expect(fs.readFileSync(path.join(sb.project, 'opencode.json'), 'utf8')).toBe(config);
    const withPassword = { authorization: `Basic ${Buffer.from(`opencode:${PASSWORD}`).toString('base64')}`, 'x-opencode-directory': sb.project };
    expect(await (await fetch(`${served.url}/session`, { headers: withPassword })).json()).toEqual([]);
  });
});
