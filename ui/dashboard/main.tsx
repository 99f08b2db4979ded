/**
 * The dashboard page: one connection to /api/state/stream, rendered with Preact. Each part of the
 * page is a memoised component fed one part of the state, so a frame renders only what it changed;
 * countdowns tick on their own.
 */
import { render } from 'preact';
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { EventLog } from './event-log.tsx';
import { Sessions, Workflows } from './activity.tsx';
import { connect, initialStore, type Store } from './connection.ts';
import { Lanes } from './lanes.tsx';
import { UsagePanel } from './usage.tsx';

const STATUS_TEXT = { connecting: 'connecting…', live: '● live', reconnecting: '⟳ reconnecting…' };
/** The User Timing names other tools read: the first state on screen, and each update (frame arrival → DOM updated). */
const FIRST_RENDER = 'pantheon:first-render';
const UPDATE = 'pantheon:update';

function App({ initial }: { initial: Store }) {
  const [store, setStore] = useState<Store>(initial);
  useEffect(() => connect(initial, setStore), []);
  useLayoutEffect(() => {
    // Runs once the DOM shows this update: the latest update's latency is one measure (kept alone, so none pile up).
    if (store.since === undefined) return;
    performance.clearMeasures(UPDATE);
    performance.measure(UPDATE, { start: store.since, end: performance.now() });
  }, [store]);
  const shown = Boolean(store.state);
  useEffect(() => {
    // Preact runs this after the browser painted the first state (bench/dashboard.ts reads it).
    if (shown && performance.getEntriesByName(FIRST_RENDER).length === 0) performance.mark(FIRST_RENDER);
  }, [shown]);
  const { state, status, skew } = store;
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
          <Lanes lanes={state.lanes} error={state.lanesError} skew={skew} />
          <div class="columns">
            <EventLog log={state.log} />
            <UsagePanel usage={state.usage} skew={skew} />
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
  // The state the server put in the page: the first render shows it, before the stream is open.
  render(<App initial={initialStore()} />, root);
}
