/**
 * The rest of what OpenCode's TUI (1.18.33) asks a server for when it attaches, answered 404 before:
 * LSP, formatters, workspaces, MCP resources, Console, capabilities, the project's folders, v1's
 * skills, and v2's location, agents, providers, models, skills, references and integrations. Through
 * `@opencode-ai/sdk`'s v1 and v2 clients and plain fetch; each answer checked field by field against
 * the SDK's declared types (the key tables below are typed by them: a field the SDK adds or drops is a
 * type error); secrets masked; a missing folder a 400 naming the parameter; behind the password.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV1 } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2, type AgentV2Info, type ConsoleState, type ExperimentalCapabilities, type IntegrationInfo, type LocationInfo, type ModelV2Info, type ProviderV2Info, type SkillV2Info } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { basic, getJson, serve, type Served } from './serve-helper.ts';

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array';
/** Every field of an SDK type: whether it is required, and its JSON kind. */
type Spec<T> = { [K in keyof Required<T>]: [required: boolean, kind: Kind] };

function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/** `value` has every required field of `spec`, each field of the kind the SDK declares, and no other. */
function checkShape<T>(value: unknown, spec: Spec<T>, at: string): void {
  expect(kindOf(value), at).toBe('object');
  const record = value as Record<string, unknown>;
  const fields = spec as Record<string, [boolean, Kind]>;
  for (const key of Object.keys(record)) expect(Object.keys(fields), `${at}: a field the SDK does not declare`).toContain(key);
  for (const [key, [required, kind]] of Object.entries(fields)) {
    if (record[key] === undefined) expect(required, `${at}.${key} is required`).toBe(false);
    else expect(kindOf(record[key]), `${at}.${key}`).toBe(kind);
  }
}

const LOCATION: Spec<LocationInfo> = { directory: [true, 'string'], workspaceID: [false, 'string'], project: [true, 'object'] };
const AGENT: Spec<AgentV2Info> = {
  id: [true, 'string'],
  model: [false, 'object'],
  request: [true, 'object'],
  system: [false, 'string'],
  description: [false, 'string'],
  mode: [true, 'string'],
  hidden: [true, 'boolean'],
  color: [false, 'string'],
  steps: [false, 'number'],
  permissions: [true, 'array'],
};
const PROVIDER: Spec<ProviderV2Info> = { id: [true, 'string'], integrationID: [false, 'string'], name: [true, 'string'], disabled: [false, 'boolean'], api: [true, 'object'], request: [true, 'object'] };
const MODEL: Spec<ModelV2Info> = {
  id: [true, 'string'],
  providerID: [true, 'string'],
  family: [false, 'string'],
  name: [true, 'string'],
  api: [true, 'object'],
  capabilities: [true, 'object'],
  request: [true, 'object'],
  variants: [true, 'array'],
  time: [true, 'object'],
  cost: [true, 'array'],
  status: [true, 'string'],
  enabled: [true, 'boolean'],
  limit: [true, 'object'],
};
const SKILL: Spec<SkillV2Info> = { name: [true, 'string'], description: [false, 'string'], slash: [false, 'boolean'], location: [true, 'string'], content: [true, 'string'] };
const INTEGRATION: Spec<IntegrationInfo> = { id: [true, 'string'], name: [true, 'string'], methods: [true, 'array'], connections: [true, 'array'] };
const CONSOLE: Spec<ConsoleState> = { consoleManagedProviders: [true, 'array'], activeOrgName: [false, 'string'], switchableOrgCount: [true, 'number'] };
const CAPABILITIES: Spec<ExperimentalCapabilities> = { backgroundSubagents: [true, 'boolean'] };

const SECRETS = ['sk-config-secret-123', 'hdr-secret-value-456', 'agent-secret-789', 'env-secret-abc', 'stored-secret-def'] as const;

let sb: Sandbox;
let s: Served;
let v1: ReturnType<typeof createV1>;
let v2: ReturnType<typeof createV2>;

