/**
 * The page's one connection: /api/state/stream on the page's own origin. The page starts from the
 * state the server put in it (`initialStore`), so it renders before the stream is open; a `snapshot`
 * replaces the state, later frames update parts of it. EventSource reconnects by itself after a server restart
 * (the stream asks for 1 s); when the browser gives up (an error answer), a new one is opened after
 * a growing pause. Each new connection starts with a fresh snapshot, so nothing is missed.
 *
 * Updates are incremental: a frame replaces only its part of the state, and lanes, sessions and
 * workflow runs that did not change keep their objects, so memoised components skip them. A frame
 * is shown in a task of its own right after it arrived (frames that arrived together, together); in a
 * burst (an update shown within the last frame already) the rest waits for the next animation frame,
 * so the page renders at most once a frame however many events arrive. The page keeps the newest
 * MAX_LOG log entries.
 */
import { share, laneSignature } from './share.ts';
import type { Lane, LogEntry, Session, State, Usage, Workflow } from './types.ts';

export type Status = 'connecting' | 'live' | 'reconnecting';

export const MAX_LOG = 1000;
/** An animation frame (ms): a second update within one is a burst. */
const FRAME_MS = 16;
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

/** Log entries of `next` already in `old` (same seq) keep their objects, so their rows do not render again. */
function shareLog(old: readonly LogEntry[], next: LogEntry[]): LogEntry[] {
  const before = new Map(old.map((e) => [e.seq, e]));
  return next.map((e) => before.get(e.seq) ?? e);
}

export function connect(initial: Store, onChange: (store: Store) => void): () => void {
  let store = initial;
  const token = new URLSearchParams(location.search).get('auth_token');
  const url = `/api/state/stream${token ? `?auth_token=${encodeURIComponent(token)}` : ''}`;
  let source: EventSource | undefined;
  let retryMs = 1000;
  let timer: number | undefined;
  let frame = 0;
  let queued = false;
  /** When the last update was shown (performance.now()). */
  let shownAt = -Infinity;
  let since: number | undefined;
  const show = () => {
    queued = false;
    frame = 0;
    shownAt = performance.now();
    const shown = since === undefined ? store : { ...store, since };
    since = undefined;
    onChange(shown);
  };
  // A task of its own: frames that arrived together (one network read) are shown together.
  const soon = new MessageChannel();
  soon.port1.onmessage = show;
  const changed = (arrived: number) => {
    since = Math.min(since ?? arrived, arrived);
    if (queued) return;
    queued = true;
    // An update shown within the last frame: a burst; the rest of it waits for the next frame.
    if (performance.now() - shownAt < FRAME_MS && !document.hidden) frame = requestAnimationFrame(show);
    else soon.port2.postMessage(null);
  };
  const update = (patch: Partial<Store>, arrived: number) => {
    store = { ...store, ...patch };
    changed(arrived);
  };
  const on = <T>(name: string, apply: (state: State, data: T) => Partial<State>) => {
    source?.addEventListener(name, (e) => {
      const state = store.state;
      if (!state) return;
      const message = e as MessageEvent<string>;
      update({ state: { ...state, ...apply(state, JSON.parse(message.data) as T) } }, message.timeStamp);
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
    on<Lane[]>('lanes', (s, lanes) => ({ lanes: share(s.lanes, lanes, (l) => l.key, laneSignature) }));
    on<LogEntry[]>('log', (s, entries) => ({ log: [...s.log, ...entries].slice(-MAX_LOG) }));
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
    if (frame) cancelAnimationFrame(frame);
    soon.port1.close();
    source?.close();
  };
}
