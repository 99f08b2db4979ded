/** The event log: retries, fallbacks, rate-limit waits, cache hits, errors; filterable; each row links to its session. */
import { useState } from 'preact/hooks';
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

function Filter({ label, value, options, onChange }: { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
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
}

const distinct = (values: (string | undefined)[]) => [...new Set(values.filter((v): v is string => Boolean(v)))].sort();

/** One entry: its object never changes, so it renders once. */
const Row = memo(function Row({ e }: { e: LogEntry }) {
  return (
    <tr class={`log-${e.type}`} data-type={e.type} data-time={e.time} data-seq={e.seq}>
      <td class="num">{clock(e.time)}</td>
      <td>{TYPE_TEXT[e.type]}</td>
      <td>{e.agent ?? ''}</td>
      <td>{e.model ?? e.provider ?? ''}</td>
      <td class="what">{what(e)}</td>
      <td>
        <a href={`#session-${e.sessionID}`}>{e.sessionID.slice(-8)}</a>
      </td>
    </tr>
  );
});

export const EventLog = memo(function EventLog({ log }: { log: LogEntry[] }) {
  const [agent, setAgent] = useState('');
  const [provider, setProvider] = useState('');
  const [session, setSession] = useState('');
  const shown = log.filter((e) => (!agent || e.agent === agent) && (!provider || e.provider === provider) && (!session || e.sessionID === session)).slice(-200).reverse();
  return (
    <section aria-labelledby="log-title" class="panel">
      <h2 id="log-title">Event log</h2>
      <div class="filters">
        <Filter label="agent" value={agent} options={distinct(log.map((e) => e.agent))} onChange={setAgent} />
        <Filter label="provider" value={provider} options={distinct(log.map((e) => e.provider))} onChange={setProvider} />
        <Filter label="session" value={session} options={distinct(log.map((e) => e.sessionID))} onChange={setSession} />
      </div>
      {shown.length === 0 ? (
        <p class="muted">No retries, fallbacks, rate-limit waits, cache hits or errors{log.length ? ' match the filters' : ' yet'}.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} aria-label="event log entries">
          <table class="log">
            <thead>
              <tr>
                <th scope="col">time</th>
                <th scope="col">event</th>
                <th scope="col">agent</th>
                <th scope="col">model</th>
                <th scope="col">what</th>
                <th scope="col">session</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((e) => (
                <Row key={e.seq} e={e} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
});
