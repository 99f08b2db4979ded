/**
 * A scripted OpenAI-compatible chat-completions (and text-completions and embeddings) server on 127.0.0.1 for tests, benchmarks and
 * the demo. Each upstream model id has a FIFO queue of steps (answers, tool calls, errors,
 * hangs, resets, broken bodies); when the queue is empty the model echoes the last user
 * message. Every request is logged; stats, rate windows and concurrency limits come with it.
 *
 *   const server = await startScriptedServer({ models: { 'm': { rateLimit: { maxRequests: 2, windowMs: 1000 } } } });
 *   server.script('m', { type: 'status', status: 429, retryAfter: 1 }, { type: 'text', text: 'hi' });
 *   // point a client at server.url ('http://127.0.0.1:PORT/v1'), then:
 *   server.stats().maxStartsInWindow('m', 1000); await server.close();
 *
 * Plain erasable TypeScript with Node built-ins only: runs directly on Node 24.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { announceHeaders, geminiQuotaBody } from './openai-server/announce.ts';
import { createLimits } from './openai-server/limits.ts';
import { errorBody } from './openai-server/payloads.ts';
import { respondEmbeddings, readEmbeddingsRequest } from './openai-server/embeddings.ts';
import { checkKey, readBody, readChatRequest, readCompletionsRequest, reply } from './openai-server/request.ts';
import type { Exchange } from './openai-server/respond.ts';
import { respond, send } from './openai-server/respond.ts';
import { computeStats } from './openai-server/stats.ts';
import { createStepQueues, validateStep } from './openai-server/steps.ts';
import type { ModelOptions, RequestLogEntry, ScriptedServer, ScriptedServerOptions, Step } from './openai-server/types.ts';

export type * from './openai-server/types.ts';
export { validateStep } from './openai-server/steps.ts';
export { maxStartsInWindow } from './openai-server/stats.ts';

const ECHO: Step = { type: 'echo' };

interface Waiter {
  predicate: (log: readonly RequestLogEntry[]) => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

function validateOptions(options: ScriptedServerOptions): void {
  if (options.default !== undefined) validateStep(options.default, 'default');
  for (const [id, model] of Object.entries(options.models ?? {})) {
    model.script?.forEach((step, index) => validateStep(step, `models.${id}.script[${index}]`));
    if (model.default !== undefined) validateStep(model.default, `models.${id}.default`);
  }
}

/** Starts the server on 127.0.0.1 (port 0 unless `options.port`) and resolves once it listens. */
export async function startScriptedServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  validateOptions(options);
  const now = options.now ?? Date.now;
  const models: Record<string, ModelOptions> = options.models ?? {};
  const queues = createStepQueues();
  const limits = createLimits({ rateLimit: options.rateLimit, concurrencyLimit: options.concurrencyLimit });
  const log: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const controllers = new Set<AbortController>();
  /** One promise per logged request still open, settled when its entry is final. */
  const open = new Set<Promise<void>>();
  const waiters = new Set<Waiter>();
  let seq = 0;
  let closing = false;
  let closed: Promise<void> | undefined;

  const loadScripts = (): void => {
    queues.clear();
    for (const [id, model] of Object.entries(models)) if (model.script !== undefined) queues.push(id, model.script);
  };
  const knownModels = (): string[] => [...new Set([...Object.keys(models), ...queues.models()])];
  const notify = (): void => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate(log)) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const requiredKey = (model: string): string | undefined => {
    const own = Object.hasOwn(models, model) ? models[model]?.apiKey : undefined;
    if (own === false) return undefined;
    return own ?? options.apiKey;
  };

  /** Finalizes the entry when the response ends or the connection goes, whichever is first. */
  const track = (res: ServerResponse, entry: RequestLogEntry) => {
    const controller = new AbortController();
    const tracked = { signal: controller.signal, cut: false, release: (): void => undefined };
    controllers.add(controller);
    const settled = new Promise<void>((resolve) => {
      res.on('close', () => {
        entry.endedAt = now();
        entry.clientAborted = !res.writableFinished && !tracked.cut && !closing;
        tracked.release();
        controller.abort();
        controllers.delete(controller);
        open.delete(settled);
        resolve();
        options.onRequestEnd?.(entry);
        notify();
      });
    });
    open.add(settled);
    return tracked;
  };

  /**
   * A request (chat or embeddings) logged and checked before its step plays: its key, its body,
   * its model, the limits, the model's headers. Undefined when that answered it already.
   */
  const admitted = (req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry, invalid: string | undefined): ReturnType<typeof track> | undefined => {
    const { model, startedAt } = entry;
    log.push(entry);
    const tracked = track(res, entry);
    notify();
    if (!checkKey(req, res, entry, requiredKey(model))) return undefined;
    if (invalid !== undefined) return void reply(res, entry, 400, errorBody(400, invalid));
    if (options.strictModels === true && !knownModels().includes(model)) {
      return void reply(res, entry, 404, errorBody(404, `The model '${model}' does not exist or you do not have access to it.`));
    }
    const settings = Object.hasOwn(models, model) ? models[model] : undefined;
    const admission = limits.admit(model, { rateLimit: settings?.rateLimit, concurrencyLimit: settings?.concurrencyLimit }, startedAt);
    // Headers the model sends with every answer (a provider's balance, say); read at each request, so a test may change them.
    for (const [name, value] of Object.entries(settings?.headers ?? {})) res.setHeader(name, value);
    // The model's window in its provider's header style, on every answer (set before any writeHead, which merges them).
    const style = settings?.announce;
    if (style !== undefined && settings?.rateLimit !== undefined) {
      const state = limits.window(model, settings.rateLimit, startedAt);
      for (const [name, value] of Object.entries(announceHeaders(style, state, startedAt))) res.setHeader(name, value);
      if (style === 'gemini' && !admission.ok && admission.limit === 'model-window') {
        entry.outcome = 'rate_limited';
        entry.limit = admission.limit;
        return void reply(res, entry, 429, geminiQuotaBody(state.limit, admission.retryAfterMs ?? state.resetMs));
      }
    }
    if (!admission.ok) {
      entry.outcome = 'rate_limited';
      entry.limit = admission.limit;
      const headers: Record<string, string> = {};
      if (admission.retryAfterMs !== undefined) {
        headers['retry-after'] = String(Math.ceil(admission.retryAfterMs / 1000));
        headers['retry-after-ms'] = String(admission.retryAfterMs);
      }
      const what = admission.limit.endsWith('concurrency') ? 'concurrent requests' : 'requests per window';
      return void reply(res, entry, 429, errorBody(429, `Rate limit reached for ${model} (${what}, ${admission.limit}).`), headers);
    }
    tracked.release = admission.release;
    return tracked;
  };

  const chat = async (req: IncomingMessage, res: ServerResponse, textCompletion = false): Promise<void> => {
    const raw = await readBody(req);
    seq += 1;
    const { entry, invalid, includeUsage } = (textCompletion ? readCompletionsRequest : readChatRequest)(req, raw, seq, now());
    const tracked = admitted(req, res, entry, invalid);
    if (!tracked) return;
    const { model, startedAt } = entry;
    const settings = Object.hasOwn(models, model) ? models[model] : undefined;
    const exchange: Exchange = {
      res,
      entry,
      model,
      created: Math.floor(startedAt / 1000),
      stream: entry.stream,
      includeUsage,
      messages: entry.messages,
      maxTokens: entry.max_tokens,
      logprobs: textCompletion ? typeof (entry.body as { logprobs?: unknown }).logprobs === 'number' : (entry.body as { logprobs?: unknown } | undefined)?.logprobs === true,
      ...(textCompletion ? { textCompletion: true } : {}),
      signal: tracked.signal,
      markCut: () => {
        tracked.cut = true;
      },
    };
    await respond(exchange, queues.next(model) ?? settings?.default ?? options.default ?? ECHO);
  };

  const embeddings = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    seq += 1;
    const request = readEmbeddingsRequest(req, raw, seq, now());
    const tracked = admitted(req, res, request.entry, request.invalid);
    if (!tracked) return;
    const { entry } = request;
    const settings = Object.hasOwn(models, entry.model) ? models[entry.model] : undefined;
    const exchange: Exchange = {
      res,
      entry,
      model: entry.model,
      created: Math.floor(entry.startedAt / 1000),
      stream: false,
      includeUsage: false,
      messages: [],
      maxTokens: undefined,
      logprobs: false,
      signal: tracked.signal,
      markCut: () => {
        tracked.cut = true;
      },
    };
    await respondEmbeddings(exchange, request, queues.next(entry.model) ?? settings?.default ?? options.default ?? ECHO);
  };

  const listModels = (req: IncomingMessage, res: ServerResponse): void => {
    if (!checkKey(req, res, undefined, options.apiKey)) return;
    const data = knownModels().map((id) => ({ id, object: 'model', created: 0, owned_by: 'scripted' }));
    send(res, 200, { object: 'list', data });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.on('error', () => {
      res.destroy();
    });
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    if (path === '/v1/chat/completions' && req.method === 'POST') return chat(req, res);
    if (path === '/v1/completions' && req.method === 'POST') return chat(req, res, true);
    if (path === '/v1/embeddings' && req.method === 'POST') return embeddings(req, res);
    // Only chat and text completions and embeddings are logged; the model list and unknown routes are just answered.
    if (path === '/v1/models' && req.method === 'GET') return listModels(req, res);
    const status = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models'].includes(path) ? 405 : 404;
    send(res, status, { error: { message: `Unknown request: ${req.method ?? ''} ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        send(res, 500, errorBody(500, `Scripted server failure: ${String(error)}`));
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  loadScripts();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const waitFor = (predicate: Waiter['predicate']): Promise<void> => {
    if (predicate(log)) return Promise.resolve();
    if (closing) return Promise.reject(new Error('The scripted server is closed.'));
    return new Promise((resolve, reject) => {
      waiters.add({ predicate, resolve, reject });
    });
  };

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    log,
    script(model, ...steps) {
      steps.forEach((step, index) => validateStep(step, `script('${model}')[${index}]`));
      queues.push(model, steps);
    },
    pending: (model) => queues.pending(model),
    reset() {
      loadScripts();
      log.length = 0;
      seq = 0;
      limits.reset();
      notify();
    },
    stats: () => computeStats(log, knownModels(), (model) => limits.lane(model)),
    waitFor,
    async waitForRequests(count, model) {
      const matching = (entries: readonly RequestLogEntry[]): RequestLogEntry[] =>
        entries.filter((entry) => model === undefined || entry.model === model);
      await waitFor((entries) => matching(entries).length >= count);
      return matching(log);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        for (const controller of controllers) controller.abort();
        for (const socket of sockets) socket.destroy();
      }).then(async () => {
        await Promise.all(open);
        notify();
        for (const waiter of waiters) waiter.reject(new Error('The scripted server closed before the awaited requests arrived.'));
        waiters.clear();
      });
      return closed;
    },
  };
}
