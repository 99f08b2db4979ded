import fs from 'node:fs';
import path from 'node:path';
import { createAjv, mergedSchema } from '../../scripts/gen-config.ts';
import { describe, expect, it } from 'vitest';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { WELL_KNOWN_PROVIDERS } from '../../src/providers/catalog.ts';

const root = path.resolve(import.meta.dirname, '../..');
const presetsDir = path.join(root, 'presets');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, Json>;

// The 12-agent roster, and OpenCode's built-in agents (build, plan, general) so their names resolve.
const ROSTER = [
  'build',
  'plan',
  'general',
  'sisyphus',
  'sisyphus-junior',
  'prometheus',
  'metis',
  'momus',
  'oracle',
  'librarian',
  'explore',
  'atlas',
  'multimodal-looker',
  'frontend-ui-ux-engineer',
  'document-writer',
] as const;
const READ_ONLY = ['oracle', 'momus', 'metis', 'librarian', 'explore', 'multimodal-looker'];
const EDITORS = ['sisyphus', 'atlas', 'sisyphus-junior', 'frontend-ui-ux-engineer', 'document-writer'];

function readJsonc(file: string): Obj {
  const errors: ParseError[] = [];
  const value = parse(fs.readFileSync(file, 'utf8'), errors, { allowTrailingComma: true, disallowComments: false }) as Json;
  const described = errors.map((e) => `${printParseErrorCode(e.error)} at offset ${e.offset}`);
  expect(described, `${path.basename(file)} parses as JSONC`).toEqual([]);
  expect(value !== null && typeof value === 'object' && !Array.isArray(value), `${file} holds an object`).toBe(true);
  return value as Obj;
}

function obj(value: Json | undefined): Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function strings(value: Json | undefined, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) strings(item, out);
  return out;
}

const presetFiles = fs.readdirSync(presetsDir).filter((f) => f.endsWith('.json')).sort();
const presets = new Map(presetFiles.map((f) => [f.slice(0, -'.json'.length), readJsonc(path.join(presetsDir, f))]));
const defaults = presets.get('default') ?? {};
const roster = obj(defaults.agent);

// The schema the validator is generated from: Pantheon's keys over OpenCode's schema.
const validate = createAjv().compile(await mergedSchema());

describe('preset files', () => {
  it('include the four built-in presets', () => {
    expect(presetFiles).toEqual(expect.arrayContaining(['default.json', 'oh-my-opencode.json', 'free-tier.json', 'local.json']));
  });

  it.each(presetFiles)('%s validates against schema/config.json', (file) => {
    const ok = validate(presets.get(file.slice(0, -5)));
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    expect(errors).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check is live: a misspelled key in a preset is rejected', () => {
    const broken = structuredClone(presets.get('free-tier')) as Obj;
    obj(broken.retry).maxRetrys = 3;
    expect(validate(broken)).toBe(false);
  });

  it.each(presetFiles)('%s starts with a // line saying how to use it', (file) => {
    const first = fs.readFileSync(path.join(presetsDir, file), 'utf8').split('\n')[0] ?? '';
    expect(first.startsWith('// ')).toBe(true);
    const name = file.slice(0, -5);
    if (name === 'default') return;
    const head = fs.readFileSync(path.join(presetsDir, file), 'utf8').split('\n').slice(0, 3).join('\n');
    expect(head).toContain(`"extends": ["${name}"]`);
    expect(head).toContain(`opencode config init --preset ${name}`);
  });

  it.each(presetFiles)('%s: every {file:...} reference names an existing file', (file) => {
    const refs = strings(presets.get(file.slice(0, -5)))
      .flatMap((s) => [...s.matchAll(/\{file:([^}]+)\}/g)].map((m) => m[1] ?? ''));
    for (const ref of refs) {
      expect(fs.existsSync(path.resolve(presetsDir, ref)), `${file}: ${ref}`).toBe(true);
    }
    if (file === 'default.json') expect(refs).toHaveLength(ROSTER.length);
  });

  it('agents named in presets are roster agents (no misspellings)', () => {
    for (const [name, preset] of presets) {
      for (const agent of Object.keys(obj(preset.agent))) {
        expect(ROSTER as readonly string[], `${name}: agent ${agent}`).toContain(agent);
      }
    }
  });
});

