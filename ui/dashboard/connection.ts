/**
 * The page's one connection: /api/state/stream on the page's own origin. A `snapshot` replaces the
 * state, later frames update parts of it. EventSource reconnects by itself after a server restart
 * (the stream asks for 1 s); when the browser gives up (an error answer), a new one is opened after
 * a growing pause. Each new connection starts with a fresh snapshot, so nothing is missed.
 */
import type { Lane, LogEntry, Session, State, Usage, Workflow } from './types.ts';

export type Status = 'connecting' | 'live' | 'reconnecting';

const MAX_LOG = 500;

export interface Store {
  state: State | undefined;
  status: Status;
  /** Server clock minus page clock (ms), from the last snapshot: countdowns use the server's times. */
  skew: number;
}

export function connect(onChange: (store: Store) => void): () => void {
  const store: Store = { state: undefined, status: 'connecting', skew: 0 };
  const token = new URLSearchParams(location.search).get('auth_token');
  const url = `/api/state/stream${token ? `?auth_token=${encodeURIComponent(token)}` : ''}`;
  let source: EventSource | undefined;
  let retryMs = 1000;
  let timer: number | undefined;
  const changed = () => onChange(store);
  const on = <T>(name: string, apply: (state: State, data: T) => void) => {
    source?.addEventListener(name, (e) => {
      if (!store.state) return;
      apply(store.state, JSON.parse((e as MessageEvent<string>).data) as T);
      changed();
    });
  };
  const open = () => {
    source = new EventSource(url);
    source.addEventListener('snapshot', (e) => {
      const state = JSON.parse((e as MessageEvent<string>).data) as State;
      store.skew = state.now - Date.now();
      store.state = state;
      store.status = 'live';
      retryMs = 1000;
      changed();
    });
    on<Lane[]>('lanes', (s, lanes) => (s.lanes = lanes));
    on<LogEntry[]>('log', (s, entries) => {
      s.log = [...s.log, ...entries].slice(-MAX_LOG);
    });
    on<Usage>('usage', (s, usage) => (s.usage = usage));
    on<Session[]>('sessions', (s, sessions) => (s.sessions = sessions));
    on<Workflow[]>('workflows', (s, workflows) => (s.workflows = workflows));
    source.addEventListener('error', () => {
      if (store.status !== 'reconnecting') {
        store.status = 'reconnecting';
        changed();
      }
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
    source?.close();
  };
}
