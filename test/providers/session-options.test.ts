/** The session's id on an agent's model call as OpenCode 1.18.33 sends it (src/providers/session-options.ts). */
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { withSessionOptions } from '../../src/providers/session-options.ts';

const call = (headers?: Record<string, string>): LanguageModelV4CallOptions => ({ prompt: [], ...(headers ? { headers } : {}) });
const model = (provider: string, npm = '@ai-sdk/openai-compatible') => ({ npm, ref: { provider, model: 'm' }, setCacheKey: undefined }) as never;

describe('session headers', () => {
  it('sends x-session-affinity and X-Session-Id to a provider whose id does not start with opencode', () => {
    expect(withSessionOptions(model('local'), call(), 'ses_1').headers).toEqual({ 'x-session-affinity': 'ses_1', 'X-Session-Id': 'ses_1' });
  });

  it('sends neither to OpenCode’s own providers, as OpenCode exempts them', () => {
    expect(withSessionOptions(model('opencode'), call(), 'ses_1').headers).toBeUndefined();
    expect(withSessionOptions(model('opencode-go'), call(), 'ses_1').headers).toBeUndefined();
  });

  it('keeps a header the call has already (a plugin’s chat.headers), in any case, and sends none without a session', () => {
    expect(withSessionOptions(model('local'), call({ 'x-session-id': 'mine' }), 'ses_1').headers).toEqual({ 'x-session-affinity': 'ses_1', 'x-session-id': 'mine' });
    expect(withSessionOptions(model('local'), call(), undefined).headers).toBeUndefined();
  });

  it('sends them also where the provider takes no prompt cache key (setCacheKey: false)', () => {
    const off = { npm: '@ai-sdk/openai', ref: { provider: 'openai', model: 'gpt' }, setCacheKey: false } as never;
    const made = withSessionOptions(off, call(), 'ses_2');
    expect(made.headers).toEqual({ 'x-session-affinity': 'ses_2', 'X-Session-Id': 'ses_2' });
    expect(made.providerOptions).toBeUndefined();
  });
});
