/**
 * The page's one connection: /api/state/stream on the page's own origin. The page starts from the
 * state the server put in it (`initialStore`), so it renders before the stream is open; a `snapshot`
 * replaces the state, later frames update parts of it. EventSource reconnects by itself after a server restart
 * (the stream asks for 1 s); when the browser gives up (an error answer), a new one is opened after
 * a growing pause. Each new connection starts with a fresh snapshot, so nothing is missed.
 *
 * Updates are incremental: a frame replaces only its part of the state, and lanes, sessions and
 * workflow runs that did not change keep their objects, so memoised components skip them. A frame
 * is shown in a task of its own right after it arrived (frames that arrived together, together);
 * under a stream (an update shown within the last BATCH_MS already) the rest waits until BATCH_MS
 * after it, so the page renders at most every BATCH_MS however many events arrive (each render costs
 * the browser a layout, paint and raster, which competes with the server for the machine). A lane
 * that starts or stops waiting or cooling down is shown at once. A hidden page (a background tab)
 * renders nothing: it keeps its state current and shows it once it is visible again. The page keeps
 * the newest MAX_LOG log entries.
 */
import { share, laneSignature } from './share.ts';
import type { Lane, LogEntry, Session, State, Usage, Workflow } from './types.ts';

export type Status = 'connecting' | 'live' | 'reconnecting';

export const MAX_LOG = 1000;
/** The least time between two renders under a stream of changes (ms): two animation frames. */
const BATCH_MS = 33;
/** The element the server puts the state in (src/server/dashboard-assets.ts). */
const STATE_ELEMENT = 'pantheon-state';

export interface Store {
  state: State | undefined;
  status: Status;
  /** Server clock minus page clock (ms), from the last snapshot: countdowns use the server's times. */
  skew: number;
  /** When the oldest frame this update shows arrived (performance.now() time), for the page's latency mark. */
  since?: number;
}

/** The state the server put in the page, if any (read once; the element is removed). */
export function initialStore(): Store {
  const element = document.getElementById(STATE_ELEMENT);
  element?.remove();
  try {
    const state = element?.textContent ? (JSON.parse(element.textContent) as State) : undefined;
    if (state?.version) return { state, status: 'connecting', skew: state.now - Date.now() };
  } catch {
    // A page without its state (or with a broken one) waits for the stream's snapshot.
  }
  return { state: undefined, status: 'connecting', skew: 0 };
}

/**
 * Log entries of `next` already in `old` keep their objects, so their rows do not render again. The
 * same entry has the same seq, time, type and session: a restarted server numbers its entries from 1
 * again, and its entries must not be shown as the old server's that had their numbers.
 */
function shareLog(old: readonly LogEntry[], next: LogEntry[]): LogEntry[] {
  const before = new Map(old.map((e) => [e.seq, e]));
  return next.map((e) => {
    const o = before.get(e.seq);
    return o && o.time === e.time && o.type === e.type && o.sessionID === e.sessionID ? o : e;
  });
}

const WAITING = new Set<Lane['state']>(['waiting', 'full', 'cooling']);

/** A lane that is new, or that starts or stops waiting or cooling down: shown at once. */
function startsOrStopsWaiting(state: State, lanes: Lane[]): boolean {
  const before = new Map(state.lanes.map((l) => [l.key, l.state]));
  return lanes.some((l) => {
    const was = before.get(l.key);
    return was === undefined || (was !== l.state && (WAITING.has(was) || WAITING.has(l.state)));
  });
}