describe('default.json', () => {
  it('declares exactly the roster agents and OpenCode\'s built-in ones, each complete', () => {
    expect(Object.keys(roster).sort()).toEqual([...ROSTER].sort());
    for (const name of ROSTER) {
      const agent = obj(roster[name]);
      expect(typeof agent.description === 'string' && agent.description.length > 20, `${name} description`).toBe(true);
      expect(String(agent.description)).not.toContain('\n');
      expect(['primary', 'subagent', 'all']).toContain(agent.mode);
      expect(agent.prompt).toBe(`{file:./agents/${name}.md}`);
      expect(Object.keys(obj(agent.permission)).length, `${name} permission`).toBeGreaterThan(0);
      expect(typeof agent.temperature).toBe('number');
    }
  });

  it('gives the modes the roster calls for', () => {
    const mode = (name: string) => obj(roster[name]).mode;
    for (const name of ['sisyphus', 'atlas', 'prometheus']) expect(mode(name)).toBe('primary');
    expect(mode('sisyphus-junior')).toBe('all');
    for (const name of ['oracle', 'momus', 'librarian', 'explore']) expect(['subagent', 'all']).toContain(mode(name));
    for (const name of ['metis', 'multimodal-looker', 'frontend-ui-ux-engineer', 'document-writer']) {
      expect(mode(name)).toBe('subagent');
    }
  });

  it('keeps read-only agents read-only and lets the builders edit', () => {
    for (const name of READ_ONLY) {
      const permission = obj(obj(roster[name]).permission);
      expect(permission.edit, `${name} edit`).toBe('deny');
      expect(permission.bash, `${name} bash`).toBe('deny');
    }
    expect(obj(obj(roster.librarian).permission).webfetch).toBe('allow');
    for (const name of EDITORS) {
      const permission = obj(obj(roster[name]).permission);
      expect(permission.edit, `${name} edit`).toBe('allow');
      expect(permission.bash, `${name} bash`).toBe('ask');
    }
  });

  it('lets prometheus write Markdown plans only, with no shell', () => {
    const permission = obj(obj(roster.prometheus).permission);
    expect(obj(permission.edit)['*']).toBe('deny');
    expect(obj(permission.edit)['*.md']).toBe('allow');
    expect(permission.bash).toBe('deny');
  });

  it('names only roster agents in task permissions', () => {
    for (const name of ROSTER) {
      const task = obj(obj(roster[name]).permission).task;
      for (const pattern of Object.keys(obj(task))) {
        if (pattern !== '*') expect(ROSTER as readonly string[], `${name} task ${pattern}`).toContain(pattern);
      }
    }
  });

  it('sets no model anywhere and carries the documented defaults', () => {
    expect(defaults.model).toBeUndefined();
    expect(defaults.fallbacks).toBeUndefined();
    expect(defaults.provider).toBeUndefined();
    expect(defaults.extends).toBeUndefined();
    for (const name of ROSTER) {
      expect(obj(roster[name]).model, name).toBeUndefined();
      expect(obj(roster[name]).fallbacks, name).toBeUndefined();
    }
    expect(defaults.default_agent).toBe('sisyphus');
    expect(defaults.cache).toEqual({ enabled: true, ttl: 3600, maxSize: 1000 });
    expect(defaults.retry).toEqual({
      maxRetries: 3,
      baseDelay: 1000,
      maxDelay: 60000,
      backoffMultiplier: 2,
      retryOn: [429, 500, 502, 503, 504],
    });
    expect(defaults.cooldown).toEqual({ afterFailures: 3, ms: 60000 });
  });
});

