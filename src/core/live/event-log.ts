/**
 * The dashboard's event log: the scheduling events worth a look (retries, fallbacks, rate-limit
 * waits, cache hits, errors, warnings), each with who it concerns (session, agent, provider, model),
 * in a bounded ring: the newest entries are kept, the oldest dropped.
 */
import type { PantheonEvent } from '../../events.ts';

export type LogType = 'retry' | 'fallback' | 'rate_limited' | 'cache_hit' | 'error' | 'warning';

export interface LogEntry {
  /** Increasing number of the entry in this process. */
  seq: number;
  /** When the event happened (ms since the epoch). */
  time: number;
  type: LogType;
  sessionID: string;
  projectRoot: string;
  agent?: string;
  provider?: string;
  model?: string;
  taskID?: string;
  stepID?: string;
  /** retry: attempt, delayMs, status; fallback: from, to, reason; rate_limited: waitMs, limit; error/warning: code. */
  attempt?: number;
  delayMs?: number;
  status?: number | string;
  from?: string;
  to?: string;
  reason?: string;
  waitMs?: number;
  limit?: string;
  code?: string;
  /** The provider's or the error's message, one line, at most 300 characters. */
  message?: string;
}

/** Entries the log keeps (the newest); a stream's batch carries at most as many. */
export const LOG_KEPT = 500;
const LOGGED = new Set<string>(['retry', 'fallback', 'rate_limited', 'cache_hit', 'error', 'warning']);
const MAX_MESSAGE = 300;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 1)}…` : flat;
}

/** The log entry for an event, or undefined when the log does not keep its kind. */
export function logEntryOf(event: PantheonEvent, projectRoot: string, seq: number): LogEntry | undefined {
  if (!LOGGED.has(event.type)) return undefined;
  const base: LogEntry = {
    seq,
    time: event.timestamp,
    type: event.type as LogType,
    sessionID: event.sessionID,
    projectRoot,
    ...(event.agent ? { agent: event.agent } : {}),
    ...(event.provider ? { provider: event.provider } : {}),
    ...(event.model ? { model: event.model } : {}),
    ...(event.taskID ? { taskID: event.taskID } : {}),
    ...(event.stepID ? { stepID: event.stepID } : {}),
  };
  switch (event.type) {
    case 'retry':
      return { ...base, attempt: event.attempt, delayMs: event.delayMs, status: event.status, ...(event.message ? { message: oneLine(event.message) } : {}) };
    case 'fallback':
      return { ...base, from: event.from, to: event.to, reason: event.reason };
    case 'rate_limited':
      return { ...base, waitMs: event.waitMs, ...(event.limit ? { limit: event.limit } : {}) };
    case 'error':
    case 'warning':
      return { ...base, code: event.code, message: oneLine(event.message) };
    default:
      return base;
  }
}

export class EventLog {
  readonly #max: number;
  #entries: LogEntry[] = [];
  #seq = 0;

  constructor(max = LOG_KEPT) {
    this.#max = max;
  }

  /** Adds the event when the log keeps its kind; returns the new entry. */
  add(event: PantheonEvent, projectRoot: string): LogEntry | undefined {
    const entry = logEntryOf(event, projectRoot, this.#seq + 1);
    if (!entry) return undefined;
    this.#seq += 1;
    this.#entries.push(entry);
    if (this.#entries.length > this.#max * 1.25) this.#entries = this.#entries.slice(-this.#max);
    return entry;
  }

  /** The newest entries, oldest first. */
  entries(): LogEntry[] {
    return this.#entries.slice(-this.#max);
  }
}