export function connect(initial: Store, onChange: (store: Store) => void): () => void {
  let store = initial;
  const token = new URLSearchParams(location.search).get('auth_token');
  const url = `/api/state/stream${token ? `?auth_token=${encodeURIComponent(token)}` : ''}`;
  let source: EventSource | undefined;
  let retryMs = 1000;
  let timer: number | undefined;
  /** The pending render of a stream's next batch. */
  let later: number | undefined;
  let queued = false;
  /** When the last update was shown (performance.now()). */
  let shownAt = -Infinity;
  let since: number | undefined;
  const show = () => {
    queued = false;
    if (later !== undefined) clearTimeout(later);
    later = undefined;
    shownAt = performance.now();
    const shown = since === undefined ? store : { ...store, since };
    since = undefined;
    onChange(shown);
  };
  // A task of its own: frames that arrived together (one network read) are shown together.
  const soon = new MessageChannel();
  soon.port1.onmessage = show;
  /** Changes that came while the page was hidden: shown once, when it is visible again. */
  let missed = false;
  const changed = (arrived: number, urgent: boolean) => {
    if (document.hidden) {
      // A hidden page is not drawn: rendering each frame would only cost the machine (a background
      // tab's timers are slowed to a second, its message tasks are not). The state stays current.
      missed = true;
      return;
    }
    since = Math.min(since ?? arrived, arrived);
    if (queued && !(urgent && later !== undefined)) return;
    queued = true;
    const wait = shownAt + BATCH_MS - performance.now();
    if (later !== undefined) {
      clearTimeout(later);
      later = undefined;
    }
    // An update shown within the last BATCH_MS: a stream; the rest of it waits (a wait that begins, not).
    if (wait > 0 && !urgent) later = window.setTimeout(show, wait);
    else soon.port2.postMessage(null);
  };
  const visible = () => {
    if (document.hidden || !missed) return;
    missed = false;
    // What changed meanwhile, at once; not an update's latency (the page was away), so no mark.
    since = undefined;
    queued = true;
    soon.port2.postMessage(null);
  };
  document.addEventListener('visibilitychange', visible);
  const update = (patch: Partial<Store>, arrived: number, urgent = true) => {
    store = { ...store, ...patch };
    changed(arrived, urgent);
  };
  /** `urgent`: whether the frame must be shown at once, even under a stream. */
  const on = <T>(name: string, apply: (state: State, data: T) => Partial<State>, urgent: (state: State, data: T) => boolean = () => false) => {
    source?.addEventListener(name, (e) => {
      const state = store.state;
      if (!state) return;
      const message = e as MessageEvent<string>;
      const data = JSON.parse(message.data) as T;
      update({ state: { ...state, ...apply(state, data) } }, message.timeStamp, urgent(state, data));
    });
  };
  const open = () => {
    source = new EventSource(url);
    source.addEventListener('snapshot', (e) => {
      const message = e as MessageEvent<string>;
      const state = JSON.parse(message.data) as State;
      const old = store.state;
      // Parts that did not change while the page was away keep their objects.
      if (old) Object.assign(state, { lanes: share(old.lanes, state.lanes, (l) => l.key, laneSignature), log: shareLog(old.log, state.log), sessions: share(old.sessions, state.sessions, (s) => s.id), workflows: share(old.workflows, state.workflows, (w) => w.runId) });
      retryMs = 1000;
      update({ state, status: 'live', skew: state.now - Date.now() }, message.timeStamp);
    });
    // Lanes read again: whatever kept them from being read (lanesError) is over.
    on<Lane[]>('lanes', (s, lanes) => ({ lanes: share(s.lanes, lanes, (l) => l.key, laneSignature), lanesError: undefined }), startsOrStopsWaiting);
    // The lanes cannot be read now (Redis away): the last ones stay, with why.
    on<string>('lanesError', (_s, lanesError) => ({ lanesError }), () => true);
    on<LogEntry[]>('log', (s, entries) => ({ log: [...s.log, ...entries].slice(-MAX_LOG) }), (_s, entries) => entries.some((e) => e.type !== 'cache_hit'));
    on<Usage>('usage', (_s, usage) => ({ usage }));
    on<Session[]>('sessions', (s, sessions) => ({ sessions: share(s.sessions, sessions, (x) => x.id) }));
    on<Workflow[]>('workflows', (s, workflows) => ({ workflows: share(s.workflows, workflows, (w) => w.runId) }));
    source.addEventListener('error', (e) => {
      if (store.status !== 'reconnecting') update({ status: 'reconnecting' }, e.timeStamp);
      if (source?.readyState === EventSource.CLOSED) {
        source = undefined;
        timer = window.setTimeout(open, retryMs);
        retryMs = Math.min(retryMs * 2, 15_000);
      }
    });
  };
  open();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    if (later !== undefined) clearTimeout(later);
    soon.port1.close();
    document.removeEventListener('visibilitychange', visible);
    source?.close();
  };
}
