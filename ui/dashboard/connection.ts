/**
 * The page's one connection: /api/state/stream on the page's own origin. A `snapshot` replaces the
 * state, later frames update parts of it. EventSource reconnects by itself after a server restart
 * (the stream asks for 1 s); when the browser gives up (an error answer), a new one is opened after
 * a growing pause. Each new connection starts with a fresh snapshot, so nothing is missed.
 *
 * Updates are incremental: a frame replaces only its part of the state, and lanes, sessions and
 * workflow runs that did not change keep their objects, so memoised components skip them. A frame
 * is shown in a task of its own right after it arrived (frames that arrived together, together); in a
 * burst (two updates shown within the last frame already) the rest waits for the next animation frame.
 */
import { share, laneSignature } from './share.ts';
import type { Lane, LogEntry, Session, State, Usage, Workflow } from './types.ts';

export type Status = 'connecting' | 'live' | 'reconnecting';

const MAX_LOG = 500;
/** An animation frame (ms): more than two updates within one are a burst. */
const FRAME_MS = 16;

export interface Store {
  state: State | undefined;
  status: Status;
  /** Server clock minus page clock (ms), from the last snapshot: countdowns use the server's times. */
  skew: number;
  /** When the oldest frame this update shows arrived (performance.now() time), for the page's latency mark. */
  since?: number;
}

export function connect(onChange: (store: Store) => void): () => void {
  let store: Store = { state: undefined, status: 'connecting', skew: 0 };
  const token = new URLSearchParams(location.search).get('auth_token');
  const url = `/api/state/stream${token ? `?auth_token=${encodeURIComponent(token)}` : ''}`;
  let source: EventSource | undefined;
  let retryMs = 1000;
  let timer: number | undefined;
  let frame = 0;
  let queued = false;
  /** When the last two updates were shown (performance.now()). */
  let shownAt: [number, number] = [-Infinity, -Infinity];
  let since: number | undefined;
  const show = () => {
    queued = false;
    frame = 0;
    shownAt = [shownAt[1], performance.now()];
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
    // Two updates shown within the last frame: a burst; the rest of it waits for the next frame.
    if (performance.now() - shownAt[0] < FRAME_MS && !document.hidden) frame = requestAnimationFrame(show);
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
      if (old) Object.assign(state, { lanes: share(old.lanes, state.lanes, (l) => l.key, laneSignature), sessions: share(old.sessions, state.sessions, (s) => s.id), workflows: share(old.workflows, state.workflows, (w) => w.runId) });
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
