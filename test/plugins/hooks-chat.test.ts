/**
 * The plugins' hooks on a turn's model calls, driven through a real turn against the scripted
 * provider: `chat.params` and `chat.headers` change what the provider receives (per attempt, with
 * the model it goes to), `experimental.chat.system.transform` the system prompt, `chat.message` the
 * user's message as sent and saved, `experimental.text.complete` the saved text; a hook that throws
 * fails the turn with one sentence naming it.
 */
import type { ModelMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import { PantheonError } from '../../src/errors.ts';
import { configFor, useHarness } from '../run/harness.ts';
import { testHost } from './test-host.ts';

const h = useHarness();

type Sent = { role: string; content: unknown };
const systemOf = (messages: unknown[]): string[] => (messages as Sent[]).filter((m) => m.role === 'system').map((m) => String(m.content));
const userText = (messages: unknown[]): string => {
  const user = (messages as Sent[]).filter((m) => m.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content);
};

describe('chat.params and chat.headers', () => {
  it('change the sampling, the provider options and the headers the provider receives, and are told the turn in OpenCode shapes', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { worker: { prompt: 'Work.', temperature: 0.2 } } }, { a: { options: { seed: 7 } } });
    server.script('a', { type: 'text', text: 'done' });
    const plugins = testHost({
      'chat.params': (_input, output) => {
        output.temperature = 0.9;
        output.topP = 0.5;
        output.maxOutputTokens = 123;
        output.options.user = 'from-plugin';
      },
      'chat.headers': (_input, output) => {
        output.headers['x-trace'] = 'trace-1';
      },
    });
    const runtime = await h.runtime(config);
    const root = await h.tempDir();
    const { result, error } = await h.run({ config, runtime, agent: 'worker', message: 'hello', workspace: { projectRoot: root, plugins } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('done');
    const sent = server.log[0];
    expect(sent).toMatchObject({ temperature: 0.9, top_p: 0.5, max_tokens: 123 });
    expect(sent?.body).toMatchObject({ seed: 7, user: 'from-plugin' });
    expect(sent?.headers['x-trace']).toBe('trace-1');
    const [params] = plugins.of('chat.params');
    expect(params).toMatchObject({
      sessionID: 'ses_test',
      agent: 'worker',
      model: { id: 'a', providerID: 'local', api: { id: 'a', npm: '@ai-sdk/openai-compatible' }, capabilities: { temperature: true } },
      provider: { source: 'config', info: { id: 'local' }, options: { baseURL: server.url } },
      message: { role: 'user', agent: 'worker', model: { providerID: 'local', modelID: 'a' } },
    });
    expect(params.message.id).toMatch(/^msg_/);
    // Never the key: the provider's options carry its address only.
    expect(JSON.stringify(plugins.calls)).not.toContain('sk-test-secret');
  });

  it('reach the provider through the AI SDK\'s own package too (a model called with a custom fetch)', async () => {
    const server = await h.server();
    const config = configFor(server);
    server.script('a', { type: 'text', text: 'via the SDK' });
    const plugins = testHost({
      'chat.params': (_input, output) => void (output.temperature = 0.65),
      'chat.headers': (_input, output) => void (output.headers['x-trace'] = 'sdk-path'),
    });
    const runtime = await h.runtime(config);
    const { result, error } = await h.run({ config, runtime, message: 'x', fetch: (input, init) => fetch(input, init), workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('via the SDK');
    expect(server.log[0]?.temperature).toBe(0.65);
    expect(server.log[0]?.headers['x-trace']).toBe('sdk-path');
  });

  it('the hook sees the values the call would send (the agent temperature, the model options) before it changes them', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { worker: { temperature: 0.3, top_p: 0.8 } } }, { a: { options: { seed: 7 } } });
    server.script('a', { type: 'text', text: 'ok' });
    const seen: unknown[] = [];
    const plugins = testHost({ 'chat.params': (_input, output) => void seen.push(structuredClone(output)) });
    const runtime = await h.runtime(config);
    const { error } = await h.run({ config, runtime, agent: 'worker', message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(error).toBeUndefined();
    expect(seen).toEqual([{ temperature: 0.3, topP: 0.8, topK: undefined, maxOutputTokens: undefined, options: { seed: 7 } }]);
    expect(server.log[0]).toMatchObject({ temperature: 0.3, top_p: 0.8 });
  });

  it('run again for a fallback, with the fallback model, and what they set is sent to it', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { worker: { model: 'local/a', fallbacks: ['local/b'] } } });
    server.script('a', { type: 'status', status: 503, repeat: 3 });
    server.script('b', { type: 'text', text: 'from b' });
    const plugins = testHost({
      'chat.params': (input, output) => {
        output.temperature = input.model.id === 'b' ? 0.7 : 0.1;
      },
      'chat.headers': (input, output) => {
        output.headers['x-model'] = input.model.id;
      },
    });
    const runtime = await h.runtime(config);
    const { result, error } = await h.run({ config, runtime, agent: 'worker', message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('from b');
    expect(plugins.of('chat.params').map((i) => i.model.id)).toEqual(['a', 'a', 'a', 'b']);
    const last = server.log.at(-1);
    expect(last).toMatchObject({ model: 'b', temperature: 0.7 });
    expect(last?.headers['x-model']).toBe('b');
    expect(server.log[0]).toMatchObject({ model: 'a', temperature: 0.1 });
  });

  it('a header a hook adds that looks like a secret is masked where the failure says it', async () => {
    const server = await h.server();
    const secret = 'tok_9f8e7d6c5b4a3210ffee';
    const config = configFor(server, { agent: { worker: { model: 'local/a' } } });
    // A provider that echoes the header it refused.
    server.script('a', { type: 'status', status: 400, message: `bad X-Team-Token ${secret}` });
    const plugins = testHost({ 'chat.headers': (_input, output) => void (output.headers['x-team-token'] = secret) });
    const runtime = await h.runtime(config);
    const { error, rec } = await h.run({ config, runtime, agent: 'worker', message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(server.log[0]?.headers['x-team-token']).toBe(secret);
    expect(error).toBeInstanceOf(PantheonError);
    const shown = JSON.stringify({ message: (error as PantheonError).message, details: (error as PantheonError).details, events: rec.events });
    expect(shown).toContain('bad X-Team-Token');
    expect(shown).not.toContain(secret);
  });

  it('a header a hook adds that HTTP refuses fails the turn naming the header, never its value', async () => {
    const server = await h.server();
    const config = configFor(server);
    const plugins = testHost({ 'chat.headers': (_input, output) => void (output.headers['x-bad'] = 'line\nbreak-secret') });
    const runtime = await h.runtime(config);
    const { error } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(error).toMatchObject({ code: 'PLUGIN_FAILED' });
    expect((error as Error).message).toMatch(/^The plugin hook chat\.headers failed: output\.headers\["x-bad"\]: the value has a character HTTP does not allow/);
    expect((error as Error).message).not.toContain('break-secret');
    expect(server.log).toHaveLength(0);
  });

  it('a hook that throws fails the turn at once: one sentence naming the hook, no request, no retry or fallback', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { worker: { model: 'local/a', fallbacks: ['local/b'] } } });
    const plugins = testHost({
      'chat.params': () => {
        throw new Error('the budget plugin says no');
      },
    });
    const runtime = await h.runtime(config);
    const { error, rec } = await h.run({ config, runtime, agent: 'worker', message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(error).toBeInstanceOf(PantheonError);
    expect(error).toMatchObject({ code: 'PLUGIN_FAILED', message: 'The plugin hook chat.params failed: the budget plugin says no' });
    expect(server.log).toHaveLength(0);
    expect(rec.types()).not.toContain('retry');
    expect(rec.types()).not.toContain('fallback');
    expect(plugins.of('chat.params')).toHaveLength(1);
  });

  it('without plugins, or with none of these hooks, nothing is asked', async () => {
    const server = await h.server();
    const config = configFor(server);
    server.script('a', { type: 'text', text: 'plain' });
    const plugins = testHost({ 'shell.env': () => undefined });
    const runtime = await h.runtime(config);
    const { result } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(result?.answer).toBe('plain');
    expect(plugins.calls).toEqual([]);
  });
});

describe('the response cache after the call hooks', () => {
  it('keys an answer by what the hooks left: another temperature or header is asked anew, the same one is a cache hit', async () => {
    const server = await h.server();
    const config = configFor(server, { cache: { store: 'memory' } });
    server.script('a', { type: 'text', text: 'made at 0.1' }, { type: 'text', text: 'made at 0.9' }, { type: 'text', text: 'made with beta' });
    let temperature = 0.1;
    let beta = '';
    const plugins = testHost({
      'chat.params': (_input, output) => void (output.temperature = temperature),
      'chat.headers': (_input, output) => {
        if (beta) output.headers['anthropic-beta'] = beta;
      },
    });
    const runtime = await h.runtime(config);
    const workspace = { projectRoot: await h.tempDir(), plugins };
    const ask = async () => {
      const { result, error, rec } = await h.run({ config, runtime, message: 'same question', workspace });
      expect(error).toBeUndefined();
      return { answer: result?.answer, hit: rec.of('cache_hit').length > 0 };
    };
    expect(await ask()).toEqual({ answer: 'made at 0.1', hit: false });
    temperature = 0.9;
    expect(await ask()).toEqual({ answer: 'made at 0.9', hit: false });
    expect(server.log.map((r) => r.temperature)).toEqual([0.1, 0.9]);
    temperature = 0.1;
    expect(await ask()).toEqual({ answer: 'made at 0.1', hit: true });
    beta = 'tools-2';
    expect(await ask()).toEqual({ answer: 'made with beta', hit: false });
    expect(await ask()).toEqual({ answer: 'made with beta', hit: true });
    expect(server.log).toHaveLength(3);
    // Each model call ran the hooks once, whether its answer came from the provider or the cache.
    expect(plugins.of('chat.params')).toHaveLength(5);
  });

  it('a header the hooks add that looks like a secret does not split the cache', async () => {
    const server = await h.server();
    const config = configFor(server, { cache: { store: 'memory' } });
    server.script('a', { type: 'text', text: 'once' });
    let token = 'Bearer sk-plugin-token-aaaaaaaaaaaa';
    const plugins = testHost({ 'chat.headers': (_input, output) => void (output.headers.authorization = token) });
    const runtime = await h.runtime(config);
    const workspace = { projectRoot: await h.tempDir(), plugins };
    expect((await h.run({ config, runtime, message: 'q', workspace })).result?.answer).toBe('once');
    token = 'Bearer sk-plugin-token-bbbbbbbbbbbb';
    const again = await h.run({ config, runtime, message: 'q', workspace });
    expect(again.rec.of('cache_hit')).toHaveLength(1);
    expect(server.log).toHaveLength(1);
  });
});

describe('experimental.chat.system.transform', () => {
  it('changes the system prompt sent; texts added after an unchanged first are joined into one, as OpenCode does', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { worker: { prompt: 'You are the worker.' } } });
    server.script('a', { type: 'text', text: 'one' }, { type: 'text', text: 'two' });
    let add = ['Rule A.'];
    const plugins = testHost({ 'experimental.chat.system.transform': (_input, output) => void output.system.push(...add) });
    const runtime = await h.runtime(config);
    const root = await h.tempDir();
    await h.run({ config, runtime, agent: 'worker', message: 'x', workspace: { projectRoot: root, plugins } });
    // The first text is the whole prompt as it was: the agent's, then the environment block.
    const prompt = expect.stringMatching(/^You are the worker\.\nYou are powered by the model named a\.[^]*<\/env>$/);
    expect(systemOf(server.log[0]?.messages ?? [])).toEqual([prompt, 'Rule A.']);
    add = ['Rule A.', 'Rule B.'];
    await h.run({ config, runtime, agent: 'worker', message: 'y', workspace: { projectRoot: root, plugins } });
    expect(systemOf(server.log[1]?.messages ?? [])).toEqual([prompt, 'Rule A.\nRule B.']);
    expect(plugins.of('experimental.chat.system.transform')[0]).toMatchObject({ sessionID: 'ses_test', model: { id: 'a', providerID: 'local' } });
  });

  it('replacing the first text replaces the prompt', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { worker: { prompt: 'Old prompt.' } } });
    server.script('a', { type: 'text', text: 'ok' });
    const plugins = testHost({ 'experimental.chat.system.transform': (_input, output) => void (output.system[0] = 'New prompt.') });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, agent: 'worker', message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(systemOf(server.log[0]?.messages ?? [])).toEqual(['New prompt.']);
  });
});

