/**
 * The live state behind the dashboard, `GET /api/state` and its stream: the lanes, the event log,
 * usage and cost, sessions and workflow runs, kept up to date from the host's one event stream
 * (and, for what other processes do, from the shared ledger and the workflow journal, read once a
 * second while someone watches). Subscribers get each change as a plain object: lanes, and the rest
 * in one batch, at once while they change a few times a second, at most 4 times a second while they
 * keep changing; a lane whose wait begins at once.
 */
import { Journal } from '../../workflow/journal.ts';
import type { HostEvent } from '../event-hub.ts';
import type { Host } from '../host.ts';
import { hostLanes } from '../lanes.ts';
import type { LaneSnapshot } from '../../scheduler/lane-snapshot.ts';
import { EventLog, LOG_KEPT, type LogEntry } from './event-log.ts';
import { Pace } from './pace.ts';
import { recentRuns, SessionBoard, workflowView, type SessionView, type WorkflowView } from './activity-board.ts';
import { UsageBook, type UsageView } from './usage-book.ts';
import { TodayTally, withToday, type TodayTotals } from './usage-today.ts';

export interface LiveSnapshot {
  version: string;
  /** When the snapshot was taken (ms since the epoch). */
  now: number;
  lanes: LaneSnapshot[];
  /** Why the lanes could not be read (the state store is away: Redis down), when they could not; `lanes` is empty then. */
  lanesError?: string;
  log: LogEntry[];
  usage: UsageView;
  sessions: SessionView[];
  workflows: WorkflowView[];
}

export type LiveChange =
  | { kind: 'lanes'; lanes: LaneSnapshot[] }
  /** The lanes cannot be read now (the state store is away: Redis down); the next `lanes` says they can again. */
  | { kind: 'lanesError'; error: string }
  | { kind: 'log'; entries: LogEntry[] }
  | { kind: 'usage'; usage: UsageView }
  | { kind: 'sessions'; sessions: SessionView[] }
  | { kind: 'workflows'; workflows: WorkflowView[] };

export type LiveListener = (change: LiveChange) => void;

export interface LiveStateOptions {
  version: string;
  now?: () => number;
  /** How often lanes and workflow runs are re-read while someone watches (ms). */
  pollMs?: number;
  /** The workflow journal to read runs from (default: the state folder's; null: none). */
  journal?: Journal | null;
}

const LANE_EVENTS = new Set(['step_start', 'step_finish', 'retry', 'fallback', 'rate_limited', 'cache_hit', 'error', 'done']);
/** Events that change what a lane shows at once (a wait begins): their lanes are read without waiting for the throttle. */
const URGENT_EVENTS = new Set(['rate_limited', 'retry', 'fallback']);
/**
 * Lanes, and the batch of the rest (the log, usage, sessions and workflow runs, together so that a
 * page renders them once), each go at once while they change a few times a second, and at most 4
 * times a second while they keep changing (src/core/live/pace.ts). A lane whose wait begins goes at once.
 */
const PACE = { burst: 4, perSecond: 4 };
/** Today's usage is brought up to date from the ledger (the records added since the last read) at most this often while calls keep ending. */
const TODAY_MIN_MS = 1000;

export class LiveState {
  readonly #host: Host;
  readonly #version: string;
  readonly #now: () => number;
  readonly #pollMs: number;
  readonly #log = new EventLog();
  readonly #usage: UsageBook;
  readonly #sessions: SessionBoard;
  readonly #listeners = new Map<LiveListener, (() => void) | undefined>();
  readonly #off: () => void;
  #journal: Journal | null | undefined;
  #pendingLog: LogEntry[] = [];
  #dirty = { lanes: false, usage: false, sessions: false, workflows: false };
  readonly #lanesPace: Pace;
  readonly #batchPace: Pace;
  #laneTimer: NodeJS.Timeout | undefined;
  #batchTimer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #lanesJson = '';
  /** Why the lanes could not be read, as last sent (undefined once they were read again). */
  #lanesError: string | undefined;
  #workflowsJson = '';
  #readingLanes: Promise<void> | undefined;
  #urgent = false;
  #closed = false;
  /** Today's usage from the ledger's usage log (every process's calls), brought up to date after each change. */
  readonly #tally: TodayTally;
  #today: TodayTotals | undefined;
  #todayTimer: NodeJS.Timeout | undefined;
  #lastTodayRead = -Infinity;
  /** When today's usage was last read, for whatever reason. */
  #lastRead = -Infinity;
  #todayJson = '';

