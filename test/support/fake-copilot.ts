/**
 * A scripted GitHub Copilot API on 127.0.0.1 (what `provider.github-copilot.options.baseURL` points
 * a test at): `GET /models` answers Copilot's list (its shape: `capabilities.limits`,
 * `capabilities.supports`, `supported_endpoints`, `model_picker_enabled`, `policy`), and each model
 * is served over the endpoints its entry lists only — `POST /chat/completions` (chat completions,
 * JSON or SSE) and `POST /responses` (OpenAI's Responses API, SSE) — the other answered with
 * Copilot's own 400 (`unsupported_api_for_model`), an unknown model with `model_not_supported`.
 * Requests without the token are 401. Replies are scripted per model (text, reasoning then text,
 * a tool call, an HTTP status); with none left a model answers "ok".
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CopilotModelSpec {
  id: string;
  endpoints: string[];
  name?: string;
  picker?: boolean;
  context?: number;
  output?: number;
  vision?: boolean;
  efforts?: string[];
  disabled?: boolean;
}

export type CopilotReply = { text: string; reasoning?: string } | { tool: string; args: Record<string, unknown> } | { status: number; retryAfter?: number; message?: string };

export interface CopilotRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  status: number;
}

export interface FakeCopilot {
  /** The base URL to configure (`http://127.0.0.1:PORT`). */
  url: string;
  requests: CopilotRequest[];
  /** How many times `/models` was asked. */
  listed(): number;
  reply(model: string, ...replies: CopilotReply[]): void;
  /** Makes `/models` answer this status (0: answer the list again). */
  failList(status: number): void;
  /** What `/models` lists from now on. */
  setModels(models: CopilotModelSpec[]): void;
  /** Holds `/models` requests unanswered (Copilot slow) until the returned function is called: they are answered then, as the list is at that time. */
  holdList(): () => void;
  /** `/models` requests held unanswered now. */
  heldLists(): number;
  reset(): void;
  close(): Promise<void>;
}

export function copilotEntry(spec: CopilotModelSpec): Record<string, unknown> {
  return {
    id: spec.id,
    name: spec.name ?? spec.id.toUpperCase(),
    version: `${spec.id}-2026-01-01`,
    object: 'model',
    vendor: 'OpenAI',
    preview: false,
    model_picker_enabled: spec.picker ?? true,
    supported_endpoints: spec.endpoints,
    ...(spec.disabled ? { policy: { state: 'disabled', terms: 'Enable access' } } : { policy: { state: 'enabled', terms: '' } }),
    capabilities: {
      family: spec.id,
      type: 'chat',
      tokenizer: 'o200k_base',
      object: 'model_capabilities',
      limits: {
        max_context_window_tokens: spec.context ?? 128000,
        max_prompt_tokens: (spec.context ?? 128000) - (spec.output ?? 16000),
        max_output_tokens: spec.output ?? 16000,
        ...(spec.vision ? { vision: { max_prompt_image_size: 3145728, max_prompt_images: 1, supported_media_types: ['image/png', 'image/jpeg'] } } : {}),
      },
      supports: { streaming: true, tool_calls: true, parallel_tool_calls: true, ...(spec.vision ? { vision: true } : {}), ...(spec.efforts ? { reasoning_effort: spec.efforts } : {}) },
    },
  };
}

function chatSse(model: string, reply: CopilotReply, n: number): string {
  const base = { id: `chatcmpl-${n}`, object: 'chat.completion.chunk', created: 1, model };
  const chunks: Record<string, unknown>[] = [];
  if ('text' in reply) {
    for (const piece of reply.text.match(/.{1,8}/gs) ?? []) chunks.push({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: piece } }] });
    chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  } else if ('tool' in reply) {
    chunks.push({ ...base, choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: `call_${n}`, type: 'function', function: { name: reply.tool, arguments: JSON.stringify(reply.args) } }] } }] });
    chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
  }
  chunks.push({ ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } });
  return `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`;
}

