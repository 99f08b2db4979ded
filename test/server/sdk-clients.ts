/**
 * The calls the tests make, through `@opencode-ai/sdk`'s v1 client and its v2 client: the same
 * flows, each in its own client's calling convention. Every call returns `{data, error, status}`.
 */
import { createOpencodeClient as createV1 } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';

export interface Result {
  data: unknown;
  error: unknown;
  status: number;
}

export interface Calls {
  name: string;
  health(): Promise<Result>;
  create(title?: string): Promise<Result>;
  list(): Promise<Result>;
  get(id: string): Promise<Result>;
  prompt(id: string, text: string, extra?: Record<string, unknown>): Promise<Result>;
  /** OpenCode's `session.command`: a custom command of the config with its arguments. */
  command(id: string, command: string, args: string): Promise<Result>;
  /** OpenCode's `session.fork`: a copy, whole or up to a user message. */
  fork(id: string, messageID?: string): Promise<Result>;
  promptAsync(id: string, text: string, extra?: Record<string, unknown>): Promise<Result>;
  messages(id: string): Promise<Result>;
  message(id: string, messageID: string): Promise<Result>;
  status(): Promise<Result>;
  abort(id: string): Promise<Result>;
  remove(id: string): Promise<Result>;
  providers(): Promise<Result>;
  agents(): Promise<Result>;
  config(): Promise<Result>;
  /** `/event` for the client's directory, as the SDK streams it. */
  events(signal: AbortSignal): Promise<AsyncIterable<unknown>>;
  /** `/global/event`. */
  globalEvents(signal: AbortSignal): Promise<AsyncIterable<unknown>>;
}

async function settle(p: Promise<{ data?: unknown; error?: unknown; response?: Response }>): Promise<Result> {
  const r = await p;
  return { data: r.data, error: r.error, status: r.response?.status ?? 0 };
}

const parts = (text: string) => [{ type: 'text' as const, text }];
const sse = { sseMaxRetryAttempts: 0 };

export function v1Calls(baseUrl: string, directory: string, headers: Record<string, string> = {}): Calls {
  const c = createV1({ baseUrl, directory, headers });
  return {
    name: 'v1',
    health: () => settle(fetch(`${baseUrl}/global/health`, { headers }).then(async (response) => ({ data: await response.json(), response }))),
    create: (title) => settle(c.session.create({ body: title ? { title } : {} })),
    list: () => settle(c.session.list()),
    get: (id) => settle(c.session.get({ path: { id } })),
    prompt: (id, text, extra = {}) => settle(c.session.prompt({ path: { id }, body: { parts: parts(text), ...extra } })),
    command: (id, command, args) => settle(c.session.command({ path: { id }, body: { command, arguments: args } })),
    fork: (id, messageID) => settle(c.session.fork({ path: { id }, body: messageID ? { messageID } : {} })),
    promptAsync: (id, text, extra = {}) => settle(c.session.promptAsync({ path: { id }, body: { parts: parts(text), ...extra } })),
    messages: (id) => settle(c.session.messages({ path: { id } })),
    message: (id, messageID) => settle(c.session.message({ path: { id, messageID } })),
    status: () => settle(c.session.status()),
    abort: (id) => settle(c.session.abort({ path: { id } })),
    remove: (id) => settle(c.session.delete({ path: { id } })),
    providers: () => settle(c.config.providers()),
    agents: () => settle(c.app.agents()),
    config: () => settle(c.config.get()),
    events: async (signal) => (await c.event.subscribe({ signal, ...sse })).stream,
    globalEvents: async (signal) => (await c.global.event({ signal, ...sse })).stream,
  };
}

export function v2Calls(baseUrl: string, directory: string, headers: Record<string, string> = {}): Calls {
  const c = createV2({ baseUrl, directory, headers });
  return {
    name: 'v2',
    health: () => settle(c.global.health()),
    create: (title) => settle(c.session.create(title ? { title } : {})),
    list: () => settle(c.session.list()),
    get: (id) => settle(c.session.get({ sessionID: id })),
    prompt: (id, text, extra = {}) => settle(c.session.prompt({ sessionID: id, parts: parts(text), ...extra })),
    command: (id, command, args) => settle(c.session.command({ sessionID: id, command, arguments: args })),
    fork: (id, messageID) => settle(c.session.fork({ sessionID: id, ...(messageID ? { messageID } : {}) })),
    promptAsync: (id, text, extra = {}) => settle(c.session.promptAsync({ sessionID: id, parts: parts(text), ...extra })),
    messages: (id) => settle(c.session.messages({ sessionID: id })),
    message: (id, messageID) => settle(c.session.message({ sessionID: id, messageID })),
    status: () => settle(c.session.status()),
    abort: (id) => settle(c.session.abort({ sessionID: id })),
    remove: (id) => settle(c.session.delete({ sessionID: id })),
    providers: () => settle(c.config.providers()),
    agents: () => settle(c.app.agents()),
    config: () => settle(c.config.get()),
    events: async (signal) => (await c.event.subscribe({}, { signal, ...sse })).stream,
    globalEvents: async (signal) => (await c.global.event({ signal, ...sse })).stream,
  };
}