  constructor(host: Host, options: LiveStateOptions) {
    this.#host = host;
    this.#version = options.version;
    this.#now = options.now ?? Date.now;
    this.#pollMs = options.pollMs ?? 1000;
    this.#lanesPace = new Pace(PACE.burst, PACE.perSecond, this.#now);
    this.#batchPace = new Pace(PACE.burst, PACE.perSecond, this.#now);
    this.#journal = options.journal;
    this.#usage = new UsageBook(this.#now);
    this.#sessions = new SessionBoard(this.#now);
    this.#tally = new TodayTally(host.ledger);
    this.#off = host.hub.subscribe((e) => this.#onEvent(e));
    // Today's usage is read when first asked for (a snapshot), not at start-up: the first date
    // formatter loads time-zone data, which would delay the server's readiness (bench/serve.ts).
  }

  /** Everything now: what `GET /api/state` answers and a stream sends first. */
  async snapshot(): Promise<LiveSnapshot> {
    // A state store that cannot be read (Redis down) leaves the lanes out; the rest is this process's own.
    let lanesError: string | undefined;
    const lanes = await hostLanes(this.#host).catch((error: unknown) => {
      lanesError = error instanceof Error ? error.message : String(error);
      return [];
    });
    return {
      version: this.#version,
      now: this.#now(),
      lanes,
      ...(lanesError === undefined ? {} : { lanesError }),
      log: this.#log.entries(),
      usage: withToday(this.#usage.view(), await this.#readToday()),
      sessions: this.#sessions.list(),
      workflows: this.#workflows(),
    };
  }

