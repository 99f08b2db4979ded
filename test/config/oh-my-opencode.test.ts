import { describe, expect, it } from 'vitest';
import { isOhMyOpencodeFile, mapOhMyOpencode } from '../../src/config/oh-my-opencode.ts';

describe('oh-my-opencode mapping', () => {
  const source = {
    $schema: 'https://example.com/oh-my-opencode.schema.json',
    google_auth: false,
    disabled_hooks: ['comment-checker'],
    agents: {
      oracle: { model: 'openai/gpt-5.2', fallback_models: ['google/gemini-3-pro', 'nim/qwen'], temperature: 0.1, prompt_append: 'Be brief.', skills: ['x'] },
      explore: { model: 'opencode/grok-code' },
    },
    background_task: {
      defaultConcurrency: 5,
      providerConcurrency: { anthropic: 3 },
      modelConcurrency: { 'anthropic/claude-opus-4-6': 2, 'openrouter/meta/llama-4': 1 },
      staleTimeoutMs: 180000,
    },
  };

  it('maps agents and background_task onto Pantheon keys and ignores the rest', () => {
    expect(mapOhMyOpencode(source).data).toEqual({
      agent: {
        oracle: { model: 'openai/gpt-5.2', fallbacks: ['google/gemini-3-pro', 'nim/qwen'], temperature: 0.1, prompt_append: 'Be brief.' },
        explore: { model: 'opencode/grok-code' },
      },
      rateLimit: { concurrency: 5 },
      provider: {
        anthropic: { rateLimit: { concurrency: 3 }, models: { 'claude-opus-4-6': { rateLimit: { concurrency: 2 } } } },
        openrouter: { models: { 'meta/llama-4': { rateLimit: { concurrency: 1 } } } },
      },
    });
  });

  it('records where each mapped value came from in the oh-my-opencode file', () => {
    const { sourcePaths } = mapOhMyOpencode(source);
    expect(sourcePaths.get('agent/oracle/fallbacks')).toEqual(['agents', 'oracle', 'fallback_models']);
    expect(sourcePaths.get('agent/oracle/fallbacks/1')).toEqual(['agents', 'oracle', 'fallback_models', 1]);
    expect(sourcePaths.get('agent/oracle')).toEqual(['agents', 'oracle']);
    expect(sourcePaths.get('rateLimit/concurrency')).toEqual(['background_task', 'defaultConcurrency']);
    expect(sourcePaths.get('provider/anthropic/rateLimit/concurrency')).toEqual(['background_task', 'providerConcurrency', 'anthropic']);
    expect(sourcePaths.get('provider/anthropic/models/claude-opus-4-6/rateLimit/concurrency')).toEqual([
      'background_task',
      'modelConcurrency',
      'anthropic/claude-opus-4-6',
    ]);
  });

  it('accepts a single fallback model as a string and reports model keys that are not provider/model', () => {
    const mapped = mapOhMyOpencode({ agents: { a: { fallback_models: 'x/y' } }, background_task: { modelConcurrency: { nomodel: 2 } } });
    expect(mapped.data).toEqual({ agent: { a: { fallbacks: ['x/y'] } } });
    expect(mapped.ignored).toEqual([{ path: ['background_task', 'modelConcurrency', 'nomodel'], reason: '"nomodel" is not a provider/model reference' }]);
  });

  it('reads fallback_models entries written as {model, variant} (a variant becomes model:variant)', () => {
    const mapped = mapOhMyOpencode({ agents: { a: { fallback_models: [{ model: 'opencode/big-pickle' }, { model: 'github-copilot/gpt-4.1', variant: 'high' }, 'x/y'] } } });
    expect(mapped.data).toEqual({ agent: { a: { fallbacks: ['opencode/big-pickle', 'github-copilot/gpt-4.1:high', 'x/y'] } } });
  });

  it('recognises its file names, the newer oh-my-openagent ones too', () => {
    expect(isOhMyOpencodeFile('/a/oh-my-openagent.jsonc')).toBe(true);
    expect(isOhMyOpencodeFile('/a/oh-my-opencode.json')).toBe(true);
    expect(isOhMyOpencodeFile('/a/.opencode/oh-my-opencode.jsonc')).toBe(true);
    expect(isOhMyOpencodeFile('/a/my-oh-my-opencode.json')).toBe(false);
  });
});