beforeAll(async () => {
  sb = await sandbox();
  sb.write('opencode.json', {
    model: 'p/m',
    provider: {
      p: {
        name: 'Local P',
        options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRETS[0], headers: { Authorization: `Bearer ${SECRETS[1]}`, 'X-Team': 'blue' } },
        models: { m: { name: 'Model M', limit: { context: 1000, output: 100 }, cost: { input: 1, output: 2 }, variants: { fast: { reasoningEffort: 'low' } } }, m2: {} },
      },
    },
    agent: { helper: { description: 'Helps', mode: 'subagent', model: 'p/m:fast', temperature: 0.3, prompt: 'You help.', options: { apiKey: SECRETS[2] }, color: '#ff0000', steps: 5 } },
  });
  fs.mkdirSync(path.join(sb.project, '.opencode', 'skill', 'greet'), { recursive: true });
  fs.writeFileSync(path.join(sb.project, '.opencode', 'skill', 'greet', 'SKILL.md'), '---\nname: greet\ndescription: Say hello nicely\n---\nSay hello to the user.\n');
  // A key in OpenCode's auth.json for one well-known provider, one in the environment for another.
  fs.mkdirSync(path.join(sb.root, 'xdg-data', 'opencode'), { recursive: true });
  fs.writeFileSync(path.join(sb.root, 'xdg-data', 'opencode', 'auth.json'), JSON.stringify({ openai: { type: 'api', key: SECRETS[4] } }), { mode: 0o600 });
  s = await serve(sb, [], { ANTHROPIC_API_KEY: SECRETS[3] });
  v1 = createV1({ baseUrl: s.url, directory: sb.project });
  v2 = createV2({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await sb?.remove();
});

function noSecrets(body: unknown): void {
  const text = JSON.stringify(body);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe('what OpenCode’s TUI asks about the server’s features', () => {
  it('LSP, formatters, workspaces, MCP resources: none here, in OpenCode’s empty shapes', async () => {
    expect((await v1.lsp.status()).data).toEqual([]);
    expect((await v1.formatter.status()).data).toEqual([]);
    expect((await v2.lsp.status()).data).toEqual([]);
    expect((await v2.formatter.status()).data).toEqual([]);
    const workspaces = await v2.experimental.workspace.list();
    expect(workspaces.response.status).toBe(200);
    expect(workspaces.data).toEqual([]);
    expect((await v2.experimental.workspace.status()).data).toEqual([]);
    expect((await v2.experimental.resource.list()).data).toEqual({});
  });

  it('Console and capabilities: no org signed in, no background subagents', async () => {
    const console = await v2.experimental.console.get();
    checkShape(console.data, CONSOLE, 'console');
    expect(console.data).toEqual({ consoleManagedProviders: [], switchableOrgCount: 0 });
    const capabilities = await v2.experimental.capabilities.get();
    checkShape(capabilities.data, CAPABILITIES, 'capabilities');
    expect(capabilities.data).toEqual({ backgroundSubagents: true });
  });

  it('the project’s folders: its root for its own id, none for another', async () => {
    const project = (await v1.project.current()).data as { id: string };
    const own = await v2.project.directories({ projectID: project.id });
    expect(own.data).toEqual([{ directory: sb.project }]);
    expect((await v2.project.directories({ projectID: 'someone-else' })).data).toEqual([]);
  });

  it('skills (v1 and v2): the ones the skill tool loads, with their instructions', async () => {
    const expected = { name: 'greet', description: 'Say hello nicely', location: path.join(sb.project, '.opencode', 'skill', 'greet', 'SKILL.md'), content: 'Say hello to the user.\n' };
    const listed = await v2.app.skills();
    expect(listed.data).toContainEqual(expected);
    const { data } = await v2.v2.skill.list({ location: { directory: sb.project } });
    checkShape(data?.location, LOCATION, 'location');
    for (const skill of data?.data ?? []) checkShape(skill, SKILL, `skill ${skill.name}`);
    expect(data?.data).toContainEqual(expected);
  });

  it('skills: one listing sends at most 4 MiB of instructions; every skill is listed, those past the cap with empty content', async () => {
    // Five skills of ~1,000,000 bytes of instructions (5 MB in all) and a small one after them.
    const many = path.join(sb.root, 'many');
    fs.mkdirSync(path.join(many, '.git'), { recursive: true });
    const body = (i: number) => `${String(i).repeat(1_000_000)}\n`;
    for (let i = 1; i <= 6; i++) {
      fs.mkdirSync(path.join(many, '.opencode', 'skill', `s${i}`), { recursive: true });
      fs.writeFileSync(path.join(many, '.opencode', 'skill', `s${i}`, 'SKILL.md'), `---\nname: s${i}\ndescription: Skill ${i}\n---\n${i === 6 ? 'small\n' : body(i)}`);
    }
    for (const route of ['/skill', '/api/skill']) {
      const answer = await getJson(`${s.url}${route}?directory=${encodeURIComponent(many)}`);
      expect(answer.status, route).toBe(200);
      const list = (route === '/skill' ? answer.body : (answer.body as { data: unknown }).data) as { name: string; content: string }[];
      const sizes = Object.fromEntries(list.filter((k) => /^s\d$/.test(k.name)).map((k) => [k.name, k.content.length]));
      expect(sizes, route).toEqual({ s1: 1_000_001, s2: 1_000_001, s3: 1_000_001, s4: 1_000_001, s5: 0, s6: 0 });
      expect(list.find((k) => k.name === 's1')?.content, route).toBe(body(1));
    }
    const doc = (await getJson(`${s.url}/doc`)).body as { paths: Record<string, { get: { description: string } }> };
    expect(doc.paths['/skill']?.get.description).toContain('up to 4 MiB in all');
    expect(doc.paths['/api/skill']?.get.description).toContain('up to 4 MiB in all');
  });
});

describe('OpenCode’s v2 catalogue, from the config', () => {
  it('location: the folder and its project', async () => {
    const project = (await v1.project.current()).data as { id: string };
    const { data } = await v2.v2.location.get({ location: { directory: sb.project } });
    checkShape(data, LOCATION, 'location');
    expect(data).toEqual({ directory: sb.project, project: { id: project.id, directory: sb.project } });
  });

  it('agents: GET /agent’s in v2’s shape, options masked', async () => {
    const { data } = await v2.v2.agent.list({ location: { directory: sb.project } });
    const v1Names = ((await v1.app.agents()).data ?? []).map((a) => a.name);
    expect(data?.data.map((a) => a.id)).toEqual(v1Names);
    for (const agent of data?.data ?? []) checkShape(agent, AGENT, `agent ${agent.id}`);
    const helper = data?.data.find((a) => a.id === 'helper');
    expect(helper).toMatchObject({ id: 'helper', model: { id: 'm', providerID: 'p', variant: 'fast' }, system: 'You help.', description: 'Helps', mode: 'subagent', hidden: false, color: '#ff0000', steps: 5, request: { headers: {}, body: { temperature: 0.3 } } });
    expect(String(helper?.request.body.apiKey)).toContain('…');
    for (const rule of data?.data.flatMap((a) => a.permissions) ?? []) {
      expect(Object.keys(rule).sort()).toEqual(['action', 'effect', 'resource']);
      expect(['allow', 'deny', 'ask']).toContain(rule.effect);
    }
    noSecrets(data);
  });

  it('providers and models: the config’s, keys and secret headers masked', async () => {
    const providers = (await v2.v2.provider.list({ location: { directory: sb.project } })).data;
    for (const provider of providers?.data ?? []) checkShape(provider, PROVIDER, `provider ${provider.id}`);
    const p = providers?.data.find((x) => x.id === 'p');
    expect(p).toMatchObject({ id: 'p', name: 'Local P', api: { type: 'aisdk', package: '@ai-sdk/openai-compatible', url: 'http://127.0.0.1:9/v1' }, request: { body: {} } });
    expect(p?.request.headers['X-Team']).toBe('blue');
    expect(p?.request.headers.Authorization).toContain('…');
    expect(String((p?.api as { settings?: { apiKey?: string } }).settings?.apiKey)).toContain('…');
    noSecrets(providers);

    const models = (await v2.v2.model.list({ location: { directory: sb.project } })).data;
    for (const model of models?.data ?? []) checkShape(model, MODEL, `model ${model.id}`);
    const v1Models = ((await v1.config.providers()).data?.providers ?? []).flatMap((x) => Object.keys(x.models).map((id) => `${x.id}/${id}`));
    expect(models?.data.map((m) => `${m.providerID}/${m.id}`).sort()).toEqual(v1Models.sort());
    const m = models?.data.find((x) => x.providerID === 'p' && x.id === 'm');
    expect(m).toMatchObject({
      name: 'Model M',
      api: { id: 'm', type: 'aisdk', package: '@ai-sdk/openai-compatible', url: 'http://127.0.0.1:9/v1' },
      capabilities: { tools: true, output: ['text'] },
      variants: [{ id: 'fast', headers: {}, body: { reasoningEffort: 'low' } }],
      time: { released: 0 },
      cost: [{ input: 1, output: 2, cache: { read: 0, write: 0 } }],
      status: 'active',
      enabled: true,
      limit: { context: 1000, output: 100 },
    });
    expect(m?.capabilities.input).toContain('text');
    noSecrets(models);
  });

  it('integrations: the providers one may connect, by key or environment; where each key is found now', async () => {
    const { data } = await v2.v2.integration.list({ location: { directory: sb.project } });
    for (const integration of data?.data ?? []) checkShape(integration, INTEGRATION, `integration ${integration.id}`);
    const byId = new Map((data?.data ?? []).map((x) => [x.id, x]));
    expect(data?.data[0]?.id).toBe('p');
    expect(byId.get('anthropic')?.methods).toEqual([{ type: 'key' }, { type: 'env', names: expect.arrayContaining(['ANTHROPIC_API_KEY']) }]);
    expect(byId.get('anthropic')?.connections).toEqual([{ type: 'env', name: 'ANTHROPIC_API_KEY' }]);
    expect(byId.get('openai')?.connections).toEqual([{ type: 'credential', id: 'cred_openai', label: 'default' }]);
    // The config's own key is not a connection OpenCode's shapes can name.
    expect(byId.get('p')?.connections).toEqual([]);
    noSecrets(data);
  });

  it('references: none', async () => {
    const { data } = await v2.v2.reference.list({ location: { directory: sb.project } });
    expect(data).toEqual({ location: expect.objectContaining({ directory: sb.project }), data: [] });
  });
});

describe('bad input and the password', () => {
  const V1 = ['/lsp', '/formatter', '/experimental/workspace', '/experimental/workspace/status', '/experimental/resource', '/experimental/console', '/experimental/capabilities', '/skill', '/project/x/directories'];
  const V2 = ['/api/location', '/api/agent', '/api/provider', '/api/model', '/api/skill', '/api/reference', '/api/integration'];

  it('a folder that does not exist: a 400 naming the parameter (v2: location[directory])', async () => {
    const missing = path.join(sb.project, 'nope');
    for (const route of V1) {
      const res = await getJson(`${s.url}${route}?directory=${encodeURIComponent(missing)}`);
      expect(res.status, route).toBe(400);
      expect(res.body, route).toMatchObject({ name: 'BadRequest', data: { code: 'DIRECTORY_NOT_FOUND', hint: expect.stringContaining('?directory=') } });
    }
    for (const route of V2) {
      const res = await getJson(`${s.url}${route}?location[directory]=${encodeURIComponent(missing)}`);
      expect(res.status, route).toBe(400);
      // In v2's error shape, as every /api/… route of OpenCode's answers (OpenCode 1.18.33 fails with a 500 here).
      expect(res.body, route).toEqual({ _tag: 'InvalidRequestError', kind: 'Query', message: `query parameter "location[directory]": The directory ${missing} does not exist.`, hint: expect.stringContaining('location[directory]') });
    }
    const sdk = await v2.v2.agent.list({ location: { directory: missing } });
    expect(sdk.response.status).toBe(400);
  });

  it('each route is in the OpenAPI document', async () => {
    const doc = (await getJson(`${s.url}/doc`)).body as { paths: Record<string, { get?: { operationId?: string } }> };
    for (const route of [...V1.filter((r) => !r.startsWith('/project/')), '/project/{projectID}/directories', ...V2]) expect(doc.paths[route]?.get?.operationId, route).toBeTruthy();
  });

  it('behind the server’s password', async () => {
    const guarded = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw-for-the-test' });
    try {
      for (const route of [...V1, ...V2]) expect((await fetch(`${guarded.url}${route}`)).status, route).toBe(401);
      const headers = { authorization: basic('opencode', 'pw-for-the-test') };
      for (const route of [...V1, ...V2]) expect((await fetch(`${guarded.url}${route}`, { headers })).status, route).toBe(200);
      const client = createV2({ baseUrl: guarded.url, directory: sb.project, headers });
      expect((await client.experimental.capabilities.get()).data).toEqual({ backgroundSubagents: true });
      expect((await createV2({ baseUrl: guarded.url }).v2.agent.list()).response.status).toBe(401);
    } finally {
      await guarded.stop();
    }
  });
});