describe('chat.message and experimental.text.complete', () => {
  it('chat.message changes the user message the model reads and the turn saves', async () => {
    const server = await h.server();
    const config = configFor(server);
    server.script('a', { type: 'text', text: 'ok' });
    const plugins = testHost({
      'chat.message': (_input, output) => {
        output.parts[0].text = `${output.parts[0].text} (be brief)`;
        output.parts.push({ type: 'text', text: 'Context: from a plugin.' });
      },
    });
    const runtime = await h.runtime(config);
    const turn: ModelMessage[] = [];
    const { error } = await h.run({ config, runtime, message: 'hello', turn, ids: { user: 'msg_user1', assistant: 'msg_reply1' }, workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(error).toBeUndefined();
    expect(userText(server.log[0]?.messages ?? [])).toContain('hello (be brief)');
    expect(userText(server.log[0]?.messages ?? [])).toContain('Context: from a plugin.');
    expect(JSON.stringify(turn[0])).toContain('hello (be brief)');
    const [input] = plugins.of('chat.message');
    expect(input).toEqual({ sessionID: 'ses_test', agent: 'default', model: { providerID: 'local', modelID: 'a' }, messageID: 'msg_user1' });
  });

  it('chat.message may set the message system text, added to the system prompt', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { worker: { prompt: 'Base.' } } });
    server.script('a', { type: 'text', text: 'ok' });
    const plugins = testHost({ 'chat.message': (_input, output) => void (output.message.system = 'From the plugin.'), 'chat.params': () => undefined });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, agent: 'worker', message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(systemOf(server.log[0]?.messages ?? []).join('\n')).toMatch(/^Base\.[^]*From the plugin\.$/);
    // The model calls' hooks are told the message as chat.message left it.
    expect(plugins.of('chat.params')[0].message).toMatchObject({ role: 'user', system: 'From the plugin.' });
  });

  it('experimental.text.complete replaces a text part before it is shown, saved and read by the next step', async () => {
    const server = await h.server();
    const config = configFor(server);
    server.script(
      'a',
      { type: 'tool_calls', text: 'Let me look.', calls: [{ name: 'list', arguments: {} }] },
      { type: 'text', text: 'All done.' },
    );
    const plugins = testHost({ 'experimental.text.complete': (_input, output) => void (output.text = output.text.toUpperCase()) });
    const runtime = await h.runtime(config);
    const turn: ModelMessage[] = [];
    const { error, result, rec } = await h.run({ config, runtime, message: 'x', turn, ids: { user: 'msg_u', assistant: 'msg_r' }, workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(error).toBeUndefined();
    // Reported whole once replaced (as OpenCode's run prints a text part once it has ended), before the call that followed it.
    expect(rec.of('text').map((e) => e.text)).toEqual(['LET ME LOOK.', 'ALL DONE.']);
    expect(rec.types().indexOf('text')).toBeLessThan(rec.types().indexOf('tool_start'));
    expect(result?.answer).toBe('ALL DONE.');
    const saved = JSON.stringify(turn);
    expect(saved).toContain('LET ME LOOK.');
    expect(saved).toContain('ALL DONE.');
    expect(saved).not.toContain('All done.');
    expect(JSON.stringify(server.log[1]?.messages)).toContain('LET ME LOOK.');
    expect(plugins.of('experimental.text.complete')[0]).toMatchObject({ sessionID: 'ses_test', messageID: 'msg_r' });
    expect(plugins.of('experimental.text.complete')[0].partID).toMatch(/^prt_/);
  });

  it('a chat.message hook that throws fails the turn before any request, naming the hook', async () => {
    const server = await h.server();
    const config = configFor(server);
    const plugins = testHost({
      'chat.message': () => {
        throw new Error('no messages on Fridays');
      },
    });
    const runtime = await h.runtime(config);
    const { error } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: await h.tempDir(), plugins } });
    expect(error).toMatchObject({ code: 'PLUGIN_FAILED', message: 'The plugin hook chat.message failed: no messages on Fridays' });
    expect(server.log).toHaveLength(0);
  });
});
