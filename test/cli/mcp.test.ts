/** `opencode mcp list|tools|call` against real MCP servers, through the built CLI. */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EVERYTHING, eventually, fixture, isAlive, START_TIMEOUT_MS } from '../mcp/helpers.ts';
import { hasStack, sandbox } from './cli-helper.ts';
import type { Sandbox } from './cli-helper.ts';

const everything = { type: 'local', command: [process.execPath, EVERYTHING, 'stdio'], timeout: START_TIMEOUT_MS };

describe('opencode mcp', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
    sb.write('opencode.json', {
      mcp: {
        everything,
        missing: { type: 'local', command: ['pantheon-no-such-command'] },
        off: { type: 'local', command: ['pantheon-no-such-command'], enabled: false },
      },
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('list: every server with its state, tool count or reason; exit 0', async () => {
    const r = await sb.run(['mcp', 'list']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^everything {2}connected {2}13 tools · stdio · started in \d+ ms$/);
    expect(lines[1]).toMatch(/^missing {5}failed {5}command not found: "pantheon-no-such-command" \(ENOENT\) \(after \d+ ms\)$/);
    expect(lines[2]).toBe('off         disabled   enabled: false');
    expect(r.stderr).toBe('');
  });

  it('list --json', async () => {
    const r = await sb.run(['mcp', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { servers } = JSON.parse(r.stdout) as { servers: Record<string, unknown>[] };
    expect(servers).toEqual([
      { name: 'everything', type: 'local', state: 'connected', toolCount: 13, startMs: expect.any(Number), transport: 'stdio', restarts: 0 },
      { name: 'missing', type: 'local', state: 'failed', reason: 'command not found: "pantheon-no-such-command" (ENOENT)', toolCount: 0, startMs: expect.any(Number), restarts: 0 },
      { name: 'off', type: 'local', state: 'disabled', reason: 'enabled: false', toolCount: 0, restarts: 0 },
    ]);
  });

  it('list with no servers says so', async () => {
    sb.write('opencode.json', {});
    const r = await sb.run(['mcp', 'list']);
    expect([r.code, r.stdout]).toEqual([0, 'No MCP servers configured.\n']);
    expect(r.stderr).toMatch(/^hint: add one under "mcp"/);
  });

  it('tools NAME: exposed names, argument summary and description', async () => {
    const r = await sb.run(['mcp', 'tools', 'everything']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('everything (13 tools)\n  everything_echo(message: string)\n      Echoes back the input string\n');
    expect(r.stdout).toContain('  everything_get-sum(a: number, b: number)\n');
    expect(r.stdout).toContain('  everything_trigger-long-running-operation(duration?: number, steps?: number)\n');
  });

  it('tools --json, and the failing server is a warning on stderr', async () => {
    const r = await sb.run(['mcp', 'tools', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as { tools: { name: string; server: string; tool: string; inputSchema: object }[] };
    expect(body.tools.find((t) => t.name === 'everything_echo')).toMatchObject({ server: 'everything', tool: 'echo', inputSchema: { properties: { message: { type: 'string' } } } });
    expect(r.stderr).toBe('warning: MCP server "missing" failed to start: command not found: "pantheon-no-such-command" (ENOENT); going on without its tools.\n');
  });

  it('tools NAME of a server that fails to start: exit 1', async () => {
    const r = await sb.run(['mcp', 'tools', 'missing']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: MCP server "missing" failed to start: command not found: "pantheon-no-such-command" (ENOENT).\nhint: Check mcp.missing in your config; `opencode mcp list` shows every server.\n');
  });

  it('call: prints the result', async () => {
    const r = await sb.run(['mcp', 'call', 'everything', 'echo', '--args', '{"message": "hello from the CLI"}']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'Echo: hello from the CLI\n', '']);
    const exposed = await sb.run(['mcp', 'call', 'everything', 'everything_get-sum', '--args', '{"a": 2, "b": 3}', '--json']);
    expect(JSON.parse(exposed.stdout)).toMatchObject({ server: 'everything', tool: 'get-sum', isError: false, text: 'The sum of 2 and 3 is 5.' });
  });

  it('call with bad JSON in --args: exit 2 with the position, before starting anything', async () => {
    const pidFile = path.join(sb.root, 'hang.pid');
    sb.write('opencode.json', { mcp: { hang: { type: 'local', command: [process.execPath, fixture('hang-server.mjs')], environment: { PID_FILE: pidFile } } } });
    const r = await sb.run(['mcp', 'call', 'hang', 'echo', '--args', '{"message": "hi",\n "n": }']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: --args is not valid JSON: value expected at position 24 (line 2, column 7).\nhint: Quote the object for your shell, e.g. --args \'{"message": "hi"}\'.\n',
    );
    const notObject = await sb.run(['mcp', 'call', 'hang', 'echo', '--args', '[1, 2]']);
    expect([notObject.code, notObject.stderr.split('\n')[0]]).toEqual([2, 'error: --args must be a JSON object, found an array.']);
    const empty = await sb.run(['mcp', 'call', 'hang', 'echo', '--args']);
    expect([empty.code, empty.stderr.split('\n')[0]]).toEqual([2, 'error: --args needs a value: a JSON object.']);
    await expect(readFile(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('call with arguments the tool’s schema rejects: exit 1 with the server’s message', async () => {
    const r = await sb.run(['mcp', 'call', 'everything', 'echo', '--args', '{"msg": "typo"}']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: MCP error -32602: Input validation error: Invalid arguments for tool echo: .*message\n$/);
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('call: unknown server or tool → exit 2 with a suggestion; disabled → exit 2; start failure → exit 1', async () => {
    const server = await sb.run(['mcp', 'call', 'everythin', 'echo']);
    expect([server.code, server.stderr]).toEqual([2, 'error: No MCP server named "everythin"; did you mean "everything"?\nhint: Configured MCP servers: everything, missing, off.\n']);
    const tool = await sb.run(['mcp', 'call', 'everything', 'ecko']);
    expect([tool.code, tool.stderr]).toEqual([2, 'error: MCP server "everything" has no tool "ecko"; did you mean "echo"?\nhint: `opencode mcp tools everything` lists its tools.\n']);
    const off = await sb.run(['mcp', 'call', 'off', 'x']);
    expect([off.code, off.stderr.split('\n')[0]]).toEqual([2, 'error: MCP server "off" is disabled (enabled: false).']);
    const missing = await sb.run(['mcp', 'call', 'missing', 'x']);
    expect([missing.code, missing.stderr.split('\n')[0]]).toEqual([1, 'error: MCP server "missing" failed to start: command not found: "pantheon-no-such-command" (ENOENT).']);
  });

  it('call that takes longer than the timeout: exit 1', async () => {
    // 8 s: also the start's bound, which a loaded machine can need seconds of.
    sb.write('opencode.json', { mcp: { everything: { ...everything, timeout: 8000 } } });
    const r = await sb.run(['mcp', 'call', 'everything', 'trigger-long-running-operation', '--args', '{"duration": 20, "steps": 20}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: MCP tool "trigger-long-running-operation" of server "everything" did not answer within 8000 ms (timeout).\n');
  });

  it('a server that never answers initialize: exit 1 after its timeout', async () => {
    sb.write('opencode.json', { mcp: { hang: { type: 'local', command: [process.execPath, fixture('hang-server.mjs')], timeout: 500 } } });
    const r = await sb.run(['mcp', 'call', 'hang', 'anything']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('error: MCP server "hang" failed to start: no answer to initialize/tools/list within 500 ms.');
  });

  it('servers get the safe-listed environment: no provider keys', async () => {
    const r = await sb.run(['mcp', 'call', 'everything', 'get-env'], { env: { OPENAI_API_KEY: 'sk-parent-secret-123', LANG: 'C.UTF-8' } });
    expect(r.code, r.stderr).toBe(0);
    const env = JSON.parse(r.stdout) as Record<string, string>;
    expect(env.LANG).toBe('C.UTF-8');
    expect(env.HOME).toBe(sb.home);
    expect(r.stdout).not.toContain('sk-parent-secret-123');
  });

  it('Ctrl-C (SIGINT) ends the command with exit 130 and leaves no server process', async () => {
    const pidFile = path.join(sb.root, 'pids');
    sb.write('opencode.json', {
      mcp: {
        wrapped: { type: 'local', command: [process.execPath, fixture('wrapper.mjs'), process.execPath, EVERYTHING, 'stdio'], environment: { WRAPPER_PID_FILE: pidFile }, timeout: 30_000 },
      },
    });
    const p = sb.start(['mcp', 'call', 'wrapped', 'trigger-long-running-operation', '--args', '{"duration": 30, "steps": 30}']);
    await eventually(async () => (await readFile(pidFile, 'utf8').catch(() => '')).includes(' '), 10_000, 'the server to be spawned');
    const pids = (await readFile(pidFile, 'utf8')).split(' ').map(Number);
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('error: Interrupted; MCP servers stopped.\n');
    await eventually(() => !pids.some(isAlive), 10_000, `processes ${pids.join(', ')} to be gone`);
  });

  describe('a remote server answering 401', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        res.writeHead(401).end('unauthorized');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('is listed as needs_auth with the reason naming the headers to set; the token from {env:} is never printed', async () => {
      sb.write('opencode.json', { mcp: { locked: { type: 'remote', url, headers: { Authorization: 'Bearer {env:MCP_TOKEN}' } }, bare: { type: 'remote', url } } });
      const r = await sb.run(['mcp', 'list', '--json'], { env: { MCP_TOKEN: 'tok-very-secret-456' } });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        servers: [
          { name: 'locked', state: 'needs_auth', reason: `HTTP 401 from ${url}: the server refused the credentials sent (mcp.locked.headers); OAuth is not used while the config sends its own Authorization, so check the token there, e.g. {"Authorization": "Bearer {env:TOKEN}"}` },
          { name: 'bare', state: 'needs_auth', reason: expect.stringContaining('the server wants authentication, and it publishes no OAuth metadata: set a token in mcp.bare.headers') },
        ],
      });
      const text = await sb.run(['mcp', 'list'], { env: { MCP_TOKEN: 'tok-very-secret-456' } });
      expect(text.stdout).toContain(`locked  needs_auth HTTP 401 from ${url}: the server refused the credentials sent (mcp.locked.headers)`);
      expect(text.stdout).toContain(`bare    needs_auth HTTP 401 from ${url}: the server wants authentication`);
      const call = await sb.run(['mcp', 'call', 'locked', 'x'], { env: { MCP_TOKEN: 'tok-very-secret-456' } });
      expect(call.code).toBe(1);
      expect(call.stderr).toContain('MCP server "locked" needs authentication: HTTP 401 from');
      expect(r.stdout + r.stderr + text.stdout + text.stderr + call.stdout + call.stderr).not.toContain('tok-very-secret-456');
    });

    it('`mcp auth NAME` of a server without OAuth metadata: exit 1, saying where the token goes instead', async () => {
      sb.write('opencode.json', { mcp: { locked: { type: 'remote', url }, loc: { type: 'local', command: ['no-such-command-xyz'] } } });
      const remote = await sb.run(['mcp', 'auth', 'locked']);
      expect(remote).toMatchObject({ code: 1, stdout: '' });
      expect(remote.stderr).toBe(
        'error: MCP server "locked" wants authentication but publishes no OAuth metadata, so it cannot be signed in to with OAuth.\nhint: Give it its token in mcp.locked.headers instead, e.g. "headers": {"Authorization": "Bearer {env:TOKEN}"}, in opencode.json.\n',
      );
      const local = await sb.run(['mcp', 'auth', 'loc']);
      expect(local.code).toBe(2);
      expect(local.stderr).toMatch(/^error: MCP server "loc" is a local server: OAuth is for remote servers/);
      const unknown = await sb.run(['mcp', 'auth', 'lockd']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/^error: No MCP server named "lockd"; did you mean "locked"\?\nhint: Configured MCP servers: locked, loc\.\n$/);
      // Without a name, the one OAuth-capable server.
      const only = await sb.run(['mcp', 'auth']);
      expect(only).toEqual(remote);
      sb.write('opencode.json', { mcp: { loc: { type: 'local', command: ['no-such-command-xyz'] } } });
      const none = await sb.run(['mcp', 'auth']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/^error: No OAuth-capable MCP servers are configured\.\nhint: Remote MCP servers sign in with OAuth by default/);
    });
  });
});
