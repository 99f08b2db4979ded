/**
 * The host's events as OpenCode's event stream: `session.*`, `message.*` (from a LiveTurn per
 * turn), and Pantheon's own events as `pantheon.<type>` (retry, fallback, rate_limited, cache_hit,
 * step_finish with usage and cost, done, …). Each event is serialized once and written to every
 * subscriber whose project matches (`/event`) or to every subscriber (`/global/event`, wrapped as
 * `{directory, payload}`). Events of a burst go out together, one write per subscriber at most every
 * few ms (more apart the more subscribers), not one per event (each write is a system call: 50
 * subscribers made thousands per turn).
 * A subscriber that stops reading is dropped once too much is queued for it.
 * OpenCode's v2 stream (`/api/event`) gets every event too, as v2 writes them: `{id, type,
 * location: {directory}, data}` (`data` in place of `properties`, no location for the server's own).
 */
import path from 'node:path';
import type { EventHub, HostEvent } from '../../core/event-hub.ts';
import { appliedTurns, sessionDiff } from '../../session/session-diff.ts';
import type { SessionRecord } from '../../session/store.ts';
import { LiveTurn, type OcEvent } from './live-turn.ts';
import { openCodeSession } from './session-view.ts';

export interface Subscriber {
  /** Only this project's events (`/event`), or all of them wrapped with their directory (`/global/event`). */
  projectRoot?: string;
  /** Every project's events in v2's form (`/api/event`; `projectRoot` is then left out). */
  v2?: boolean;
  /** Writes one SSE frame; returns false when the subscriber is too far behind (it is then dropped). */
  write(frame: Uint8Array): boolean;
  /** Called once when the subscriber is dropped for falling behind. */
  drop(): void;
}

const encoder = new TextEncoder();
/**
 * Events of a burst are written together, at most every this many ms per subscriber (at least
 * MIN_FLUSH_MS, at most MAX_FLUSH_MS apart): a socket write costs far more than a frame (tens of µs
 * on a loaded machine, most of it the kernel's), and every subscriber costs one write per flush, so
 * the more subscribers, the less often the server flushes, and the writes cost about the same
 * share of a core however many listen: 1 subscriber 5 ms, 50 subscribers 20 ms.
 */
const FLUSH_MS_PER_SUBSCRIBER = 0.4;
const MIN_FLUSH_MS = 5;
const MAX_FLUSH_MS = 50;

export function sseFrame(json: string): Uint8Array {
  return encoder.encode(`data: ${json}\n\n`);
}

export class OpenCodeEvents {
  readonly #subscribers = new Set<Subscriber>();
  /** Listeners inside the process (a project's plugins' `event` hooks), by project; each gets its own copy of every event. */
  readonly #taps = new Map<string, Set<(event: { id: string; type: string; properties: Record<string, unknown> }) => void>>();
  /** Turns in progress by session (a child session's too). */
  readonly #turns = new Map<string, LiveTurn>();
  /** Child sessions' turns by their sub-task's id. */
  readonly #subtasks = new Map<string, LiveTurn>();
  readonly #version: string;
  readonly #off: () => void;
  #seq = 0;
  /** Events published in this tick, sent together at its end (`projectRoot` undefined: for `/global/event` only). */
  #batch: { projectRoot: string | undefined; json: string; v2?: string }[] = [];
  #lastFlush = 0;
  readonly #prefix = `evt_${Date.now().toString(16)}`;

  /** Told when a subscriber leaves (or is dropped): the questions of a project nobody listens to any more end. */
  readonly #onLeave: () => void;

  constructor(hub: EventHub, version: string, onLeave: () => void = () => undefined) {
    this.#version = version;
    this.#onLeave = onLeave;
    this.#off = hub.subscribe((e) => this.#onHostEvent(e));
  }

  get size(): number {
    return this.#subscribers.size;
  }

  /** Whether someone listens to a project's events: on its `/event`, or on `/global/event`. */
  listens(projectRoot: string): boolean {
    for (const s of this.#subscribers) if (s.projectRoot === undefined || s.projectRoot === projectRoot) return true;
    return false;
  }

  /** Hands every event of a project to `listener` (a copy each), until the returned function is called. */
  tap(projectRoot: string, listener: (event: { id: string; type: string; properties: Record<string, unknown> }) => void): () => void {
    let set = this.#taps.get(projectRoot);
    if (!set) this.#taps.set(projectRoot, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#taps.get(projectRoot) === set) this.#taps.delete(projectRoot);
    };
  }

