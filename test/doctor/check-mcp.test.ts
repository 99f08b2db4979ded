import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHttpMcpServer } from '../support/http-mcp-server.ts';
import { startOAuthMcpServer } from '../support/oauth-mcp-server.ts';
import { MEMORY_SERVER, check, doctorTree, type DoctorTree } from './helper.ts';

describe('doctor mcp', () => {
  let tree: DoctorTree;

  beforeEach(async () => {
    tree = await doctorTree();
  });
  afterEach(async () => {
    await tree.remove();
  });

  // A start bound for a loaded machine (the default 5 s is not what these tests are about); doctor
  // still holds each start to what is left of its own bound.
  const memory = (root: string) => ({ type: 'local', command: [MEMORY_SERVER], environment: { MEMORY_FILE_PATH: path.join(root, 'memory.jsonl') }, timeout: 30_000 });

  it('starts a real MCP server over stdio, counts its tools and times the start', async () => {
    tree.write('opencode.json', { mcp: { memory: memory(tree.root) } });
    const report = await tree.doctor({ groups: ['mcp'] });
    const server = check(report, 'mcp', 'memory');
    expect(server.status).toBe('ok');
    expect(server.message).toMatch(/^([1-9]\d*) tools, ready in \d+(\.\d)? m?s \(stdio\)$/);
    expect(server.ms).toBeGreaterThan(0);
    expect(report.ok).toBe(true);
  });

  it('fails a server whose command does not exist, or that exits at start', async () => {
    tree.write('opencode.json', {
      mcp: {
        missing: { type: 'local', command: [path.join(tree.root, 'no-such-server')] },
        quits: { type: 'local', command: [process.execPath, '-e', 'process.stderr.write("boom\\n"); process.exit(3)'] },
        memory: memory(tree.root),
        off: { type: 'local', command: ['nothing'], enabled: false },
      },
    });
    const report = await tree.doctor({ groups: ['mcp'] });
    expect(check(report, 'mcp', 'missing')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^did not start: command not found: ".*no-such-server" \(ENOENT\)$/) });
    expect(check(report, 'mcp', 'missing').hint).toContain('mcp.missing.command');
    expect(check(report, 'mcp', 'quits')).toMatchObject({ status: 'fail', message: expect.stringMatching(/exited with code 3.*boom/) });
    expect(check(report, 'mcp', 'memory').status).toBe('ok');
    expect(check(report, 'mcp', 'off')).toMatchObject({ status: 'skip', message: 'disabled (enabled: false)' });
    expect(report.ok).toBe(false);
  });

  it('gives up on a server that never answers after its timeout', async () => {
    tree.write('opencode.json', { mcp: { silent: { type: 'local', command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], timeout: 300 } } });
    const started = performance.now();
    const report = await tree.doctor({ groups: ['mcp'] });
    expect(check(report, 'mcp', 'silent')).toMatchObject({ status: 'fail', message: expect.stringMatching(/within 300 ms/) });
    expect(performance.now() - started).toBeLessThan(300 + 3500); // stopped at its timeout, not the default 5 s
  });

  it('a remote server that answers 401: fails as needing authentication, naming the headers to set', async () => {
    const server = await startHttpMcpServer({ token: 'the-right-token-42' });
    try {
      tree.write('opencode.json', { mcp: { locked: { type: 'remote', url: server.url, timeout: 30_000 } } });
      const report = await tree.doctor({ groups: ['mcp'] });
      expect(check(report, 'mcp', 'locked')).toMatchObject({
        status: 'fail',
        message: `needs authentication: HTTP 401 from ${server.url}: the server wants authentication, and it publishes no OAuth metadata: set a token in mcp.locked.headers in the config (or in the headers of POST /mcp), e.g. {"Authorization": "Bearer {env:TOKEN}"}`,
        hint: 'Put the server\'s token in mcp.locked.headers, e.g. {"Authorization": "Bearer {env:TOKEN}"}.',
      });
      expect(report.ok).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('an OAuth server without tokens: needs authentication, the hint to sign in; one that cannot register a client: needs a registered client', async () => {
    const [open, closed] = await Promise.all([startOAuthMcpServer(), startOAuthMcpServer({ registration: false })]);
    try {
      tree.write('opencode.json', { mcp: { linear: { type: 'remote', url: open.url, timeout: 30_000 }, notion: { type: 'remote', url: closed.url, timeout: 30_000 } } });
      const report = await tree.doctor({ groups: ['mcp'] });
      expect(check(report, 'mcp', 'linear')).toMatchObject({
        status: 'fail',
        message: `needs authentication: HTTP 401 from ${open.url}: the server wants you to sign in: run \`opencode mcp auth linear\``,
        hint: 'Sign in with `opencode mcp auth linear` (a browser opens, or open the URL it prints).',
      });
      expect(check(report, 'mcp', 'notion')).toMatchObject({
        status: 'fail',
        message: expect.stringMatching(/^needs a registered OAuth client: the authorization server \S+ does not support dynamic client registration; set oauth\.clientId/),
        hint: expect.stringContaining('mcp.notion.oauth.clientId'),
      });
      expect(open.registrations()).toBe(0);
    } finally {
      await Promise.all([open.close(), closed.close()]);
    }
  });

  it('says so when no server is configured', async () => {
    const report = await tree.doctor({ groups: ['mcp'] });
    expect(check(report, 'mcp', 'servers')).toMatchObject({ status: 'ok', message: 'none configured' });
  });
});