  /**
   * Changes as they happen; the polling of other processes' state runs while anyone listens.
   * `onEnd` is called when the state closes (the server stops) or the listener threw.
   */
  subscribe(listener: LiveListener, onEnd?: () => void): () => void {
    this.#listeners.set(listener, onEnd);
    if (!this.#poll && !this.#closed) {
      this.#poll = setInterval(() => {
        this.#dirty.lanes = true;
        this.#dirty.workflows = true;
        // Other processes' calls reach today's usage only through the ledger (not read again when
        // this process's own calls had it read within the last half interval).
        if (this.#now() - this.#lastRead < this.#pollMs / 2) return this.#schedule();
        void this.#readToday().then((today) => {
          const json = JSON.stringify(today);
          if (today && json !== this.#todayJson) {
            this.#todayJson = json;
            this.#dirty.usage = true;
          }
          this.#schedule();
        });
      }, this.#pollMs);
      this.#poll.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#poll) {
        clearInterval(this.#poll);
        this.#poll = undefined;
      }
    };
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  close(): void {
    this.#closed = true;
    this.#off();
    const ends = [...this.#listeners.values()];
    this.#listeners.clear();
    for (const end of ends) end?.();
    for (const t of [this.#poll, this.#laneTimer, this.#batchTimer, this.#todayTimer]) if (t) clearTimeout(t);
    this.#poll = undefined;
    this.#journal?.close();
  }

  #onEvent(e: HostEvent): void {
    if (this.#sessions.apply(e)) this.#dirty.sessions = true;
    if (e.type === 'turn.started' || e.type === 'turn.ended') this.#dirty.lanes = true;
    if (e.type === 'pantheon') {
      const ev = e.event;
      const entry = this.#log.add(ev, e.projectRoot);
      if (entry) {
        // A batch carries the newest LOG_KEPT entries at most (all the log keeps): a flood between
        // two batches costs bounded memory and a bounded frame.
        if (this.#pendingLog.length >= 2 * LOG_KEPT) this.#pendingLog = this.#pendingLog.slice(-LOG_KEPT);
        this.#pendingLog.push(entry);
      }
      if (ev.type === 'step_finish') {
        this.#usage.add({ time: ev.timestamp, ...(ev.agent ? { agent: ev.agent } : {}), ...(ev.provider ? { provider: ev.provider } : {}), ...(ev.model ? { model: ev.model } : {}), inputTokens: ev.usage.inputTokens, outputTokens: ev.usage.outputTokens, ...(ev.costUSD !== undefined ? { costUSD: ev.costUSD } : {}) });
        this.#dirty.usage = true;
      }
      if (LANE_EVENTS.has(ev.type)) this.#dirty.lanes = true;
      if (URGENT_EVENTS.has(ev.type)) this.#urgent = true;
      if (ev.type.startsWith('workflow_') || ev.type.startsWith('task_')) this.#dirty.workflows = true;
    }
    if (this.#listeners.size > 0) this.#schedule();
    else this.#pendingLog = [];
  }

  /** Sends what changed: lanes and the batch of the rest, each at its pace; lanes at once when a wait begins. */
  #schedule(): void {
    if (this.#closed || this.#listeners.size === 0) return;
    if (this.#dirty.lanes && this.#urgent && this.#laneTimer) {
      clearTimeout(this.#laneTimer);
      this.#laneTimer = undefined;
    }
    if (this.#dirty.lanes && !this.#laneTimer) {
      const wait = this.#urgent ? 0 : this.#lanesPace.wait();
      this.#urgent = false;
      this.#laneTimer = setTimeout(() => {
        this.#laneTimer = undefined;
        void this.#sendLanes();
      }, wait);
    }
    if ((this.#pendingLog.length > 0 || this.#dirty.usage || this.#dirty.sessions || this.#dirty.workflows) && !this.#batchTimer) {
      const wait = this.#batchPace.wait();
      this.#batchTimer = setTimeout(() => {
        this.#batchTimer = undefined;
        this.#sendBatch();
      }, wait);
    }
  }

  async #sendLanes(): Promise<void> {
    if (this.#readingLanes) {
      // One read at a time; the one in progress may have missed the latest change.
      await this.#readingLanes;
      if (this.#dirty.lanes) this.#schedule();
      return;
    }
    this.#dirty.lanes = false;
    this.#lanesPace.took();
    this.#readingLanes = (async () => {
      try {
        const lanes = await hostLanes(this.#host);
        this.#lanesError = undefined;
        const json = JSON.stringify(lanes.map(({ at: _at, ...rest }) => rest));
        // Lanes that did not change are not sent again (the page counts down on its own).
        if (json !== this.#lanesJson) {
          this.#lanesJson = json;
          this.#send({ kind: 'lanes', lanes });
        }
      } catch (error) {
        // The ledger cannot be read now (Redis away; or it was closed under us, shutting down):
        // watchers are told once, and the next lanes read are sent even if they are the ones last
        // sent, so they hear that the lanes can be read again.
        this.#lanesJson = '';
        const message = error instanceof Error ? error.message : String(error);
        if (message !== this.#lanesError) {
          this.#lanesError = message;
          this.#send({ kind: 'lanesError', error: message });
        }
      }
    })();
    await this.#readingLanes;
    this.#readingLanes = undefined;
  }

  /** The log's new entries, then usage, sessions and workflow runs where they changed. */
  #sendBatch(): void {
    this.#batchPace.took();
    const entries = this.#pendingLog.length > LOG_KEPT ? this.#pendingLog.slice(-LOG_KEPT) : this.#pendingLog;
    this.#pendingLog = [];
    if (entries.length > 0) this.#send({ kind: 'log', entries });
    if (this.#dirty.usage) {
      this.#dirty.usage = false;
      this.#sendUsage();
    }
    if (this.#dirty.sessions) {
      this.#dirty.sessions = false;
      this.#send({ kind: 'sessions', sessions: this.#sessions.list() });
    }
    if (this.#dirty.workflows) {
      this.#dirty.workflows = false;
      const workflows = this.#workflows();
      const json = JSON.stringify(workflows);
      if (json !== this.#workflowsJson) {
        this.#workflowsJson = json;
        this.#send({ kind: 'workflows', workflows });
      }
    }
  }

  /**
   * The call's usage record lands in the ledger as the call ends: read it, then send. The first
   * change after a quiet second is read at once; while calls keep ending, once a second, the last
   * read after the last change.
   */
  #sendUsage(): void {
    if (this.#todayTimer) return;
    const wait = Math.max(0, this.#lastTodayRead + TODAY_MIN_MS - this.#now());
    this.#todayTimer = setTimeout(() => {
      this.#lastTodayRead = this.#now();
      void this.#readToday().then((today) => {
        this.#todayTimer = undefined;
        if (!this.#closed) this.#send({ kind: 'usage', usage: withToday(this.#usage.view(), today) });
      });
    }, wait);
  }

  #send(change: LiveChange): void {
    for (const [listener, end] of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        this.#listeners.delete(listener);
        end?.();
      }
    }
  }

  #workflows(): WorkflowView[] {
    try {
      if (this.#journal === undefined) this.#journal = Journal.open(this.#host.env);
      const journal = this.#journal;
      if (!journal) return [];
      return recentRuns(journal.listRuns(), this.#now()).map((run) => workflowView(run, journal.getRun(run.id).tasks));
    } catch {
      // An unreadable journal shows no runs; `opencode doctor` reports it.
      return [];
    }
  }

  /** Today's usage from the ledger (the last one read if the ledger cannot be read now). */
  async #readToday(): Promise<TodayTotals | undefined> {
    this.#lastRead = this.#now();
    try {
      const timeZone = (await this.#host.instances.get()).config.budget?.timeZone;
      this.#today = await this.#tally.read(this.#now, timeZone);
    } catch {
      // The ledger was closed under us (shutting down) or cannot be read: keep what was read last.
    }
    return this.#today;
  }
}