function responsesSse(model: string, reply: CopilotReply, n: number): string {
  const events: Record<string, unknown>[] = [{ type: 'response.created', response: { id: `resp_${n}`, model, created_at: 1 } }];
  let index = 0;
  if ('text' in reply) {
    if (reply.reasoning) {
      const id = `rs_${n}`;
      events.push({ type: 'response.output_item.added', output_index: index, item: { type: 'reasoning', id, encrypted_content: 'enc', summary: [] } });
      events.push({ type: 'response.reasoning_summary_part.added', item_id: id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } });
      events.push({ type: 'response.reasoning_summary_text.delta', item_id: id, output_index: index, summary_index: 0, delta: reply.reasoning });
      events.push({ type: 'response.reasoning_summary_part.done', item_id: id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: reply.reasoning } });
      events.push({ type: 'response.output_item.done', output_index: index, item: { type: 'reasoning', id, encrypted_content: 'enc', summary: [{ type: 'summary_text', text: reply.reasoning }] } });
      index += 1;
    }
    const id = `msg_${n}`;
    events.push({ type: 'response.output_item.added', output_index: index, item: { type: 'message', id, status: 'in_progress', role: 'assistant', content: [] } });
    for (const piece of reply.text.match(/.{1,8}/gs) ?? []) events.push({ type: 'response.output_text.delta', item_id: id, output_index: index, content_index: 0, delta: piece });
    events.push({ type: 'response.output_item.done', output_index: index, item: { type: 'message', id, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: reply.text, annotations: [] }] } });
  } else if ('tool' in reply) {
    const id = `fc_${n}`;
    const args = JSON.stringify(reply.args);
    events.push({ type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', id, call_id: `call_${n}`, name: reply.tool, arguments: '', status: 'in_progress' } });
    events.push({ type: 'response.function_call_arguments.delta', item_id: id, output_index: 0, delta: args });
    events.push({ type: 'response.output_item.done', output_index: 0, item: { type: 'function_call', id, call_id: `call_${n}`, name: reply.tool, arguments: args, status: 'completed' } });
  }
  events.push({ type: 'response.completed', response: { id: `resp_${n}`, usage: { input_tokens: 21, output_tokens: 9, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 4 } } } });
  return events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

export async function startFakeCopilot(options: { token: string; models: CopilotModelSpec[] }): Promise<FakeCopilot> {
  let models = options.models;
  let holding = false;
  const held: (() => void)[] = [];
  const requests: CopilotRequest[] = [];
  const queues = new Map<string, CopilotReply[]>();
  let listed = 0;
  let listStatus = 0;
  let n = 0;
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      let body: Record<string, unknown>;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        body = {};
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const entry: CopilotRequest = { path, headers: req.headers, body, status: 200 };
      requests.push(entry);
      const answer = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        entry.status = status;
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      };
      if (req.headers.authorization !== `Bearer ${options.token}`) return answer(401, { error: { message: 'Bad credentials', code: 'unauthorized' } });
      if (req.method === 'GET' && path === '/models') {
        listed += 1;
        const list = () => (listStatus ? answer(listStatus, { error: { message: 'unavailable' } }) : answer(200, { object: 'list', data: models.map(copilotEntry) }));
        if (holding) return void held.push(list);
        return list();
      }
      const endpoint = path === '/chat/completions' ? '/chat/completions' : path === '/responses' ? '/responses' : undefined;
      if (req.method !== 'POST' || !endpoint) return answer(404, { error: { message: `no route ${req.method} ${path}` } });
      const model = String(body.model);
      const spec = models.find((m) => m.id === model);
      if (!spec) return answer(400, { error: { message: 'The requested model is not supported.', code: 'model_not_supported', param: 'model', type: 'invalid_request_error' } });
      if (!spec.endpoints.includes(endpoint)) return answer(400, { error: { message: `model "${model}" is not accessible via the ${endpoint} endpoint`, code: 'unsupported_api_for_model' } });
      const reply = queues.get(model)?.shift() ?? { text: 'ok' };
      if ('status' in reply) return answer(reply.status, { error: { message: reply.message ?? `scripted ${reply.status}` } }, reply.retryAfter === undefined ? {} : { 'retry-after': String(reply.retryAfter) });
      n += 1;
      entry.status = 200;
      if (endpoint === '/responses') {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).end(responsesSse(model, reply, n));
      } else if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).end(chatSse(model, reply, n));
      } else {
        const message = 'text' in reply ? { role: 'assistant', content: reply.text } : { role: 'assistant', content: null, tool_calls: [{ id: `call_${n}`, type: 'function', function: { name: reply.tool, arguments: JSON.stringify(reply.args) } }] };
        answer(200, { id: `chatcmpl-${n}`, object: 'chat.completion', created: 1, model, choices: [{ index: 0, message, finish_reason: 'text' in reply ? 'stop' : 'tool_calls' }], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    listed: () => listed,
    reply(model, ...replies) {
      queues.set(model, [...(queues.get(model) ?? []), ...replies]);
    },
    failList(status) {
      listStatus = status;
    },
    setModels(next) {
      models = next;
    },
    holdList() {
      holding = true;
      return () => {
        holding = false;
        for (const answerHeld of held.splice(0)) answerHeld();
      };
    },
    heldLists: () => held.length,
    reset() {
      requests.length = 0;
      queues.clear();
      listed = 0;
      listStatus = 0;
      models = options.models;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
