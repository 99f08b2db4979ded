/**
 * The built-in plugins' seam (plugins/builtin/, load-plugins.ts), in-process: a project without
 * plugins gets a host whose built-ins are not loaded until their provider is used (a call to one of
 * its models, a login), and then come before the project's plugins; OPENCODE_DISABLE_DEFAULT_PLUGINS
 * leaves them out. And how Copilot's fetch reads a request (copilot-fetch.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPlugins } from '../../src/plugins/load-plugins.ts';
import { callPreparer } from '../../src/plugins/call-hooks.ts';
import { requestKind } from '../../src/plugins/builtin/copilot-fetch.ts';
import type { BuiltinPlugin } from '../../src/plugins/builtin/index.ts';
import type { ResolvedModel } from '../../src/providers/resolve-model.ts';

describe('built-in plugins', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-builtin-'));
    fs.mkdirSync(path.join(dir, '.git'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const env = () => ({ HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'config') });

  function fake(loads: string[]): BuiltinPlugin {
    return {
      provider: 'fakehub',
      load: async () => {
        loads.push('load');
        return () => ({
          auth: { provider: 'fakehub', methods: [{ type: 'oauth', label: 'Login with Fakehub' }] },
          'chat.headers': async (input: { model: { providerID: string } }, output: { headers: Record<string, string> }) => {
            if (input.model.providerID === 'fakehub') output.headers['x-fake'] = '1';
          },
        });
      },
    };
  }
  const model = (provider: string) => ({ provider, modelKey: 'm', upstreamId: 'm', npm: '@ai-sdk/openai-compatible', ref: { provider, model: 'm' }, credential: { source: 'none' }, acceptsTemperature: true, acceptsImages: false, providerOptions: {} }) as unknown as ResolvedModel;

  it('are loaded only when their provider is first used, and then their hooks act', async () => {
    const loads: string[] = [];
    const host = await openPlugins({ layers: [{ data: {} }], directory: dir, projectRoot: dir, env: env(), builtins: [fake(loads)] });
    expect(host).toBeDefined();
    expect(host?.sources).toEqual([]);
    expect(host?.authProviders?.()).toEqual(['fakehub']);
    expect(host?.authProviders?.({ builtins: false })).toEqual([]);
    const prepare = callPreparer(host, { sessionID: 'ses_1', agent: 'build', message: {} });
    const other = await prepare?.(model('elsewhere'), { prompt: [] });
    expect(other?.call.headers).toBeUndefined();
    expect(loads).toEqual([]);
    const own = await prepare?.(model('fakehub'), { prompt: [] });
    expect(own?.call.headers).toEqual({ 'x-fake': '1' });
    expect(loads).toEqual(['load']);
    await host?.loadBuiltins?.('fakehub');
    expect(loads).toEqual(['load']);
    expect(host?.authHooks?.('fakehub')).toHaveLength(1);
    await host?.dispose();
  });

  it('come before the project\'s plugins: a project plugin\'s login for the provider is the last, and wins', async () => {
    fs.mkdirSync(path.join(dir, '.opencode', 'plugin'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.opencode', 'plugin', 'own.js'), 'export const Own = async () => ({ auth: { provider: "fakehub", methods: [{ type: "api", label: "Own key" }] } })\n');
    const host = await openPlugins({ layers: [{ data: {} }], directory: dir, projectRoot: dir, env: env(), builtins: [fake([])] });
    await host?.loadBuiltins?.();
    const labels = host?.authHooks?.('fakehub').map((h) => (h.methods as { label: string }[])[0]?.label);
    expect(labels).toEqual(['Login with Fakehub', 'Own key']);
    await host?.dispose();
  });

  it('OPENCODE_DISABLE_DEFAULT_PLUGINS=1 leaves them out: a project without plugins has none', async () => {
    expect(await openPlugins({ layers: [{ data: {} }], directory: dir, projectRoot: dir, env: { ...env(), OPENCODE_DISABLE_DEFAULT_PLUGINS: '1' } })).toBeUndefined();
    const host = await openPlugins({ layers: [{ data: {} }], directory: dir, projectRoot: dir, env: env() });
    expect(host?.builtinProviders?.()).toEqual(['openai', 'github-copilot']);
    await host?.dispose();
  });
});

describe("Copilot's reading of a request", () => {
  const chat = (messages: unknown[]) => JSON.stringify({ model: 'gpt-4.1', messages });
  it('chat completions: a person\'s last message is the user\'s; a tool result\'s follow-up, the agent\'s; an image is vision', () => {
    expect(requestKind('https://x/chat/completions', chat([{ role: 'system', content: 's' }, { role: 'user', content: 'hi' }]))).toEqual({ vision: false, agent: false });
    expect(requestKind('https://x/chat/completions', chat([{ role: 'user', content: 'hi' }, { role: 'assistant', content: null }, { role: 'tool', content: 'x' }]))).toEqual({ vision: false, agent: true });
    expect(requestKind('https://x/chat/completions', chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:' } }, { type: 'text', text: 'what?' }] }]))).toEqual({ vision: true, agent: false });
    expect(requestKind('https://x/chat/completions', chat([{ role: 'user', content: 'Attached media from tool result:' }]))).toEqual({ vision: false, agent: true });
  });
  it('responses and Anthropic messages; a body that is not JSON is neither', () => {
    expect(requestKind('https://x/responses', JSON.stringify({ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:' }] }] }))).toEqual({ vision: true, agent: false });
    expect(requestKind('https://x/v1/messages', JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'tool_result', content: [{ type: 'image' }] }] }] }))).toEqual({ vision: true, agent: true });
    expect(requestKind('https://x/chat/completions', 'not json')).toEqual({ vision: false, agent: false });
  });
});