  /** Nobody to send an event to: no subscriber and no listener inside the process. */
  #quiet(): boolean {
    return this.#subscribers.size === 0 && this.#taps.size === 0;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => {
      if (this.#subscribers.delete(subscriber)) this.#onLeave();
    };
  }

  /** The messages of the session's turn in progress (none when it has none), as they stand. */
  liveMessages(sessionID: string): { info: Record<string, unknown>; parts: unknown[] }[] {
    return this.#turns.get(sessionID)?.snapshot() ?? [];
  }

  /** Publishes an event of the server's own (a terminal's `pty.*`) to the project's streams. */
  announce(projectRoot: string, event: OcEvent): void {
    this.#publish(projectRoot, event);
  }

  /** A frame of its own for one subscriber (server.connected, server.heartbeat). */
  frame(type: string, global: boolean): Uint8Array {
    const payload = { id: this.#nextId(), type, properties: {} };
    return sseFrame(JSON.stringify(global ? { directory: '', payload } : payload));
  }

  /** v2's `server.connected` (its heartbeats are SSE comments). */
  v2Connected(): Uint8Array {
    return sseFrame(JSON.stringify({ id: this.#nextId(), type: 'server.connected', data: {} }));
  }

  /** Ends every stream (their subscribers are dropped) and stops listening to the host. */
  close(): void {
    this.#off();
    if (this.#batch.length) this.#flush();
    const all = [...this.#subscribers];
    this.#subscribers.clear();
    for (const s of all) s.drop();
  }

  /**
   * An event of the server's own (a `tui.*` command for the attached TUI, `server.instance.disposed`,
   * `project.updated`): to the project's `/event` subscribers and `/global/event`, or, with no
   * project, to `/global/event` only (as `{directory: "global", payload}`, as OpenCode sends them).
   */
  publish(projectRoot: string | undefined, event: OcEvent): void {
    this.#publish(projectRoot, event);
  }

  #nextId(): string {
    this.#seq += 1;
    return `${this.#prefix}${this.#seq.toString(16).padStart(8, '0')}`;
  }

  #onHostEvent(e: HostEvent): void {
    const send = (event: OcEvent) => this.#publish(e.projectRoot, event);
    switch (e.type) {
      case 'pantheon': {
        const top = this.#turns.get(e.sessionID);
        const ev = e.event;
        // A file an `edit` or `write` call changed, by its absolute path, before the call's part completes (OpenCode's `file.edited`).
        if (ev.type === 'tool_use' && ev.diff && ev.error === undefined && !this.#quiet()) send({ type: 'file.edited', properties: { file: path.resolve(e.projectRoot, ev.diff.file) } });
        top?.handle(ev);
        // A sub-task's start is its `task` call's (in the message of the task that called); its own events are its child session's.
        if (ev.type === 'subtask_start') (this.#subtasks.get(ev.parentTaskID) ?? top)?.delegated(ev);
        else if (ev.taskID !== undefined) this.#subtasks.get(ev.taskID)?.handle(ev);
        if (this.#quiet()) return;
        send({ type: `pantheon.${e.event.type}`, properties: e.event as unknown as Record<string, unknown> });
        return;
      }
      case 'turn.started': {
        const live = new LiveTurn(e.sessionID, e.projectRoot, e.turn, send);
        this.#turns.set(e.sessionID, live);
        live.start();
        return;
      }
      case 'child.started': {
        const live = new LiveTurn(e.sessionID, e.projectRoot, e.turn, send);
        this.#turns.set(e.sessionID, live);
        if (e.turn.delegated) this.#subtasks.set(e.turn.delegated.taskID, live);
        live.start();
        return;
      }
      case 'child.ended': {
        this.#turns.get(e.sessionID)?.end(e.result, e.session);
        this.#turns.delete(e.sessionID);
        if (e.turn.delegated) this.#subtasks.delete(e.turn.delegated.taskID);
        return;
      }
      case 'turn.ended': {
        const live = this.#turns.get(e.sessionID);
        live?.end(e.result, e.session);
        this.#turns.delete(e.sessionID);
        // A turn that changed files: the session's list of them, for the TUI's "Modified Files".
        if (live?.changedFiles && e.session) this.#announceDiff(e.session, send);
        // A summary made (OpenCode's compaction): announced before the session goes idle, as OpenCode does.
        if (e.turn.compaction && e.result.status === 'success') send({ type: 'session.compacted', properties: { sessionID: e.sessionID } });
        return;
      }
      case 'permission.asked': {
        // The question, then its call as running with its input (OpenCode's TUI draws the question's body from it), in OpenCode's order.
        send({ type: 'permission.asked', properties: { ...e.question } });
        if (e.question.tool) this.#turns.get(e.sessionID)?.asking(e.question.tool.callID, e.tool, e.input);
        return;
      }
      case 'permission.replied': {
        send({ type: 'permission.replied', properties: { sessionID: e.sessionID, requestID: e.requestID, reply: e.reply } });
        return;
      }
      case 'question.asked': {
        // The questions, then the call as running with its input (the TUI draws the questions in place of the prompt from the first).
        send({ type: 'question.asked', properties: { ...e.request } });
        if (e.request.tool) this.#turns.get(e.sessionID)?.asking(e.request.tool.callID, 'question', e.input);
        return;
      }
      case 'question.replied': {
        send({ type: 'question.replied', properties: { sessionID: e.sessionID, requestID: e.requestID, answers: e.answers } });
        return;
      }
      case 'question.rejected': {
        send({ type: 'question.rejected', properties: { sessionID: e.sessionID, requestID: e.requestID } });
        return;
      }
      case 'session.status': {
        send({ type: 'session.status', properties: { sessionID: e.sessionID, status: e.status } });
        if (e.status.type === 'idle') send({ type: 'session.idle', properties: { sessionID: e.sessionID } });
        return;
      }
      case 'message.removed': {
        send({ type: 'message.removed', properties: { sessionID: e.sessionID, messageID: e.messageID } });
        return;
      }
      case 'message.part.removed': {
        send({ type: 'message.part.removed', properties: { sessionID: e.sessionID, messageID: e.messageID, partID: e.partID } });
        return;
      }
      case 'message.part.updated': {
        send({ type: 'message.part.updated', properties: { sessionID: e.sessionID, part: e.part, time: Date.now() } });
        return;
      }
      default:
        send({ type: e.type, properties: { sessionID: e.sessionID, info: openCodeSession(e.session, this.#version) } });
        if (e.filesMoved) this.#announceDiff(e.session, send);
    }
  }

  /** Sends `session.diff` with the session's changed files as they stand (read in the background), when someone listens. */
  #announceDiff(session: SessionRecord, send: (event: OcEvent) => void): void {
    if (this.#quiet()) return;
    void sessionDiff(session.projectRoot, session.messages, undefined, appliedTurns(session)).then(
      (diff) => send({ type: 'session.diff', properties: { sessionID: session.id, diff } }),
      () => undefined,
    );
  }

  #publish(projectRoot: string | undefined, event: OcEvent): void {
    if (this.#quiet()) return;
    // Serialised now: the event's objects may change later in this tick.
    const id = this.#nextId();
    const json = JSON.stringify({ id, ...event });
    const taps = projectRoot === undefined ? undefined : this.#taps.get(projectRoot);
    if (taps) for (const listener of taps) listener(JSON.parse(json) as { id: string; type: string; properties: Record<string, unknown> });
    if (this.#subscribers.size === 0) return;
    let v2: string | undefined;
    for (const s of this.#subscribers) {
      if (!s.v2) continue;
      v2 = JSON.stringify({ id, type: event.type, ...(projectRoot === undefined ? {} : { location: { directory: projectRoot } }), data: event.properties });
      break;
    }
    if (this.#batch.push({ projectRoot, json, ...(v2 === undefined ? {} : { v2 }) }) > 1) return;
    // The first event after a quiet spell goes out at the end of the tick; a burst is sent at most every `every` ms.
    const every = Math.min(MAX_FLUSH_MS, Math.max(MIN_FLUSH_MS, this.#subscribers.size * FLUSH_MS_PER_SUBSCRIBER));
    const wait = this.#lastFlush + every - performance.now();
    if (wait <= 0) setImmediate(() => this.#flush());
    else setTimeout(() => this.#flush(), wait);
  }

  /** Writes the tick's events: each subscriber gets one chunk of the frames meant for it, each frame serialised once. */
  #flush(): void {
    this.#lastFlush = performance.now();
    const batch = this.#batch;
    this.#batch = [];
    if (this.#subscribers.size === 0) return;
    const local = new Map<string, string[]>();
    const global: string[] = [];
    const v2: string[] = [];
    let globalFrames: Uint8Array | undefined;
    let v2Frames: Uint8Array | undefined;
    const localFrames = new Map<string, Uint8Array>();
    const wantsGlobal = [...this.#subscribers].some((s) => s.projectRoot === undefined && !s.v2);
    for (const { projectRoot, json, v2: v2json } of batch) {
      if (v2json !== undefined) v2.push(`data: ${v2json}\n\n`);
      if (projectRoot === undefined) {
        if (wantsGlobal) global.push(`data: {"directory":"global","payload":${json}}\n\n`);
        continue;
      }
      let frames = local.get(projectRoot);
      if (!frames) local.set(projectRoot, (frames = []));
      frames.push(`data: ${json}\n\n`);
      if (wantsGlobal) global.push(`data: {"directory":${JSON.stringify(projectRoot)},"payload":${json}}\n\n`);
    }
    for (const s of this.#subscribers) {
      let chunk: Uint8Array | undefined;
      if (s.v2) {
        // One that came in after this batch's events were published waits for the next.
        if (v2.length === 0) continue;
        chunk = v2Frames ??= encoder.encode(v2.join(''));
      } else if (s.projectRoot === undefined) chunk = globalFrames ??= encoder.encode(global.join(''));
      else {
        chunk = localFrames.get(s.projectRoot);
        if (!chunk) {
          const frames = local.get(s.projectRoot);
          if (!frames) continue;
          localFrames.set(s.projectRoot, (chunk = encoder.encode(frames.join(''))));
        }
      }
      if (!s.write(chunk)) {
        this.#subscribers.delete(s);
        s.drop();
        this.#onLeave();
      }
    }
  }
}
