/**
 * OpenCode's per-family sampling defaults (its ProviderTransform.temperature, topP and topK), as an
 * agent run here sends them: matched on the provider's own model id.
 */
import { describe, expect, it } from 'vitest';
import { samplingDefaults } from '../../src/providers/sampling-defaults.ts';

describe('samplingDefaults', () => {
  it.each([
    // id, provider, expected
    ['moonshotai/kimi-k2-instruct', 'nvidia-nim', { temperature: 0.6 }],
    ['moonshotai/kimi-k2-thinking', 'nvidia-nim', { temperature: 1 }],
    ['kimi-k2.5', 'moonshot', { temperature: 1, topP: 0.95 }],
    ['accounts/fireworks/models/kimi-k2p5', 'fireworks', { temperature: 1, topP: 0.95 }],
    ['minimaxai/minimax-m2', 'nvidia-nim', { temperature: 1, topP: 0.95, topK: 20 }],
    ['MiniMax-M2.1', 'minimax', { temperature: 1, topP: 0.95, topK: 40 }],
    ['z-ai/glm-4.6', 'openrouter', { temperature: 1 }],
    ['glm-4.7', 'zai', { temperature: 1 }],
    ['gemini-2.5-pro', 'google', { temperature: 1, topP: 0.95, topK: 64 }],
    ['gemini-3-flash-preview', 'google', { temperature: 1, topP: 0.95, topK: 64 }],
    ['gemini-3.5-flash-lite', 'google', {}],
    ['gemini-1.5-pro', 'google', {}],
    ['deepseek-v4-flash', 'deepseek', { topP: 0.95 }],
    ['deepseek-v4-flash', 'nvidia-nim', {}],
    ['deepseek-ai/deepseek-v4-flash-0731', 'nvidia-nim', { topP: 0.95 }],
    ['claude-sonnet-4-5', 'anthropic', {}],
    ['qwen/qwen3.5-397b-a17b', 'nvidia-nim', {}],
    ['meta/llama-3.3-70b-instruct', 'nvidia-nim', {}],
  ])('%s (%s)', (id, provider, expected) => {
    expect(samplingDefaults(id, provider)).toEqual(expected);
  });
});
