/**
 * GitHub Copilot's built-in login (plugins/builtin/copilot-login.ts) against a scripted GitHub on
 * https://127.0.0.1 (a GitHub Enterprise host, its CA trusted with NODE_EXTRA_CA_CERTS): `opencode
 * auth login github-copilot` asks the deployment and the host (lines of stdin), shows the
 * verification page and the code, polls through `authorization_pending` and `slow_down`, and stores
 * what OpenCode stores; an expired code, a refused device code and a host that is not a URL are one
 * sentence each, with nothing saved. Under `opencode serve`, OpenCode's TUI finds the method in
 * `GET /provider/auth` and logs in with `/provider/github-copilot/oauth/authorize` and `/callback`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.ts';
import { hasStack, sandbox, type Sandbox } from '../cli/cli-helper.ts';

const TOKEN = 'ghu_CopilotLoginToken0123456789';

describe('opencode auth login github-copilot (the built-in login)', () => {
  let sb: Sandbox;
  let github: FakeGitHub | undefined;
  let authJson: string;

  beforeEach(async () => {
    sb = await sandbox();
    authJson = path.join(sb.dataHome, 'opencode', 'auth.json');
  });
  afterEach(async () => {
    await sb.remove();
    await github?.close();
    github = undefined;
  });

  const stored = () => JSON.parse(readFileSync(authJson, 'utf8')) as Record<string, unknown>;
  const login = (gh: FakeGitHub, stdin: string, args: string[] = []) => sb.run(['auth', 'login', 'github-copilot', ...args], { stdin, env: { NODE_EXTRA_CA_CERTS: gh.ca } });

  it('the device flow on a GitHub Enterprise host: code shown, pending and slow_down waited out, the login stored as OpenCode stores it', async () => {
    github = await startFakeGitHub({ polls: [{ error: 'authorization_pending' }, { error: 'slow_down', interval: 1 }, { token: TOKEN }] });
    const r = await login(github, `enterprise\nhttps://${github.host}/\n`, ['--method', 'Login with GitHub Copilot']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Go to: https://${github.host}/login/device`);
    expect(r.stderr).toContain(`Enter code: ${github.userCode}`);
    expect(r.stdout).toMatch(/^saved github-copilot OAuth login \(Login with GitHub Copilot\) to /);
    expect(stored()).toEqual({ 'github-copilot': { type: 'oauth', refresh: TOKEN, access: TOKEN, expires: 0, enterpriseUrl: github.host } });
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    // GitHub was asked as OpenCode asks: its app, the device grant, three polls.
    const [start, ...polls] = github.requests;
    expect(start?.path).toBe('/login/device/code');
    expect(start?.body).toEqual({ client_id: 'Ov23li8tweQw6odWQebz', scope: 'read:user' });
    expect(start?.headers['user-agent']).toMatch(/^opencode\//);
    expect(polls.map((p) => p.path)).toEqual(['/login/oauth/access_token', '/login/oauth/access_token', '/login/oauth/access_token']);
    expect(polls[0]?.body).toEqual({ client_id: 'Ov23li8tweQw6odWQebz', device_code: 'dev-code-1', grant_type: 'urn:ietf:params:oauth:grant-type:device_code' });
  });

  it('a code that expired: exit 1, the reason in one sentence, nothing saved', async () => {
    github = await startFakeGitHub({ polls: [{ error: 'expired_token' }] });
    const r = await login(github, `GitHub Enterprise\n${github.host}\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${github.host} ended the device login: the code expired before it was entered (expired_token)`);
    expect(r.stderr).toContain('nothing was saved');
    expect(hasStack(r.stderr)).toBe(false);
    expect(() => readFileSync(authJson)).toThrow();
  });

  it('a login refused on the verification page, and a device code GitHub will not give: one sentence each, nothing saved', async () => {
    github = await startFakeGitHub({ polls: [{ error: 'access_denied' }] });
    const denied = await login(github, `enterprise\n${github.host}\n`);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('the login was refused on the verification page (access_denied)');
    await github.close();
    github = await startFakeGitHub({ polls: [], deviceStatus: 404 });
    const refused = await login(github, `enterprise\n${github.host}\n`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${github.host} refused to start the device login (HTTP 404)`);
    expect(hasStack(refused.stderr)).toBe(false);
    expect(() => readFileSync(authJson)).toThrow();
  });

  it('an enterprise URL that is not a URL: exit 2, the prompt named with what is expected, GitHub never asked', async () => {
    github = await startFakeGitHub({ polls: [{ token: TOKEN }] });
    const r = await login(github, 'enterprise\nhttps://exa mple\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the answer to "Enter your GitHub Enterprise URL or domain" was refused: Please enter a valid URL (e.g., company.ghe.com or https://company.ghe.com).');
    expect(github.requests).toEqual([]);
    expect(() => readFileSync(authJson)).toThrow();
  });

  it('a choice that is not a deployment type names the choices', async () => {
    github = await startFakeGitHub({ polls: [{ token: TOKEN }] });
    const r = await login(github, 'gitlab\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Choices: GitHub.com, GitHub Enterprise.');
  });

  it('under opencode serve: GET /provider/auth lists the method; authorize and callback log in as OpenCode\'s TUI does', async () => {
    github = await startFakeGitHub({ polls: [{ error: 'authorization_pending' }, { token: TOKEN }] });
    const server = sb.start(['serve', '--port', '0'], { env: { NODE_EXTRA_CA_CERTS: github.ca } });
    const url = /listening on (http:\/\/\S+)/.exec(await server.stdoutMatches(/listening on http:\/\/\S+\n/))?.[1] as string;
    const methods = (await (await fetch(`${url}/provider/auth`)).json()) as Record<string, { type: string; label: string; prompts?: { key: string; type: string; when?: unknown }[] }[]>;
    expect(methods['github-copilot']).toEqual([
      {
        type: 'oauth',
        label: 'Login with GitHub Copilot',
        prompts: [
          { type: 'select', key: 'deploymentType', message: 'Select GitHub deployment type', options: [{ label: 'GitHub.com', value: 'github.com', hint: 'Public' }, { label: 'GitHub Enterprise', value: 'enterprise', hint: 'Data residency or self-hosted' }] },
          { type: 'text', key: 'enterpriseUrl', message: 'Enter your GitHub Enterprise URL or domain', placeholder: 'company.ghe.com or https://company.ghe.com', when: { key: 'deploymentType', op: 'eq', value: 'enterprise' } },
        ],
      },
    ]);
    const post = (route: string, body: unknown) => fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post('/provider/github-copilot/oauth/authorize', { method: 0, inputs: { deploymentType: 'enterprise', enterpriseUrl: '' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ name: 'ProviderAuthValidationFailed', data: { field: 'enterpriseUrl', message: 'URL or domain is required' } });
    const started = await post('/provider/github-copilot/oauth/authorize', { method: 0, inputs: { deploymentType: 'enterprise', enterpriseUrl: github.host } });
    expect(started.status).toBe(200);
    expect(await started.json()).toEqual({ url: `https://${github.host}/login/device`, method: 'auto', instructions: `Enter code: ${github.userCode}` });
    const finished = await post('/provider/github-copilot/oauth/callback', { method: 0 });
    expect(finished.status).toBe(200);
    expect(await finished.json()).toBe(true);
    expect(stored()).toEqual({ 'github-copilot': { type: 'oauth', refresh: TOKEN, access: TOKEN, expires: 0, enterpriseUrl: github.host } });
    server.child.kill('SIGTERM');
    const ended = await server.exited;
    expect(ended.stdout + ended.stderr).not.toContain(TOKEN);
  });
});
