/**
 * A plugin's `provider` hook (OpenCode's `ProviderHook`: `{id, models(provider, {auth})}`) gives a
 * provider's models, as OpenCode 1.18.33 builds its provider list with it: they are listed by
 * `opencode models` and the server's `/provider` and `/config/providers`, and a run can use them
 * (the upstream id the hook gives is sent). A hook that throws is a warning; the rest goes on.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { hasStack, providerConfig, useScriptedSandbox, type Sandbox } from '../cli/cli-helper.ts';
import { getJson, serve } from '../server/serve-helper.ts';

const MODELS_PLUGIN = `import { writeFileSync } from "node:fs"
export const Models = async ({ directory }) => ({
  provider: {
    id: "p",
    models: async (provider, ctx) => {
      writeFileSync(directory + "/asked.json", JSON.stringify({ id: provider.id, options: provider.options, auth: ctx.auth ?? null }))
      return {
        "plugin-fast": {
          id: "plugin-fast", providerID: "p", name: "Plugin Fast",
          api: { id: "upstream-fast", url: "", npm: "@ai-sdk/openai-compatible" },
          capabilities: { temperature: true, reasoning: false, attachment: false, toolcall: true, input: { text: true, image: false }, output: { text: true } },
          cost: { input: 1, output: 2, cache: { read: 0, write: 0 } },
          limit: { context: 64000, output: 4000 },
          status: "active", options: {}, headers: {}, release_date: "2026-01-01", variants: {},
        },
      }
    },
  },
})
`;

describe('the provider hook', () => {
  let server!: ScriptedServer;
  let sb!: Sandbox;
  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
    },
    (s) => ({ ...providerConfig(s, {}), model: 'p/plugin-fast', cache: { enabled: false } }),
  );

  it("its models are listed by `opencode models` and run under their upstream id; it is told the provider (no key) and the stored login", async () => {
    sb.write('.opencode/plugin/models.js', MODELS_PLUGIN);
    mkdirSync(path.join(sb.dataHome, 'opencode'), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(sb.dataHome, 'opencode', 'auth.json'), JSON.stringify({ p: { type: 'api', key: 'stored-key-1' } }), { mode: 0o600 });
    const listed = await sb.run(['models', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const models = JSON.parse(listed.stdout) as { ref: string; upstreamId?: string }[];
    expect(models.find((m) => m.ref === 'p/plugin-fast')).toMatchObject({ upstreamId: 'upstream-fast', name: 'Plugin Fast', limit: { context: 64000, output: 4000 } });
    const asked = JSON.parse(readFileSync(path.join(sb.project, 'asked.json'), 'utf8')) as { id: string; options: Record<string, unknown>; auth: unknown };
    expect(asked).toEqual({ id: 'p', options: { baseURL: server.url }, auth: { type: 'api', key: 'stored-key-1' } });
    server.script('upstream-fast', { type: 'text', text: 'from the plugin model' });
    const r = await sb.run(['run', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from the plugin model\n');
    expect(server.log[0]?.model).toBe('upstream-fast');
  });

  it('the config\'s own entry for the same model wins; without the plugin the model is not there', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { 'plugin-fast': { name: 'Mine' } }), model: 'p/plugin-fast', cache: { enabled: false } });
    sb.write('.opencode/plugin/models.js', MODELS_PLUGIN);
    const verbose = await sb.run(['models', 'p', '--verbose']);
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stdout).toMatch(/"name": "Mine"/);
    expect(verbose.stdout).toMatch(/"id": "upstream-fast"/);
    const pure = await sb.run(['models', '--json', '--pure']);
    expect(pure.code, pure.stderr).toBe(0);
    expect((JSON.parse(pure.stdout) as { ref: string; upstreamId?: string }[]).find((m) => m.ref === 'p/plugin-fast')).toMatchObject({ upstreamId: 'plugin-fast', name: 'Mine' });
  });

  it('a hook that throws is one warning naming it, and the rest of the config is used', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', cache: { enabled: false } });
    sb.write('.opencode/plugin/models.js', 'export const M = async () => ({ provider: { id: "p", models: async () => { throw new Error("catalogue offline") } } })\n');
    server.script('m', { type: 'text', text: 'still fine' });
    const r = await sb.run(['run', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('still fine\n');
    expect(r.stderr).toContain('warning: The plugin hook provider.models for p failed: catalogue offline; its models are left out.');
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('under serve, /provider and /config/providers list them', async () => {
    sb.write('.opencode/plugin/models.js', MODELS_PLUGIN);
    const served = await serve(sb);
    try {
      const q = `?directory=${encodeURIComponent(sb.project)}`;
      const providers = (await getJson(`${served.url}/config/providers${q}`)).body as { providers: { id: string; models: Record<string, { name: string; api: { id: string } }> }[] };
      expect(providers.providers.find((p) => p.id === 'p')?.models['plugin-fast']).toMatchObject({ name: 'Plugin Fast', api: { id: 'upstream-fast' } });
      const all = (await getJson(`${served.url}/provider${q}`)).body as { all: { id: string; models: Record<string, unknown> }[] };
      expect(Object.keys(all.all.find((p) => p.id === 'p')?.models ?? {})).toContain('plugin-fast');
    } finally {
      await served.stop();
    }
  });
});
