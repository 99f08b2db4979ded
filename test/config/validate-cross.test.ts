import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { configWarningsOf, validateConfigObject, validateLayers } from '../../src/config/validate.ts';
import { configError, fileLayer, tempDir } from './validate-helper.ts';

const seed = async (name: string): Promise<unknown> =>
  JSON.parse(await fs.readFile(path.join(import.meta.dirname, '..', 'fixtures', 'seed', name), 'utf8'));

const step = (id: string, agent: string, needs?: string[]) => ({ id, agent, prompt: `do ${id}`, ...(needs ? { needs } : {}) });

describe('cross-reference checks', () => {
  it('accepts the seed fixtures (declared and well-known providers, ids with slashes)', async () => {
    expect(validateConfigObject(await seed('section-11.json'))).toEqual([]);
    expect(validateConfigObject(await seed('section-14.json'))).toEqual([]);
    expect(configWarningsOf(await seed('section-11.json'))).toEqual([]);
  });

  it('accepts well-known providers, declared providers and model ids containing slashes', () => {
    expect(
      validateConfigObject({
        model: 'moonshot-ai/kimi-k2.5',
        small_model: 'opencode-zen/zen/big-pickle',
        fallbacks: ['local-llm/qwen/qwen3:high', { provider: 'kimi-for-coding', id: 'kimi-for-coding/k2p5' }],
        provider: { 'local-llm': { options: { baseURL: 'http://127.0.0.1:8080/v1' } } },
      }),
    ).toEqual([]);
  });

  it('accepts providers of the models.dev catalogue without a declaration', () => {
    const config = { model: 'github-copilot/gpt-4.1', fallbacks: ['opencode-go/glm-5', 'zai-coding-plan/glm-4.6', 'perplexity/sonar'] };
    expect(validateConfigObject(config)).toEqual([]);
    expect(configWarningsOf(config)).toEqual([]);
  });

  it('warns of a provider neither declared nor catalogued (a run that needs it fails), with did-you-mean over declared ids', () => {
    const config = {
      provider: { 'my-proxy': { options: { baseURL: 'http://127.0.0.1:9/v1' } } },
      model: 'my-proxi/gpt',
      agent: { oracle: { model: 'nvdia-nim/qwen-3.5-397b', fallbacks: ['zqxwv/x', { provider: 'zqxwv', id: 'y' }] } },
      workflow: { review: { steps: [{ ...step('a', 'oracle'), model: 'opencode-zn/zen/big-pickle' }] } },
    };
    expect(validateConfigObject(config)).toEqual([]);
    const tail = 'is neither declared nor in the models.dev catalogue, so a run that uses it fails';
    expect(
      configWarningsOf(config),
    ).toEqual([
      `model: provider "my-proxi" ${tail}; did you mean "my-proxy"?`,
      `agent.oracle.model: provider "nvdia-nim" ${tail}; did you mean "nvidia-nim"?`,
      `agent.oracle.fallbacks[0]: provider "zqxwv" ${tail}`,
      `agent.oracle.fallbacks[1].provider: provider "zqxwv" ${tail}`,
      `workflow.review.steps[0].model: provider "opencode-zn" ${tail}; did you mean "opencode-zen"?`,
    ]);
  });

  it('warns of a base URL a request cannot be sent to (OpenCode loads it; a run that uses the provider fails), its credentials hidden', () => {
    const config = {
      provider: {
        words: { options: { baseURL: 'not a url' } },
        ftp: { options: { baseURL: 'ftp://files.example/v1' } },
        escape: { options: { baseURL: 'https://me:50%off-s3cret@proxy.example/v1' } },
        api: { api: 'integrate.api.nvidia.com/v1' },
        fine: { options: { baseURL: 'https://me:p%40ss@proxy.example/v1' }, api: 'not used' },
        empty: { options: { baseURL: '' } },
      },
      model: 'fine/m',
    };
    expect(validateConfigObject(config)).toEqual([]);
    const tail = (id: string) => `a run that uses provider "${id}" fails`;
    const warnings = configWarningsOf(config);
    expect(warnings).toEqual([
      `provider.words.options.baseURL: expected an http(s) URL such as "https://integrate.api.nvidia.com/v1", found "not a url"; ${tail('words')}`,
      `provider.ftp.options.baseURL: expected an http(s) URL, found "ftp://files.example/v1"; ${tail('ftp')}`,
      `provider.escape.options.baseURL: expected a user name and password whose "%" each start an escape such as "%25", found "https://***@proxy.example/v1"; ${tail('escape')}`,
      `provider.api.api: expected an http(s) URL such as "https://integrate.api.nvidia.com/v1", found "integrate.api.nvidia.com/v1"; ${tail('api')}`,
    ]);
    expect(warnings.join('\n')).not.toContain('s3cret');
  });

  it('runs only once the schema passes', () => {
    expect(validateConfigObject({ model: 'acme/x', cache: { ttl: 0 } })).toEqual(['cache.ttl: expected an integer from 1 to 31,536,000, found 0']);
  });

  it('checks default_agent against the merged agent map (a warning: OpenCode loads it; a run without --agent fails)', () => {
    expect(validateConfigObject({ default_agent: 'oracel', agent: { oracle: {}, build: {} } })).toEqual([]);
    expect(configWarningsOf({ default_agent: 'oracel', agent: { oracle: {}, build: {} } })).toEqual([
      'default_agent: agent "oracel" is not defined, so a run without --agent fails; did you mean "oracle"?',
    ]);
    expect(validateConfigObject({ default_agent: 'build', agent: { oracle: {}, build: {} } })).toEqual([]);
  });

  it('checks workflow steps: agents, needs, duplicate ids and cycles', () => {
    const agent = { oracle: {}, build: {} };
    expect(
      validateConfigObject({
        agent,
        workflow: {
          ship: { steps: [step('plan', 'oracle'), step('code', 'biuld', ['plan', 'tset']), step('test', 'build', ['code']), step('test', 'build')] },
        },
      }),
    ).toEqual([
      'workflow.ship.steps[1].agent: agent "biuld" is not defined; did you mean "build"?',
      'workflow.ship.steps[1].needs[1]: step "tset" does not exist in workflow "ship"; did you mean "test"?',
      'workflow.ship.steps[3].id: duplicate step id "test"',
    ]);
    expect(
      validateConfigObject({
        agent,
        workflow: { loop: { steps: [step('a', 'oracle', ['c']), step('b', 'oracle', ['a']), step('c', 'oracle', ['b']), step('d', 'build', ['d'])] } },
      }),
    ).toEqual([
      'workflow.loop.steps[0].needs: steps need each other in a cycle: a → c → b → a',
      'workflow.loop.steps[3].needs: steps need each other in a cycle: d → d',
    ]);
  });

  describe('through validateLayers', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await tempDir();
    });
    afterEach(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('places cross-reference warnings in files', async () => {
      const layer = await fileLayer(
        dir,
        'opencode.json',
        `{
  "agent": {
    "oracle": { "model": "nvdia-nim/qwen-3.5-397b" }
  },
  "default_agent": "oracel"
}
`,
      );
      expect(configError(validateLayers, [layer])).toBeUndefined();
      const warnings = validateLayers(layer.data, [layer]);
      expect(warnings.map((w) => `${w.file} ${w.path}: ${w.message}`)).toEqual([
        `${layer.file}:3:17 agent.oracle.model: provider "nvdia-nim" is neither declared nor in the models.dev catalogue, so a run that uses it fails; did you mean "nvidia-nim"?`,
        `${layer.file}:5:3 default_agent: agent "oracel" is not defined, so a run without --agent fails; did you mean "oracle"?`,
      ]);
    });
  });
});
