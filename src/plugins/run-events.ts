/**
 * The plugins' `event` hooks under `opencode run` (no server): the turn's events as OpenCode's bus
 * carries them (`session.status`, `message.updated`, `message.part.updated`, `session.idle`, …),
 * made by the server's own translation (server/opencode/event-stream.ts) over a hub of this process.
 * Loaded only when a plugin has an `event` hook.
 */
import { EventHub, type TurnStart } from '../core/event-hub.ts';
import type { TurnResult } from '../core/session-turn.ts';
import type { EventBus } from '../events.ts';
import { OpenCodeEvents } from '../server/opencode/event-stream.ts';
import type { PluginHost } from './types.ts';

export interface RunEventFeed {
  /** The turn begins (its ids, agent and text, as the saved messages will carry them). */
  started(turn: TurnStart): void;
  /** The turn ended: its session saved (created or updated), then idle. */
  ended(turn: TurnStart, result: TurnResult, isNew: boolean): void;
  close(): void;
}

export function runEventFeed(plugins: PluginHost, bus: EventBus, projectRoot: string, version: string): RunEventFeed {
  const hub = new EventHub();
  const events = new OpenCodeEvents(hub, version);
  const untap = events.tap(projectRoot, (event) => plugins.publish(event));
  const where = { projectRoot, sessionID: bus.sessionID };
  const off = bus.subscribe((event) => hub.emit({ ...where, type: 'pantheon', event }));
  return {
    started(turn) {
      hub.emit({ ...where, type: 'session.status', status: { type: 'busy' } });
      hub.emit({ ...where, type: 'turn.started', turn });
    },
    ended(turn, result, isNew) {
      const session = result.session;
      if (session) hub.emit({ ...where, type: isNew ? 'session.created' : 'session.updated', session });
      hub.emit({ ...where, type: 'turn.ended', turn, result, session });
      hub.emit({ ...where, type: 'session.status', status: { type: 'idle' } });
    },
    close() {
      off();
      untap();
      events.close();
    },
  };
}
