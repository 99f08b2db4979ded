/** The dashboard page: one connection to /api/state/stream, rendered with Preact; countdowns tick on the page. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { EventLog } from './event-log.tsx';
import { Sessions, Workflows } from './activity.tsx';
import { connect, type Store } from './connection.ts';
import { LaneCard, nextStart } from './lanes.tsx';
import { UsagePanel } from './usage.tsx';

function useStore(): Store | undefined {
  const [, setTick] = useState(0);
  const [store, setStore] = useState<Store>();
  useEffect(
    () =>
      connect((s) => {
        setStore(s);
        setTick((n) => n + 1);
      }),
    [],
  );
  return store;
}

/** The server's clock now; ticks every 100 ms while a countdown runs, every second otherwise. */
function useNow(skew: number, fast: boolean): number {
  const [now, setNow] = useState(Date.now() + skew);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now() + skew), fast ? 100 : 1000);
    return () => clearInterval(id);
  }, [skew, fast]);
  return Math.max(now, Date.now() + skew - 100);
}

const STATUS_TEXT = { connecting: 'connecting…', live: '● live', reconnecting: '⟳ reconnecting…' };

function App() {
  const store = useStore();
  const state = store?.state;
  const counting = Boolean(state?.lanes.some((l) => nextStart(l) !== undefined));
  const now = useNow(store?.skew ?? 0, counting);
  const status = store?.status ?? 'connecting';
  const shown = Boolean(state);
  useEffect(() => {
    // For bench/dashboard.ts: when the first state was on screen (ms since navigation start).
    if (shown && performance.getEntriesByName('pantheon:first-render').length === 0) performance.mark('pantheon:first-render');
  }, [shown]);
  return (
    <>
      <header class="top">
        <h1>Pantheon</h1>
        <span class={`conn conn-${status}`} role="status" aria-live="polite" data-status={status}>
          {STATUS_TEXT[status]}
        </span>
        {state && <span class="muted small">v{state.version}</span>}
      </header>
      {!state ? (
        <p class="muted boot">Waiting for the server…</p>
      ) : (
        <main>
          <section aria-labelledby="lanes-title" class="panel">
            <h2 id="lanes-title">Lanes</h2>
            {state.lanes.length === 0 && <p class="muted">No models configured.</p>}
            <div class="lanes">
              {state.lanes.map((lane) => (
                <LaneCard key={lane.key} lane={lane} now={now} />
              ))}
            </div>
          </section>
          <div class="columns">
            <EventLog log={state.log} />
            <UsagePanel usage={state.usage} now={now} />
          </div>
          <div class="columns">
            <Sessions sessions={state.sessions} />
            <Workflows workflows={state.workflows} />
          </div>
        </main>
      )}
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
