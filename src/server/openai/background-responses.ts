/**
 * Background responses (`background: true`, which needs `store`): the response is kept as `queued`
 * and answered at once; the model call then runs through the scheduler like any other, detached
 * from the request (`in_progress` once the model answers, then `completed`, `incomplete`, `failed`
 * or `cancelled`), and the client polls `GET /v1/responses/{id}` on any server of the same state.
 *
 * The server that runs one says so every second in the store (`beat`) and learns there whether it
 * was cancelled on another server; a response whose runner is gone (its process dead on this
 * machine, or silent for LEASE_MS) is marked failed by the first server that reads it, so none is
 * left `in_progress` for ever after a crash. A server that stops lets its runs finish within the
 * drain grace, then marks them failed. With `stream: true`, the events go to the client as usual
 * and are kept with the response (and in the running server's memory), so `GET …?stream=true
 * &starting_after=N` resumes after event N on any server of the same state.
 */
import fs from 'node:fs';
import os from 'node:os';
import { randomBytes } from '../../random-bytes.ts';
import { processAlive } from '../../pid-lock.ts';
import { HttpError } from '../http-error.ts';
import type { RouteAnswer, RouteRequest } from '../route.ts';
import type { ServerState } from '../state.ts';
import { isRunning, shown, type ResponseStore, type StoredResponse } from './response-store.ts';
import { responseJsonOf, type ResponseMeta } from './responses-response.ts';

type Json = Record<string, unknown>;

/** How often a running response says it still runs (and reads whether it was cancelled). */
export const BEAT_MS = 1000;
/** A running response whose runner has been silent this long is taken as failed. */
export const LEASE_MS = 20_000;
/** How long a finished run's events stay for a resumed stream. */
const EVENTS_KEPT_MS = 60_000;

/**
 * This machine as runners name it: its host name and, on Linux, its pid namespace (containers
 * sharing the host's network, and so its name, each number their processes apart: a pid is
 * checked only where it means the same process).
 */
const HOST = `${os.hostname()}${pidNamespace()}`;

