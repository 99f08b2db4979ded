import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { validateConfigObject, validateLayers } from '../../src/config/validate.ts';
import { configError, fileLayer, tempDir } from './validate-helper.ts';

const seed = async (name: string): Promise<unknown> =>
  JSON.parse(await fs.readFile(path.join(import.meta.dirname, '..', 'fixtures', 'seed', name), 'utf8'));

const step = (id: string, agent: string, needs?: string[]) => ({ id, agent, prompt: `do ${id}`, ...(needs ? { needs } : {}) });

describe('cross-reference checks', () => {
  it('accepts the seed fixtures (declared and well-known providers, ids with slashes)', async () => {
    expect(validateConfigObject(await seed('section-11.json'))).toEqual([]);
    expect(validateConfigObject(await seed('section-14.json'))).toEqual([]);
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

  it('names an undeclared provider, with did-you-mean over declared and well-known ids', () => {
    expect(
      validateConfigObject({
        provider: { 'my-proxy': { options: { baseURL: 'http://127.0.0.1:9/v1' } } },
        model: 'my-proxi/gpt',
        agent: { oracle: { model: 'nvdia-nim/qwen-3.5-397b', fallbacks: ['acme/x', { provider: 'acme', id: 'y' }] } },
        workflow: { review: { steps: [{ ...step('a', 'oracle'), model: 'opencode-zn/zen/big-pickle' }] } },
      }),
    ).toEqual([
      'model: provider "my-proxi" is not declared; did you mean "my-proxy"?',
      'agent.oracle.model: provider "nvdia-nim" is not declared; did you mean "nvidia-nim"?',
      'agent.oracle.fallbacks[0]: provider "acme" is not declared',
      'agent.oracle.fallbacks[1].provider: provider "acme" is not declared',
      'workflow.review.steps[0].model: provider "opencode-zn" is not declared; did you mean "opencode-zen"?',
    ]);
  });

  it('runs only once the schema passes', () => {
    expect(validateConfigObject({ model: 'acme/x', cache: { ttl: 0 } })).toEqual(['cache.ttl: expected an integer from 1 to 31,536,000, found 0']);
  });

  it('checks default_agent against the merged agent map', () => {
    expect(validateConfigObject({ default_agent: 'oracel', agent: { oracle: {}, build: {} } })).toEqual([
      'default_agent: agent "oracel" is not defined; did you mean "oracle"?',
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

    it('places cross-reference problems in files, with a hint on declaring providers', async () => {
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
      const error = configError(validateLayers, [layer]);
      expect(error?.message).toBe('Invalid config: 2 problems in 1 file.');
      expect(error?.details).toEqual([
        `${layer.file}:3:17 agent.oracle.model: provider "nvdia-nim" is not declared; did you mean "nvidia-nim"?`,
        `${layer.file}:5:3 default_agent: agent "oracel" is not defined; did you mean "oracle"?`,
      ]);
      expect(error?.hint).toContain('`provider.<id>`');
      expect(error?.hint).toMatch(/`opencode config validate` re-checks\.$/);
    });
  });
});
