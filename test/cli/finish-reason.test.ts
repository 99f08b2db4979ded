import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './cli-helper.ts';

/**
 * `step_finish`'s `reason` is one of the AI SDK's words whatever a provider package says
 * (src/providers/finish-reason.ts): a package's own word (here with a terminal escape in it) is
 * `other`, an AI SDK 5 package's plain string is read as the word it is, and a cached answer
 * replays the word it was stored with.
 */
const PACKAGE = `
const usage = { inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 2, text: 2, reasoning: 0 } };
function model(modelId) {
  return {
    specificationVersion: 'v4',
    provider: 'odd',
    modelId,
    supportedUrls: {},
    async doGenerate() {
      throw new Error('streams only');
    },
    async doStream(options) {
      const asked = JSON.stringify(options.prompt);
      const finishReason = asked.includes('own word') ? { unified: 'end\\u001b[31m_turn', raw: 'end_turn' } : asked.includes('old style') ? 'length' : { unified: 'length', raw: 'max_tokens' };
      const parts = [{ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'Hi.' }, { type: 'text-end', id: 't' }, { type: 'finish', finishReason, usage }];
      return { stream: new ReadableStream({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } }) };
    },
  };
}
export function createOdd() {
  const provider = (id) => model(id);
  provider.languageModel = model;
  return provider;
}
`;

describe('step_finish reason from a provider package', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox();
    sb.write('node_modules/odd-provider/package.json', { name: 'odd-provider', version: '1.0.0', type: 'module', main: 'index.js' });
    sb.write('node_modules/odd-provider/index.js', PACKAGE);
    sb.write('opencode.json', { provider: { odd: { npm: 'odd-provider', options: { apiKey: 'unused' }, models: { m: {} } } }, model: 'odd/m' });
  });
  afterAll(async () => {
    await sb.remove();
  });

  const reasons = async (message: string, cache = false) => {
    const r = await sb.run(['run', ...(cache ? [] : ['--no-cache']), '--format', 'json', message]);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; reason?: string });
    return { reasons: events.filter((e) => e.type === 'step_finish').map((e) => e.reason), cached: events.some((e) => e.type === 'cache_hit') };
  };

  it("a package's own word is `other`; an AI SDK 5 package's string is read", async () => {
    expect((await reasons('say it in your own word')).reasons).toEqual(['other']);
    expect((await reasons('say it old style')).reasons).toEqual(['length']);
  });

  it('a cached answer says why it ended as the answer did', async () => {
    expect(await reasons('cut me short', true)).toEqual({ reasons: ['length'], cached: false });
    expect(await reasons('cut me short', true)).toEqual({ reasons: ['length'], cached: true });
  });
});