function pidNamespace(): string {
  try {
    return `#${fs.readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return '';
  }
}

/** This process, as a runner: its machine, its pid, and a random part (a pid is reused). */
const RUNNER = `${HOST}\n${process.pid}\n${randomBytes(6).toString('hex')}`;

/** A run of this process: what stops it, and its SSE events so far (streamed runs) for those who follow it. */
interface LocalRun {
  controller: AbortController;
  events: { seq: number; frame: Uint8Array }[];
  followers: Set<() => void>;
  done: boolean;
}

const runs = new WeakMap<ServerState, { local: Map<string, LocalRun>; tasks: Set<Promise<void>> }>();
function runsOf(state: ServerState): { local: Map<string, LocalRun>; tasks: Set<Promise<void>> } {
  let found = runs.get(state);
  if (!found) runs.set(state, (found = { local: new Map(), tasks: new Set() }));
  return found;
}

/** Whether a run's runner is gone: a dead process of this machine, or silent past the lease. */
function gone(run: { runner: string; beat: number }, now: number): boolean {
  const [host, pid, token] = run.runner.split('\n');
  if (run.runner === RUNNER) return false;
  if (host === HOST && token !== RUNNER.split('\n')[2] && !processAlive(Number(pid))) return true;
  return run.beat < now - LEASE_MS;
}

const failure = (code: string, message: string): Json => ({ code, message });

/** The response as it stands, a run whose server is gone marked failed first. */
export async function currentResponse(store: ResponseStore, id: string, owner: string): Promise<Json> {
  const { response, run } = await store.read(id, owner);
  if (!isRunning(response.status) || !run || !gone(run, Date.now())) return response;
  const failed = { ...response, status: 'failed', error: failure('server_error', 'The server running this background response stopped before it finished; it was not run again. Create the response again.') };
  if (await store.settle(id, failed)) return failed;
  return (await store.read(id, owner)).response;
}

/** Cancels a queued or running background response (a 400 for another), on whichever server runs it. */
export async function cancelResponse(state: ServerState, store: ResponseStore, id: string, owner: string): Promise<Json> {
  const response = await currentResponse(store, id, owner);
  if (response.background !== true) throw new HttpError(400, 'BAD_REQUEST', `Response '${shown(id)}' was not made with background: true; only a background response can be cancelled.`, { hint: 'A response answered as it runs stops when its request is closed.', details: { param: 'response_id' } });
  if (response.status === 'cancelled') return response;
  if (!isRunning(response.status)) throw new HttpError(400, 'BAD_REQUEST', `Response '${shown(id)}' is already ${String(response.status)}; only a queued or in_progress response can be cancelled.`, { hint: 'Read it with GET /v1/responses/{id}.', details: { param: 'response_id' } });
  const cancelled = { ...response, status: 'cancelled' };
  if (!(await store.settle(id, cancelled, { cancel: true }))) return (await store.read(id, owner)).response;
  runsOf(state).local.get(id)?.controller.abort(new HttpError(499, 'CANCELLED', 'The background response was cancelled.'));
  return cancelled;
}

export interface BackgroundCall {
  store: ResponseStore;
  meta: ResponseMeta;
  /** The response as kept: owner, input items, the response it continues. */
  kept: Omit<StoredResponse, 'response' | 'output'>;
  stream: boolean;
  /** Runs the model call for the detached request (the route's modelCall), `keep` saving its end; `onAnswer` when the model starts answering. */
  call: (detached: RouteRequest, onAnswer: () => void) => Promise<RouteAnswer>;
  /** A failure as the response's `error` (OpenAI's code and message). */
  errorOf: (error: unknown) => { code: string; message: string };
}

/**
 * Keeps the response as `queued` and starts its run; answers it at once (JSON), or with its events
 * as they come (`stream`), the run going on if the client goes away.
 */
export async function startBackground(req: RouteRequest, background: BackgroundCall): Promise<RouteAnswer> {
  const { store, meta, kept } = background;
  const state = req.state;
  const id = meta.id;
  const at = (status: string, fields: Json = {}): Json => ({ ...responseJsonOf(meta, { status, incomplete_details: null, output: [], usage: null }), ...fields });
  const queued = at('queued');
  await store.save({ ...kept, response: queued, output: [] }, { run: { runner: RUNNER, beat: Date.now(), streamed: background.stream } });
  const local: LocalRun = { controller: new AbortController(), events: [], followers: new Set(), done: false };
  const { local: locals, tasks } = runsOf(state);
  locals.set(id, local);
  meta.keep = (response, output) => store.save({ ...kept, response, output }, { ifRunning: true }).catch((error: unknown) => {
    state.log(`warning: background response ${id} could not be stored (${error instanceof Error ? error.message : String(error)}).`);
    return false;
  });
  const detached = detachedRequest(req, local.controller);
  const beat = setInterval(() => {
    store.beat(id, Date.now()).then(
      (cancelled) => {
        if (cancelled) local.controller.abort(new HttpError(499, 'CANCELLED', 'The background response was cancelled.'));
      },
      () => undefined,
    );
  }, BEAT_MS);
  beat.unref();
  const task = (async () => {
    let error: unknown;
    let failed: Json | undefined;
    try {
      const answer = await background.call(detached, () => {
        void store.save({ ...kept, response: at('in_progress'), output: [] }, { ifRunning: true, run: { runner: RUNNER, beat: Date.now(), streamed: background.stream } }).catch(() => false);
      });
      if ('stream' in answer) failed = await follow(answer.stream, local, (frames) => store.addEvents(id, frames));
      await answer.after?.();
    } catch (thrown) {
      error = thrown;
    } finally {
      clearInterval(beat);
    }
    // Whatever ended it without a kept end (a provider's failure, a cancel, the server stopping): said in the store.
    const { signal } = local.controller;
    const reason: unknown = signal.aborted ? signal.reason : undefined;
    const cancelled = reason instanceof HttpError && reason.code === 'CANCELLED';
    const final = cancelled ? at('cancelled') : (failed ?? at('failed', { error: background.errorOf(error ?? reason ?? new Error('The response ended without an answer.')) }));
    await store.settle(id, final).catch((thrown: unknown) => state.log(`warning: background response ${id}'s end could not be stored (${thrown instanceof Error ? thrown.message : String(thrown)}).`));
    local.done = true;
    for (const wake of local.followers) wake();
    setTimeout(() => locals.delete(id), EVENTS_KEPT_MS).unref();
  })();
  tasks.add(task);
  void task.finally(() => tasks.delete(task));
  if (!background.stream) return { status: 200, headers: { 'content-type': 'application/json' }, json: queued };
  return eventStream(local, -1, req.signal);
}

/** A request of the run's own: the client's headers and key, its own signal (the client going away does not stop it). */
function detachedRequest(req: RouteRequest, controller: AbortController): RouteRequest {
  return {
    state: req.state,
    requestId: req.requestId,
    header: (name) => req.header(name),
    query: (name) => req.query(name),
    signal: controller.signal,
    client: req.client,
    setHeader: () => undefined,
    stop: (reason) => controller.abort(reason),
  };
}

/**
 * Reads the run's SSE bytes into its events (one per frame, by its sequence number), wakes its
 * followers and keeps the frames in the store (`keep`, in order; for the other servers); the
 * response of its `response.failed`, if it failed.
 */
async function follow(stream: ReadableStream<Uint8Array>, run: LocalRun, keep: (frames: string[]) => Promise<void>): Promise<Json | undefined> {
  let failed: Json | undefined;
  let kept = Promise.resolve();
  let lost = false;
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    let end;
    const frames: string[] = [];
    while ((end = text.indexOf('\n\n')) >= 0) {
      const frame = text.slice(0, end + 2);
      frames.push(frame);
      text = text.slice(end + 2);
      const seq = /"sequence_number":(\d+)/.exec(frame);
      run.events.push({ seq: seq ? Number(seq[1]) : run.events.length, frame: new TextEncoder().encode(frame) });
      if (frame.startsWith('event: response.failed\n')) failed = ((JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as Json).response as Json | undefined) ?? failed;
    }
    for (const wake of run.followers) wake();
    if (frames.length > 0 && !lost) {
      kept = kept.then(() =>
        keep(frames).catch(() => {
          // Redis away: the stream goes on here; another server resuming it will see the response's end.
          lost = true;
        }),
      );
    }
  }
  await kept;
  return failed;
}

