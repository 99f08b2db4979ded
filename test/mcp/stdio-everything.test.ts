/** server-everything over stdio: tools, results, errors, timeouts, the environment it gets. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpManager } from '../../src/mcp/manager.ts';
import { MAX_RESULT_CHARS } from '../../src/mcp/tool-result.ts';
import type { McpWarning } from '../../src/mcp/types.ts';
import { everythingStdio } from './helpers.ts';

/** Also the start's bound: a loaded machine can take seconds to start the server. */
const TIMEOUT_MS = 8000;

describe('server-everything over stdio', () => {
  let manager: McpManager;
  const warnings: McpWarning[] = [];

  beforeAll(async () => {
    manager = new McpManager(
      { everything: everythingStdio({ timeout: TIMEOUT_MS, environment: { PANTHEON_SERVER_VAR: 'from-config' } }) },
      { env: { ...process.env, OPENAI_API_KEY: 'sk-should-not-leak', PANTHEON_UNLISTED: 'nope' }, onWarning: (w) => warnings.push(w) },
    );
    const [status] = await manager.start();
    expect(status).toMatchObject({ name: 'everything', state: 'connected', transport: 'stdio', restarts: 0 });
  });
  afterAll(async () => {
    await manager.shutdown();
  });

  it('reports status: tool count, start time and pid', () => {
    const [status] = manager.status();
    expect(status!.toolCount).toBeGreaterThanOrEqual(10);
    expect(status!.startMs).toBeGreaterThan(0);
    expect(status!.pid).toEqual(expect.any(Number));
  });

  it('exposes tools as everything_<tool> with the server schema', async () => {
    const tools = await manager.exposedTools(['everything']);
    const echo = tools.find((t) => t.name === 'everything_echo');
    expect(echo).toMatchObject({ server: 'everything', tool: 'echo', description: expect.stringMatching(/echo/i) });
    expect(echo!.inputSchema).toMatchObject({ type: 'object', properties: { message: { type: 'string' } }, required: ['message'] });
    expect(tools.map((t) => t.name)).toContain('everything_get-tiny-image');
    expect(warnings).toEqual([]);
  });

  it('calls a tool and returns its text', async () => {
    expect(await manager.callTool('everything', 'echo', { message: 'hello' })).toMatchObject({ isError: false, text: 'Echo: hello', truncated: false });
  });

  it('describes an image instead of sending its bytes', async () => {
    const result = await manager.callTool('everything', 'get-tiny-image', {});
    expect(result.text).toMatch(/^Here's the image you requested:\n\[image: image\/png, \d+\.\d KB; not shown\]\nThe image above is the MCP logo\.$/);
  });

  it('maps a resource result to its text', async () => {
    const result = await manager.callTool('everything', 'get-resource-reference', { resourceType: 'Text', resourceId: 1 });
    expect(result.isError, result.text).toBe(false);
    expect(result.text).toMatch(/^Returning resource reference for Resource 1:\n\[resource demo:\/\/resource\/dynamic\/text\/1\]\nResource 1: This is a plaintext resource/);
  });

  it('maps resource links to their name and URI', async () => {
    const result = await manager.callTool('everything', 'get-resource-links', { count: 1 });
    expect(result.text.split('\n')[1]).toBe('[resource link: Blob Resource 1 demo://resource/dynamic/blob/1 (Resource 1: plaintext resource)]');
  });

  it('returns arguments the schema rejects as a tool error with the server message', async () => {
    const result = await manager.callTool('everything', 'echo', { wrong: 1 });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^error: .*Input validation error.*message/s);
  });

  it('returns an unknown tool as a tool error', async () => {
    const result = await manager.callTool('everything', 'no-such-tool', {});
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^error: .*no-such-tool/);
  });

  it('truncates results over 32 KB with a note', async () => {
    const result = await manager.callTool('everything', 'echo', { message: 'y'.repeat(MAX_RESULT_CHARS + 500) });
    expect(result.truncated).toBe(true);
    expect(result.text.startsWith(`Echo: ${'y'.repeat(MAX_RESULT_CHARS - 6)}\n`)).toBe(true);
    expect(result.text).toMatch(/\n\[truncated: showing the first 32768 of 33274 characters\]$/);
  });

  it('gives the server only the safe-listed environment plus its own', async () => {
    const env = JSON.parse((await manager.callTool('everything', 'get-env', {})).text) as Record<string, string>;
    expect(env.PANTHEON_SERVER_VAR).toBe('from-config');
    expect(env.PATH).toBe(process.env.PATH);
    expect(env).not.toHaveProperty('OPENAI_API_KEY');
    expect(env).not.toHaveProperty('PANTHEON_UNLISTED');
  });

  it('times out a call that takes longer than the timeout, and the server stays usable', async () => {
    const started = Date.now();
    const result = await manager.callTool('everything', 'trigger-long-running-operation', { duration: 30, steps: 30 });
    expect(result).toMatchObject({ isError: true, text: 'error: MCP tool "trigger-long-running-operation" of server "everything" did not answer within 8000 ms (timeout).' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 4000); // not the operation's 30 s
    expect((await manager.callTool('everything', 'echo', { message: 'still here' })).text).toBe('Echo: still here');
  });

  it('hands the tools to the AI SDK: results as text, errors thrown with "error: "', async () => {
    const tools = await manager.toolsFor(['everything']);
    const echo = tools['everything_echo']!;
    expect(echo.type).toBe('dynamic');
    const options = { toolCallId: 'c1', messages: [], context: {} };
    expect(await echo.execute!({ message: 'via ai' }, options)).toBe('Echo: via ai');
    await expect(Promise.resolve(echo.execute!({}, options))).rejects.toThrow(/^error: .*Input validation error/s);
  });

  it('passes an abort through as an abort, not as a tool error', async () => {
    const controller = new AbortController();
    const call = manager.callTool('everything', 'trigger-long-running-operation', { duration: 30, steps: 30 }, { signal: controller.signal });
    controller.abort(new Error('user pressed Ctrl-C'));
    await expect(call).rejects.toThrow('user pressed Ctrl-C');
  });
});
