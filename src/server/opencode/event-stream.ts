/**
 * The host's events as OpenCode's event stream: `session.*`, `message.*` (from a LiveTurn per
 * turn), and Pantheon's own events as `pantheon.<type>` (retry, fallback, rate_limited, cache_hit,
 * step_finish with usage and cost, done, …). Each event is serialized once and written to every
 * subscriber whose project matches (`/event`) or to every subscriber (`/global/event`, wrapped as
 * `{directory, payload}`). A subscriber that stops reading is dropped once too much is queued for it.
 */
import type { EventHub, HostEvent } from '../../core/event-hub.ts';
import { LiveTurn, type OcEvent } from './live-turn.ts';
import { openCodeSession } from './session-view.ts';

export interface Subscriber {
  /** Only this project's events (`/event`), or all of them wrapped with their directory (`/global/event`). */
  projectRoot?: string;
  /** Writes one SSE frame; returns false when the subscriber is too far behind (it is then dropped). */
  write(frame: Uint8Array): boolean;
  /** Called once when the subscriber is dropped for falling behind. */
  drop(): void;
}

const encoder = new TextEncoder();

export function sseFrame(json: string): Uint8Array {
  return encoder.encode(`data: ${json}\n\n`);
}

export class OpenCodeEvents {
  readonly #subscribers = new Set<Subscriber>();
  readonly #turns = new Map<string, LiveTurn>();
  readonly #version: string;
  readonly #off: () => void;
  #seq = 0;
  readonly #prefix = `evt_${Date.now().toString(16)}`;

  constructor(hub: EventHub, version: string) {
    this.#version = version;
    this.#off = hub.subscribe((e) => this.#onHostEvent(e));
  }

  get size(): number {
    return this.#subscribers.size;
  }

  subscribe(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** A frame of its own for one subscriber (server.connected, server.heartbeat). */
  frame(type: string, global: boolean): Uint8Array {
    const payload = { id: this.#nextId(), type, properties: {} };
    return sseFrame(JSON.stringify(global ? { directory: '', payload } : payload));
  }

  /** Ends every stream (their subscribers are dropped) and stops listening to the host. */
  close(): void {
    this.#off();
    const all = [...this.#subscribers];
    this.#subscribers.clear();
    for (const s of all) s.drop();
  }

  #nextId(): string {
    this.#seq += 1;
    return `${this.#prefix}${this.#seq.toString(16).padStart(8, '0')}`;
  }

  #onHostEvent(e: HostEvent): void {
    const send = (event: OcEvent) => this.#publish(e.projectRoot, event);
    switch (e.type) {
      case 'pantheon': {
        this.#turns.get(e.sessionID)?.handle(e.event);
        send({ type: `pantheon.${e.event.type}`, properties: e.event as unknown as Record<string, unknown> });
        return;
      }
      case 'turn.started': {
        const live = new LiveTurn(e.sessionID, e.projectRoot, e.turn, send);
        this.#turns.set(e.sessionID, live);
        live.start();
        return;
      }
      case 'turn.ended': {
        this.#turns.get(e.sessionID)?.end(e.result, e.session);
        this.#turns.delete(e.sessionID);
        return;
      }
      case 'session.status': {
        send({ type: 'session.status', properties: { sessionID: e.sessionID, status: e.status } });
        if (e.status.type === 'idle') send({ type: 'session.idle', properties: { sessionID: e.sessionID } });
        return;
      }
      default:
        send({ type: e.type, properties: { sessionID: e.sessionID, info: openCodeSession(e.session, this.#version) } });
    }
  }

  #publish(projectRoot: string, event: OcEvent): void {
    if (this.#subscribers.size === 0) return;
    const payload = { id: this.#nextId(), ...event };
    let local: Uint8Array | undefined;
    let global: Uint8Array | undefined;
    for (const s of this.#subscribers) {
      let frame: Uint8Array;
      if (s.projectRoot === undefined) frame = global ??= sseFrame(JSON.stringify({ directory: projectRoot, payload }));
      else if (s.projectRoot === projectRoot) frame = local ??= sseFrame(JSON.stringify(payload));
      else continue;
      if (!s.write(frame)) {
        this.#subscribers.delete(s);
        s.drop();
      }
    }
  }
}