/** The run's events after `after`, then the rest as they come, until the run ends or the client goes. */
function eventStream(run: LocalRun, after: number, signal: AbortSignal): RouteAnswer {
  let index = run.events.findIndex((e) => e.seq > after);
  if (index < 0) index = run.events.length;
  let wake: (() => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (index < run.events.length) {
          controller.enqueue((run.events[index++] as { frame: Uint8Array }).frame);
          return;
        }
        if (run.done || signal.aborted) {
          controller.close();
          return;
        }
        const gone = { resolve: (): void => undefined };
        await new Promise<void>((resolve) => {
          wake = resolve;
          gone.resolve = resolve;
          run.followers.add(resolve);
          signal.addEventListener('abort', gone.resolve, { once: true });
        });
        // Each wait's listener let go of: a long stream does not pile them on the request.
        signal.removeEventListener('abort', gone.resolve);
        if (wake) run.followers.delete(wake);
      }
    },
    cancel() {
      if (wake) run.followers.delete(wake);
    },
  });
  return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' }, stream };
}

/**
 * `GET /v1/responses/{id}?stream=true`: a streamed background response's events after
 * `starting_after`: from memory on the server that runs it, else from the store (any server of the
 * same state), following it until its last event; a 400 for a response not made with `background`
 * and `stream: true`.
 */
export async function resumeStream(req: RouteRequest, store: ResponseStore, id: string, owner: string): Promise<RouteAnswer> {
  const text = req.query('starting_after');
  const after = text === undefined ? -1 : /^\s*(?:-1|\d{1,15})\s*$/.test(text) ? Number(text) : Number.NaN;
  // At most 15 digits: a number the stores can index (Redis refused a larger one, a 503 blaming it).
  if (!Number.isSafeInteger(after) || after < -1) throw new HttpError(400, 'BAD_REQUEST', 'starting_after: expected a sequence number (a whole number, 0 or more).', { hint: 'Give the sequence_number of the last event you have.', details: { param: 'starting_after' } });
  const run = runsOf(req.state).local.get(id);
  const page = await store.eventsAfter(id, owner, after);
  if (page.response.background !== true || !page.streamed) throw new HttpError(400, 'BAD_REQUEST', `stream: response '${shown(id)}' was not made with background and stream: true, so it has no events to stream again.`, { hint: 'Leave `stream` out to read the stored response.', details: { param: 'stream' } });
  if (run && run.events.length > 0) return eventStream(run, after, req.signal);
  return storedEventStream(store, id, owner, after, page.frames, req.signal);
}

/** How often a stream read from the store looks for more events. */
const POLL_MS = 200;
/** Polls with nothing new, once the response has ended, before its end is told from the response itself (its last events were lost). */
const IDLE_POLLS = 5;
const TERMINAL = /^event: response\.(completed|failed|incomplete)\n/;

/** The events kept in the store after `after` (the first of them `first`), then those that come, until the last one. */
function storedEventStream(store: ResponseStore, id: string, owner: string, after: number, first: string[], signal: AbortSignal): RouteAnswer {
  const encoder = new TextEncoder();
  let last = after;
  let pending = first;
  let idle = 0;
  let ended = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (pending.length > 0) {
          for (const frame of pending) {
            controller.enqueue(encoder.encode(frame));
            last++;
            if (TERMINAL.test(frame)) ended = true;
          }
          pending = [];
          idle = 0;
          return;
        }
        if (ended || signal.aborted) return controller.close();
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            // The poll's listener let go of: a stream followed for minutes does not pile them on the request.
            signal.removeEventListener('abort', stop);
            resolve();
          }, POLL_MS);
          signal.addEventListener('abort', stop, { once: true });
        });
        if (signal.aborted) return controller.close();
        try {
          pending = (await store.eventsAfter(id, owner, last)).frames;
          if (pending.length > 0) continue;
          const response = await currentResponse(store, id, owner);
          if (isRunning(response.status) || ++idle < IDLE_POLLS) continue;
          // Ended, and its last events never came (its server died, or Redis was away): told from the response.
          const type = response.status === 'completed' ? 'response.completed' : response.status === 'incomplete' ? 'response.incomplete' : 'response.failed';
          pending = [`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: last + 1, response })}\n\n`];
        } catch {
          return controller.close();
        }
      }
    },
  });
  return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' }, stream };
}

/** Waits for this server's background runs (they end within the drain grace: the server stops their calls). */
export async function drainBackground(state: ServerState): Promise<void> {
  await Promise.allSettled([...runsOf(state).tasks]);
}
