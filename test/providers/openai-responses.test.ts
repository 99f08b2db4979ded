/**
 * The `openai` provider with a key, over `@ai-sdk/openai`'s Responses API model with OpenCode's
 * options (src/providers/openai-responses.ts): `opencode run` against a scripted `/v1/responses` on 127.0.0.1 — the system
 * prompt as a `developer` input item (with a key; `instructions` only under the ChatGPT login:
 * test/plugins/codex-auth.test.ts), `store: false`, function tools, the answer's reasoning (summary and
 * encrypted content, no item id) and function call read from its events and sent back on the next
 * request with the tool's output, usage counted; a refused request is the provider's own message.
 * The whole bodies against OpenCode's own: openai-responses-body.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { withOpenAIDefaults } from '../../src/providers/openai-responses.ts';
import { asAgentCall } from '../../src/providers/session-options.ts';

const KEY = 'sk-proj-responses-test-7Hq2';

interface Seen {
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

let server: http.Server;
let url: string;
const seen: Seen[] = [];
const script: ((res: http.ServerResponse) => void)[] = [];

function events(list: Record<string, unknown>[]): (res: http.ServerResponse) => void {
  return (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(list.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
  };
}

const completed = (id: string) => ({ type: 'response.completed', response: { id, usage: { input_tokens: 120, output_tokens: 30, input_tokens_details: { cached_tokens: 100 }, output_tokens_details: { reasoning_tokens: 12 } } } });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/responses') return void res.writeHead(404).end('{}');
      seen.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      const next = script.shift();
      if (next) next(res);
      else res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"no scripted answer"}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

let sb: Sandbox;
beforeEach(async () => {
  seen.length = 0;
  script.length = 0;
  sb = await sandbox();
  sb.write('opencode.json', { model: 'openai/gpt-5.4', provider: { openai: { options: { baseURL: url } } } });
});
afterEach(async () => {
  await sb?.remove();
});

describe('openai over the Responses API', () => {
  it('runs a turn with reasoning and a tool call, sending both back with the tool output', async () => {
    sb.write('plan.md', 'step one: ship it\n');
    script.push(
      events([
        { type: 'response.created', response: { id: 'resp_1', model: 'gpt-5.4', created_at: 1 } },
        { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } },
        { type: 'response.reasoning_summary_part.added', item_id: 'rs_1', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } },
        { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 0, summary_index: 0, delta: 'Need the file.' },
        { type: 'response.reasoning_summary_part.done', item_id: 'rs_1', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: 'Need the file.' } },
        { type: 'response.output_item.done', output_index: 0, item: { type: 'reasoning', id: 'rs_1', encrypted_content: 'enc-blob-1', summary: [{ type: 'summary_text', text: 'Need the file.' }] } },
        { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'read', arguments: '', status: 'in_progress' } },
        { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '{"filePath":' },
        { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '"plan.md"}' },
        { type: 'response.output_item.done', output_index: 1, item: { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'read', arguments: '{"filePath":"plan.md"}', status: 'completed' } },
        completed('resp_1'),
      ]),
      events([
        { type: 'response.created', response: { id: 'resp_2', model: 'gpt-5.4', created_at: 2 } },
        { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'msg_2', status: 'in_progress', role: 'assistant', content: [] } },
        { type: 'response.output_text.delta', item_id: 'msg_2', output_index: 0, content_index: 0, delta: 'Step one is ' },
        { type: 'response.output_text.delta', item_id: 'msg_2', output_index: 0, content_index: 0, delta: 'to ship it.' },
        { type: 'response.output_item.done', output_index: 0, item: { type: 'message', id: 'msg_2', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Step one is to ship it.', annotations: [] }] } },
        completed('resp_2'),
      ]),
    );
    const r = await sb.run(['run', '--format', 'json', 'What is step one in plan.md?'], { env: { OPENAI_API_KEY: KEY } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((e) => e.type === 'text').map((e) => e.text).join('')).toContain('Step one is to ship it.');
    expect(lines.find((e) => e.type === 'tool_use')).toMatchObject({ tool: 'read', input: { filePath: 'plan.md' } });
    const done = lines.find((e) => e.type === 'done') as { usage: { inputTokens: number; outputTokens: number } };
    expect(done.usage).toMatchObject({ inputTokens: 240, outputTokens: 60 });

    expect(seen).toHaveLength(2);
    const [first, second] = seen as [Seen, Seen];
    expect(first.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(first.headers.originator).toBe('opencode');
    expect(first.body).toMatchObject({ model: 'gpt-5.4', store: false, stream: true });
    expect(first.body.instructions).toBeUndefined();
    expect((first.body.input as Record<string, unknown>[]).map((i) => i.role)).toEqual(['developer', 'user']);
    expect(first.body.tools).toContainEqual(expect.objectContaining({ type: 'function', name: 'read', strict: false }));
    const input = second.body.input as Record<string, unknown>[];
    expect(input).toContainEqual({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Need the file.' }], encrypted_content: 'enc-blob-1' });
    expect(first.body.include).toEqual(['reasoning.encrypted_content']);
    expect(input).toContainEqual({ type: 'function_call', call_id: 'call_a', name: 'read', arguments: '{"filePath":"plan.md"}' });
    const output = input.find((i) => i.type === 'function_call_output') as { call_id: string; output: string };
    expect(output.call_id).toBe('call_a');
    expect(output.output).toContain('step one: ship it');
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('says what the provider refused, in its own words, without retrying a 400', async () => {
    script.push((res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"Unsupported parameter: \'temperature\'","type":"invalid_request_error","param":"temperature"}}'));
    const r = await sb.run(['run', 'hello'], { env: { OPENAI_API_KEY: KEY } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Unsupported parameter: 'temperature'");
    expect(hasStack(r.stderr)).toBe(false);
    expect(seen).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});

describe("OpenCode's defaults for an openai call", () => {
  const prompt = [
    { role: 'system' as const, content: 'be brief' },
    { role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] },
  ];
  it('a model that is not gpt-5 gets store: false only; the system prompt stays in the messages', () => {
    const out = withOpenAIDefaults({ prompt }, 'gpt-4o');
    expect(out.providerOptions?.openai).toEqual({ store: false });
    expect(out.prompt).toEqual(prompt);
  });
  // An agent's call, as chain-attempt.ts marks it (a gateway client's call is not marked).
  const agent = (call: LanguageModelV4CallOptions): LanguageModelV4CallOptions => asAgentCall(call);
  it("gpt-5 models get OpenCode's reasoning options in an agent's calls; gpt-5.x ones low verbosity; chat, pro and codex models less", () => {
    const reasoning = { store: false, reasoningEffort: 'medium', reasoningSummary: 'auto', include: ['reasoning.encrypted_content'] };
    expect(withOpenAIDefaults(agent({ prompt }), 'gpt-5.4').providerOptions?.openai).toEqual({ ...reasoning, textVerbosity: 'low' });
    expect(withOpenAIDefaults(agent({ prompt }), 'gpt-5').providerOptions?.openai).toEqual(reasoning);
    expect(withOpenAIDefaults(agent({ prompt }), 'gpt-5.1-codex').providerOptions?.openai).toEqual(reasoning);
    expect(withOpenAIDefaults(agent({ prompt }), 'gpt-5-chat-latest').providerOptions?.openai).toEqual({ store: false });
    expect(withOpenAIDefaults(agent({ prompt }), 'gpt-5-pro').providerOptions?.openai).toEqual({ store: false });
    // GitHub Copilot's Responses models, as OpenCode's Copilot package gets them: no include, no verbosity.
    expect(withOpenAIDefaults(agent({ prompt }), 'gpt-5.4', false, true).providerOptions?.openai).toEqual({ store: false, reasoningEffort: 'medium', reasoningSummary: 'auto' });
  });
  it("a call that is no agent's (a gateway client's) gets store: false only, whatever the model", () => {
    expect(withOpenAIDefaults({ prompt }, 'gpt-5.4').providerOptions?.openai).toEqual({ store: false });
    expect(withOpenAIDefaults({ prompt, providerOptions: { openai: { reasoningEffort: 'high' } } }, 'gpt-5').providerOptions?.openai).toEqual({ store: false, reasoningEffort: 'high' });
  });
  it("the call's own options win; instructions given are sent beside the system messages", () => {
    const out = withOpenAIDefaults(agent({ prompt, providerOptions: { openai: { store: true, instructions: 'mine', include: [], reasoningEffort: 'high' } } }), 'gpt-5.4');
    expect(out.providerOptions?.openai).toEqual({ store: true, instructions: 'mine', include: [], reasoningEffort: 'high', reasoningSummary: 'auto', textVerbosity: 'low' });
    expect(out.prompt).toEqual(prompt);
  });
  it('under the ChatGPT login the leading system messages become instructions, over any given', () => {
    const out = withOpenAIDefaults({ prompt, providerOptions: { openai: { instructions: 'mine' } } }, 'gpt-5.4', true);
    expect(out.providerOptions?.openai).toMatchObject({ store: false, instructions: 'be brief' });
    expect(out.prompt.map((m) => m.role)).toEqual(['user']);
  });
  it("no part's item id is sent back unless the call stores items", () => {
    const withIds = [
      ...prompt,
      { role: 'assistant' as const, content: [{ type: 'reasoning' as const, text: '', providerOptions: { openai: { itemId: 'rs_1', reasoningEncryptedContent: 'enc' } } }, { type: 'text' as const, text: 'ok', providerOptions: { openai: { itemId: 'msg_1' } } }] },
    ];
    const stripped = withOpenAIDefaults({ prompt: withIds }, 'gpt-5.4').prompt[2];
    expect(stripped?.content).toEqual([
      { type: 'reasoning', text: '', providerOptions: { openai: { reasoningEncryptedContent: 'enc' } } },
      { type: 'text', text: 'ok', providerOptions: { openai: {} } },
    ]);
    expect(withOpenAIDefaults({ prompt: withIds, providerOptions: { openai: { store: true } } }, 'gpt-5.4').prompt).toEqual(withIds);
  });
});
