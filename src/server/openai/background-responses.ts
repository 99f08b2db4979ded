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
 * and are kept by the running server until a minute after the end, so `GET …?stream=true
 * &starting_after=N` on that server resumes after event N.
 */
import os from 'node:os';
import { randomBytes } from '../../random-bytes.ts';
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

const HOST = os.hostname();
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a run's runner is gone: a dead process of this machine, or silent past the lease. */
function gone(run: { runner: string; beat: number }, now: number): boolean {
  const [host, pid, token] = run.runner.split('\n');
  if (run.runner === RUNNER) return false;
  if (host === HOST && token !== RUNNER.split('\n')[2] && !alive(Number(pid))) return true;
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
  await store.save({ ...kept, response: queued, output: [] }, { run: { runner: RUNNER, beat: Date.now() } });
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
        void store.save({ ...kept, response: at('in_progress'), output: [] }, { ifRunning: true, run: { runner: RUNNER, beat: Date.now() } }).catch(() => false);
      });
      if ('stream' in answer) failed = await follow(answer.stream, local);
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

/** Reads the run's SSE bytes into its events (one per frame, by its sequence number) and wakes its followers; the response of its `response.failed`, if it failed. */
async function follow(stream: ReadableStream<Uint8Array>, run: LocalRun): Promise<Json | undefined> {
  let failed: Json | undefined;
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const frame = text.slice(0, end + 2);
      text = text.slice(end + 2);
      const seq = /"sequence_number":(\d+)/.exec(frame);
      run.events.push({ seq: seq ? Number(seq[1]) : run.events.length, frame: new TextEncoder().encode(frame) });
      if (frame.startsWith('event: response.failed\n')) failed = ((JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as Json).response as Json | undefined) ?? failed;
    }
    for (const wake of run.followers) wake();
  }
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
        await new Promise<void>((resolve) => {
          wake = resolve;
          run.followers.add(resolve);
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
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
 * `GET /v1/responses/{id}?stream=true`: a background response's events after `starting_after`, from
 * the server that runs it (or ran it in the last minute); a 400 for a response that is not a
 * background one, or whose events this server does not hold.
 */
export async function resumeStream(req: RouteRequest, store: ResponseStore, id: string, owner: string): Promise<RouteAnswer> {
  const response = await currentResponse(store, id, owner);
  if (response.background !== true) throw new HttpError(400, 'BAD_REQUEST', 'stream: only a background response can be streamed again.', { hint: 'Leave `stream` out to read the stored response.', details: { param: 'stream' } });
  const run = runsOf(req.state).local.get(id);
  if (!run || (run.events.length === 0 && run.done)) throw new HttpError(400, 'BAD_REQUEST', `stream: the events of response '${shown(id)}' are not held by this server (only the server that runs a response with background and stream: true holds them, until a minute after its end).`, { hint: 'Read the response without `stream` (it is the same on every server).', details: { param: 'stream' } });
  const text = req.query('starting_after');
  const after = text === undefined ? -1 : Number(text);
  if (!Number.isInteger(after) || after < -1) throw new HttpError(400, 'BAD_REQUEST', 'starting_after: expected a sequence number (a whole number, 0 or more).', { hint: 'Give the sequence_number of the last event you have.', details: { param: 'starting_after' } });
  return eventStream(run, after, req.signal);
}

/** Waits for this server's background runs (they end within the drain grace: the server stops their calls). */
export async function drainBackground(state: ServerState): Promise<void> {
  await Promise.allSettled([...runsOf(state).tasks]);
}
