/**
 * The whole request bodies Pantheon sends an `openai` model with an API key, against the ones
 * OpenCode 1.18.33 sent for the same turns (test/fixtures/opencode-openai-responses.json, captured
 * from `opencode run` against this file's scripted `/v1/responses`, with the same answers): a simple
 * turn, and a turn whose first answer calls `read` (its reasoning sent back without an item id). The
 * prompts, messages, tool outputs and tool lists differ between the two programs (their agents) and
 * are compared as placeholders; every other field, its value and the fields' order are OpenCode's.
 * The session's id is the prompt cache key.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve } from '../server/serve-helper.ts';

type Body = Record<string, unknown> & { input: Record<string, unknown>[] };
const FIXTURE = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'opencode-openai-responses.json'), 'utf8')) as { simple: Body[]; toolCall: Body[] };

const bodies: Body[] = [];
let server: http.Server;
let url: string;
let mode: 'text' | 'tool' = 'text';

function send(res: http.ServerResponse, events: Record<string, unknown>[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end(events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
}
const completed = (id: string) => ({ type: 'response.completed', response: { id, usage: { input_tokens: 120, output_tokens: 30, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } } } });
// The answers the capture's scripted endpoint gave OpenCode.
const text = (id: string) => [
  { type: 'response.created', response: { id, model: 'gpt-5.4', created_at: 1 } },
  { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: `msg_${id}`, role: 'assistant', content: [] } },
  { type: 'response.output_text.delta', item_id: `msg_${id}`, output_index: 0, content_index: 0, delta: 'done answer' },
  { type: 'response.output_item.done', output_index: 0, item: { type: 'message', id: `msg_${id}`, role: 'assistant', content: [{ type: 'output_text', text: 'done answer', annotations: [] }] } },
  completed(id),
];
const toolCall = (id: string) => [
  { type: 'response.created', response: { id, model: 'gpt-5.4', created_at: 1 } },
  { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } },
  { type: 'response.output_item.done', output_index: 0, item: { type: 'reasoning', id: 'rs_1', encrypted_content: 'enc-blob-1', summary: [] } },
  { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'read', arguments: '', status: 'in_progress' } },
  { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '{"filePath":"plan.md"}' },
  { type: 'response.output_item.done', output_index: 1, item: { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'read', arguments: '{"filePath":"plan.md"}', status: 'completed' } },
  completed(id),
];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/responses') return void res.writeHead(404).end('{}');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
      bodies.push(body);
      const answered = body.input.some((i) => i.type === 'function_call_output');
      send(res, mode === 'tool' && !answered ? toolCall(`resp_${bodies.length}`) : text(`resp_${bodies.length}`));
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
  bodies.length = 0;
  sb = await sandbox();
  sb.write('opencode.json', { model: 'openai/gpt-5.4', provider: { openai: { options: { baseURL: url, apiKey: 'sk-test-capture-123' } } }, cache: { enabled: false } });
  sb.write('plan.md', 'step one\n');
});
afterEach(async () => {
  await sb?.remove();
});

/** A body with what differs between the programs (prompt, message, tool output, tools, session id) as the fixture's placeholders. */
function placeheld(body: Body, sessionID: string): Body {
  const out = structuredClone(body);
  expect(out.prompt_cache_key).toBe(sessionID);
  out.prompt_cache_key = '<session id>';
  for (const item of out.input) {
    if (item.role === 'developer' || item.role === 'system') item.content = '<system prompt>';
    if (item.role === 'user') for (const part of item.content as Record<string, unknown>[]) if (part.type === 'input_text') part.text = '<message>';
    if (item.type === 'function_call_output') item.output = '<tool output>';
  }
  out.tools = '<tools>';
  return out;
}

async function turn(message: string): Promise<Body[]> {
  const r = await sb.run(['run', '--format', 'json', '--auto', message]);
  expect(r.code, r.stderr).toBe(0);
  const sessionID = (JSON.parse(r.stdout.trim().split('\n')[0] ?? '{}') as { sessionID: string }).sessionID;
  return bodies.map((b) => placeheld(b, sessionID));
}

describe("an openai turn with a key: OpenCode's request bodies", () => {
  it('a simple turn', async () => {
    const sent = await turn('hello there');
    // The same fields in the same order, with the same values.
    expect(JSON.stringify(sent, null, 1)).toBe(JSON.stringify(FIXTURE.simple, null, 1));
  });

  it('a turn whose answer calls read, and the call that sends the output back', async () => {
    mode = 'tool';
    try {
      const sent = await turn('read plan.md');
      expect(JSON.stringify(sent, null, 1)).toBe(JSON.stringify(FIXTURE.toolCall, null, 1));
    } finally {
      mode = 'text';
    }
  });
});

describe('a gateway call to an openai model', () => {
  it("gets none of OpenCode's agent options: the client's request, kept out of OpenAI's store", async () => {
    const s = await serve(sb);
    try {
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-5.4', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }] }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('done answer');
    } finally {
      await s.stop();
    }
    expect(bodies).toHaveLength(1);
    const body = bodies[0] as Body;
    // Not an agent's turn: no low verbosity, no reasoning effort or summary it did not ask for, no session to key a prompt cache by.
    expect(body.text).toBeUndefined();
    expect(body.reasoning).toBeUndefined();
    expect(body.prompt_cache_key).toBeUndefined();
    expect(body.store).toBe(false);
    expect(body.input[0]).toEqual({ role: 'developer', content: 'be brief' });
    expect(JSON.stringify(body)).not.toContain('pantheon');
  }, 60_000);
});
