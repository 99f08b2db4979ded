/**
 * The event log: retries, fallbacks, rate-limit waits, cache hits, errors; filterable; each row links
 * to its session (the session filter matches any part of its id). Virtualised: rows have a fixed height and only those in view (and a few around
 * them) are in the DOM, so a burst of a thousand entries costs the same to show as a few. Laid out as
 * a grid of fixed columns, not as a table (the table's semantics are kept by ARIA roles): each row is
 * placed on its own, so a new entry on top moves the rows below without laying them out again.
 */
import { useMemo, useRef, useState } from 'preact/hooks';
import { memo } from './memo.ts';
import type { LogEntry } from './types.ts';
import { clock, seconds } from './format.ts';

const TYPE_TEXT: Record<LogEntry['type'], string> = {
  retry: '↻ retry',
  fallback: '⇢ fallback',
  rate_limited: '◷ rate limit',
  cache_hit: '✓ cache hit',
  error: '✖ error',
  warning: '⚠ warning',
};

function what(e: LogEntry): string {
  switch (e.type) {
    case 'retry':
      return `attempt ${e.attempt ?? '?'} got ${e.status ?? '?'}; again in ${seconds(e.delayMs ?? 0)}${e.message ? ` — ${e.message}` : ''}`;
    case 'fallback':
      return `${e.from ?? '?'} → ${e.to ?? '?'} (${(e.reason ?? '').replace(/_/g, ' ')})`;
    case 'rate_limited':
      return `waits ${seconds(e.waitMs ?? 0)}${e.limit ? ` for ${e.limit}` : ''}`;
    case 'cache_hit':
      return 'answered from the cache';
    default:
      return `${e.code ?? ''} ${e.message ?? ''}`.trim();
  }
}

const Filter = memo(function Filter({ label, value, options, onChange }: { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  return (
    <label class="filter">
      {label}{' '}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
});

/**
 * The session filter: a search box (any part of the id, as the log rows show its last 8 characters)
 * with the known ids as suggestions. Not a <select>: a select of every session in the log (hundreds
 * under load) is measured option by option each time one is added, which cost the page most of its
 * layout time under a stream of turns; a datalist is never laid out.
 */
function SessionFilter({ value, options, onInput }: { value: string; options: () => string[]; onInput: (v: string) => void }) {
  // The suggestions show only while the box has focus: they are listed then, and not kept up to date meanwhile.
  const [focused, setFocused] = useState(false);
  return (
    <label class="filter">
      session{' '}
      <input type="search" class="session-filter" list="log-sessions" value={value} placeholder="all" spellcheck={false} autocomplete="off" onInput={(e) => onInput((e.target as HTMLInputElement).value)} onFocus={() => setFocused(true)} onBlur={() => setFocused(false)} />
      <datalist id="log-sessions">
        {focused &&
          options().map((o) => (
            <option key={o} value={o} />
          ))}
      </datalist>
    </label>
  );
}

const distinct = (values: (string | undefined)[]) => [...new Set(values.filter((v): v is string => Boolean(v)))].sort();

/** `list`, or the array given last time when it holds the same items (so a filter's options do not render again). */
function useSteady(list: string[]): string[] {
  const last = useRef(list);
  if (last.current.length !== list.length || last.current.some((v, i) => v !== list[i])) last.current = list;
  return last.current;
}

/** A row's height in px (the stylesheet's `.log tbody tr`), the list's visible height, and rows rendered beyond it on each side. */
const ROW_PX = 26;
const VIEW_PX = 360;
const OVERSCAN = 8;

/** One entry's cells: rendered once per entry, however often its row moves. */
const Cells = memo(function Cells({ e }: { e: LogEntry }) {
  const text = what(e);
  return (
    <>
      <td role="cell" class="num">{clock(e.time)}</td>
      <td role="cell">{TYPE_TEXT[e.type]}</td>
      <td role="cell">{e.agent ?? ''}</td>
      <td role="cell">{e.model ?? e.provider ?? ''}</td>
      <td role="cell" class="what" title={text}>
        {text}
      </td>
      <td role="cell">
        <a href={`#session-${e.sessionID}`}>{e.sessionID.slice(-8)}</a>
      </td>
    </>
  );
});

/**
 * One entry, placed by a transform at its row of the list: when a new entry comes in on top, the rows
 * below only move (their layout and paint are kept, their cells are not rendered again), none is laid out again.
 */
const Row = memo(function Row({ e, index }: { e: LogEntry; index: number }) {
  return (
    <tr role="row" class={`log-${e.type}`} data-type={e.type} data-time={e.time} data-seq={e.seq} aria-rowindex={index + 2} style={{ transform: `translateY(${index * ROW_PX}px)` }}>
      <Cells e={e} />
    </tr>
  );
});

export const EventLog = memo(function EventLog({ log }: { log: LogEntry[] }) {
  const [agent, setAgent] = useState('');
  const [provider, setProvider] = useState('');
  const [session, setSession] = useState('');
  const [top, setTop] = useState(0);
  const options = useMemo(() => ({ agents: distinct(log.map((e) => e.agent)), providers: distinct(log.map((e) => e.provider)), sessions: () => distinct(log.map((e) => e.sessionID)) }), [log]);
  const agents = useSteady(options.agents);
  const providers = useSteady(options.providers);
  // Newest first.
  const shown = useMemo(() => log.filter((e) => (!agent || e.agent === agent) && (!provider || e.provider === provider) && (!session || e.sessionID.includes(session.trim()))).reverse(), [log, agent, provider, session]);
  const first = Math.min(shown.length, Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN));
  const last = Math.min(shown.length, Math.ceil((top + VIEW_PX) / ROW_PX) + OVERSCAN);
  return (
    <section aria-labelledby="log-title" class="panel">
      <h2 id="log-title">Event log</h2>
      <div class="filters">
        <Filter label="agent" value={agent} options={agents} onChange={setAgent} />
        <Filter label="provider" value={provider} options={providers} onChange={setProvider} />
        <SessionFilter value={session} options={options.sessions} onInput={setSession} />
        <span class="muted small" data-log-count={shown.length}>
          {shown.length} {shown.length === 1 ? 'entry' : 'entries'}, newest first
        </span>
      </div>
      {shown.length === 0 ? (
        <p class="muted">No retries, fallbacks, rate-limit waits, cache hits or errors{log.length ? ' match the filters' : ' yet'}.</p>
      ) : (
        <div class="table-wrap log-scroll" tabIndex={0} aria-label="event log entries" onScroll={(e) => setTop((e.currentTarget as HTMLElement).scrollTop)}>
          <table class="log" role="table" aria-rowcount={shown.length + 1}>
            <thead role="rowgroup">
              <tr role="row">
                <th role="columnheader" scope="col">time</th>
                <th role="columnheader" scope="col">event</th>
                <th role="columnheader" scope="col">agent</th>
                <th role="columnheader" scope="col">model</th>
                <th role="columnheader" scope="col">what</th>
                <th role="columnheader" scope="col">session</th>
              </tr>
            </thead>
            <tbody role="rowgroup" style={{ height: `${shown.length * ROW_PX}px` }}>
              {shown.slice(first, last).map((e, i) => (
                <Row key={e.seq} e={e} index={first + i} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
});