describe('agent prompts', () => {
  const denied = (permission: Obj, key: string) => permission[key] === 'deny';
  const TOOL_PERMISSION: Record<string, string> = { write: 'edit', edit: 'edit', bash: 'bash', webfetch: 'webfetch', task: 'task' };

  it.each([...ROSTER])('%s.md is 150-400 words and mentions only tools the agent may use', (name) => {
    const text = fs.readFileSync(path.join(presetsDir, 'agents', `${name}.md`), 'utf8');
    const words = text.split(/\s+/).filter(Boolean).length;
    expect(words).toBeGreaterThanOrEqual(150);
    expect(words).toBeLessThanOrEqual(400);
    const permission = obj(obj(roster[name]).permission);
    for (const [tool, key] of Object.entries(TOOL_PERMISSION)) {
      if (text.includes(`\`${tool}\``)) expect(denied(permission, key), `${name} mentions \`${tool}\` but ${key} is denied`).toBe(false);
    }
  });
});

describe('model references', () => {
  interface Ref {
    where: string;
    provider: string;
    model: string;
    variant?: string;
  }

  function refsOf(name: string, preset: Obj): Ref[] {
    const out: Ref[] = [];
    const add = (where: string, spec: Json | undefined) => {
      if (spec === undefined) return;
      if (typeof spec === 'string') {
        const slash = spec.indexOf('/');
        let model = spec.slice(slash + 1);
        const colon = model.lastIndexOf(':');
        const variant = colon > 0 ? model.slice(colon + 1) : undefined;
        if (colon > 0) model = model.slice(0, colon);
        out.push({ where: `${name}: ${where}`, provider: spec.slice(0, slash), model, ...(variant ? { variant } : {}) });
      } else {
        const o = obj(spec);
        out.push({ where: `${name}: ${where}`, provider: String(o.provider), model: String(o.id) });
      }
    };
    add('model', preset.model);
    add('small_model', preset.small_model);
    for (const [i, spec] of (Array.isArray(preset.fallbacks) ? preset.fallbacks : []).entries()) add(`fallbacks[${i}]`, spec);
    for (const [agentName, agent] of Object.entries(obj(preset.agent))) {
      add(`agent.${agentName}.model`, obj(agent).model);
      const fallbacks = obj(agent).fallbacks;
      for (const [i, spec] of (Array.isArray(fallbacks) ? fallbacks : []).entries()) add(`agent.${agentName}.fallbacks[${i}]`, spec);
    }
    return out;
  }

  it('the model presets set a top-level model and fallbacks', () => {
    for (const name of ['oh-my-opencode', 'free-tier']) {
      const preset = presets.get(name) ?? {};
      expect(typeof preset.model, name).toBe('string');
      expect(Array.isArray(preset.fallbacks) && preset.fallbacks.length > 0, name).toBe(true);
    }
    expect(presets.get('local')?.model).toBe('local/qwen2.5-coder-7b');
  });

  it.each(presetFiles.filter((f) => f !== 'default.json'))('%s: every ref names a declared or well-known provider, model and variant', (file) => {
    const name = file.slice(0, -5);
    const preset = presets.get(name) ?? {};
    const declared = obj(preset.provider);
    const refs = refsOf(name, preset);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const provider = declared[ref.provider];
      expect(provider !== undefined || Object.hasOwn(WELL_KNOWN_PROVIDERS, ref.provider), `${ref.where}: provider ${ref.provider}`).toBe(true);
      if (provider === undefined) continue;
      const model = obj(obj(provider).models)[ref.model];
      expect(model, `${ref.where}: model ${ref.provider}/${ref.model}`).toBeDefined();
      if (ref.variant) expect(obj(obj(model).variants)[ref.variant], `${ref.where}: variant ${ref.variant}`).toBeDefined();
    }
  });

  it.each(presetFiles.filter((f) => f !== 'default.json'))('%s: chains have no repeats and cross providers', (file) => {
    const preset = presets.get(file.slice(0, -5)) ?? {};
    const chains: [string, Json[]][] = [];
    if (typeof preset.model === 'string') chains.push(['top level', [preset.model, ...(Array.isArray(preset.fallbacks) ? preset.fallbacks : [])]]);
    for (const [agentName, agent] of Object.entries(obj(preset.agent))) {
      const a = obj(agent);
      if (a.model !== undefined) chains.push([agentName, [a.model, ...(Array.isArray(a.fallbacks) ? a.fallbacks : [])]]);
    }
    for (const [where, chain] of chains) {
      const keys = chain.map((spec) => JSON.stringify(spec));
      expect(new Set(keys).size, `${file} ${where}: ${keys.join(' → ')}`).toBe(keys.length);
    }
    const top = chains.find(([where]) => where === 'top level');
    if (top && top[1].length > 1) {
      const providers = new Set(top[1].map((spec) => String(spec).split('/')[0]));
      expect(providers.size, `${file}: top-level chain crosses providers`).toBeGreaterThan(1);
    }
  });

  it('oh-my-opencode follows the guide: sisyphus on Moonshot, specialists on Kimi For Coding, research on free Zen', () => {
    const agents = obj(presets.get('oh-my-opencode')?.agent);
    expect(obj(agents.sisyphus).model).toBe('moonshot-ai/kimi-k2.5');
    expect(obj(agents.sisyphus).fallbacks).toEqual(['kimi-for-coding/k2p5', 'opencode-zen/big-pickle']);
    for (const name of ['oracle', 'momus', 'metis', 'prometheus', 'atlas', 'sisyphus-junior', 'document-writer', 'frontend-ui-ux-engineer']) {
      expect(obj(agents[name]).model, name).toBe('kimi-for-coding/k2p5');
      expect(obj(agents[name]).fallbacks, name).toEqual(['moonshot-ai/kimi-k2.5', 'opencode-zen/big-pickle']);
    }
    const zen = obj(obj(obj(presets.get('oh-my-opencode')?.provider)['opencode-zen']).models);
    for (const name of ['librarian', 'explore']) {
      const chain = [obj(agents[name]).model, ...((obj(agents[name]).fallbacks as Json[] | undefined) ?? [])];
      for (const spec of chain) {
        const [provider, model] = String(spec).split('/');
        expect(provider, `${name}: ${String(spec)}`).toBe('opencode-zen');
        expect(obj(obj(zen[model ?? '']).cost), `${name}: ${String(spec)} is free`).toMatchObject({ input: 0, output: 0 });
      }
    }
  });

  it('free-tier keeps NIM at 40 rpm with a 2-minute timeout and Gemini at 100 rpm / 50,000 rpd', () => {
    const provider = obj(presets.get('free-tier')?.provider);
    const nim = obj(provider['nvidia-nim']);
    expect(nim.rateLimit).toEqual({ rpm: 40 });
    expect(obj(nim.options).timeout).toBe(120000);
    expect(obj(obj(nim.models)['qwen-3.5-397b'])).toMatchObject({ id: 'qwen/qwen3.5-397b-a17b', limit: { context: 262144, output: 32768 } });
    expect(obj(obj(nim.models)['llama-3.3-70b']).id).toBe('meta/llama-3.3-70b-instruct');
    const google = obj(provider.google);
    expect(google.npm).toBe('@ai-sdk/google');
    expect(google.rateLimit).toEqual({ rpm: 100, rpd: 50000 });
    expect(obj(obj(google.models)['gemini-3-flash']).id).toBe('gemini-3-flash-preview');
    const agents = obj(presets.get('free-tier')?.agent);
    for (const name of ['librarian', 'explore']) expect(String(obj(agents[name]).model).startsWith('opencode-zen/'), name).toBe(true);
  });

  it('local needs no key, runs two requests at a time and leaves the cache store alone', () => {
    const local = presets.get('local') ?? {};
    const provider = obj(obj(local.provider).local);
    expect(obj(provider.options).baseURL).toBe('http://127.0.0.1:11434/v1');
    expect(provider.rateLimit).toEqual({ concurrency: 2 });
    expect(local.cache).toBeUndefined();
  });

  it('presets that declare a well-known provider agree with the catalogue on its base URL', () => {
    for (const [name, preset] of presets) {
      for (const [id, provider] of Object.entries(obj(preset.provider))) {
        const known = WELL_KNOWN_PROVIDERS[id];
        const baseURL = obj(obj(provider).options).baseURL;
        if (known && typeof baseURL === 'string') expect(baseURL, `${name}: ${id}`).toBe(known.baseURL);
      }
    }
  });
});
