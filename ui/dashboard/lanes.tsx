/** One card per provider+model lane: state (word and symbol, not only colour), bars, countdown; a card renders only when its lane changed. */
import { memo } from './memo.ts';
import { useEffect, useState } from 'preact/hooks';
import type { Lane, LimitUse } from './types.ts';
import { clock, count, seconds, tasks, usd, windowName } from './format.ts';

const STATE_TEXT: Record<Lane['state'], { symbol: string; text: string }> = {
  idle: { symbol: '○', text: 'idle' },
  busy: { symbol: '●', text: 'busy' },
  waiting: { symbol: '◷', text: 'waiting' },
  full: { symbol: '■', text: 'window full' },
  cooling: { symbol: '❄', text: 'cooling down' },
};

function Bar({ use, label }: { use: LimitUse; label: string }) {
  const ratio = use.limit > 0 ? Math.min(1, use.used / use.limit) : 0;
  const level = ratio >= 1 ? 'full' : ratio >= 0.75 ? 'high' : 'ok';
  return (
    <div class="limit">
      <div class="limit-text">
        <span>{label}</span>
        <span class="num">
          {count(use.used)} / {count(use.limit)}
        </span>
      </div>
      <div class={`bar bar-${level}`} role="meter" aria-valuemin={0} aria-valuemax={use.limit} aria-valuenow={use.used} aria-label={`${label}: ${use.used} of ${use.limit}`}>
        <div class="bar-fill" style={{ width: `${(ratio * 100).toFixed(1)}%` }} />
      </div>
    </div>
  );
}

/** When the lane can next start a request, as the server's clock says (ms since the epoch). */
export function nextStart(lane: Lane): number | undefined {
  if (lane.cooldown) return lane.cooldown.until;
  if (lane.waitUntil !== undefined) return lane.waitUntil;
  if (lane.nextSlotMs > 0) return lane.at + lane.nextSlotMs;
  return undefined;
}

/** Seconds until `until` (the server's clock), ticking every 100 ms on its own until it reaches 0. */
function Countdown({ until, skew }: { until: number | undefined; skew: number }) {
  const [, tick] = useState(0);
  const left = until === undefined ? 0 : Math.max(0, until - (Date.now() + skew));
  const running = left > 0;
  useEffect(() => {
    if (!running) return;
    const id = setInterval(() => tick((n) => n + 1), 100);
    return () => clearInterval(id);
  }, [running, until]);
  return (
    <dd class="num countdown" data-countdown={until === undefined ? '' : String(until)}>
      {until === undefined ? 'now' : seconds(left)}
    </dd>
  );
}

const LaneCard = memo(function LaneCard({ lane, skew }: { lane: Lane; skew: number }) {
  const state = STATE_TEXT[lane.state];
  const until = nextStart(lane);
  return (
    <article class={`lane lane-${lane.state}`} data-lane={lane.model} data-state={lane.state} aria-label={`${lane.model}: ${state.text}`}>
      <header class="lane-head">
        <h3>{lane.model}</h3>
        <span class={`badge badge-${lane.state}`}>
          <span aria-hidden="true">{state.symbol}</span> {state.text}
        </span>
      </header>
      <dl class="lane-figures">
        <div>
          <dt>in flight</dt>
          <dd class="num">{lane.inFlight}</dd>
        </div>
        <div>
          <dt>queued</dt>
          <dd class="num">{lane.queued}</dd>
        </div>
        <div>
          <dt>tokens/min</dt>
          <dd class="num" title={lane.tokensPerMinuteSource === 'ledger' ? 'every process (ledger)' : 'this server'}>
            {count(lane.tokensPerMinute)}
          </dd>
        </div>
        <div>
          <dt>{lane.cooldown ? 'cooldown ends in' : 'next slot'}</dt>
          <Countdown until={until} skew={skew} />
        </div>
      </dl>
      {lane.windows.map((w) => (
        <Bar key={w.label} use={w} label={`${w.scope} requests ${windowName(w.windowMs)}`} />
      ))}
      {lane.tokens.map((t) => (
        <Bar key={t.label} use={t} label={`${t.scope} tokens ${windowName(t.windowMs)}`} />
      ))}
      {lane.concurrency.map((c) => (
        <Bar key={c.label} use={c} label={`${c.scope} in flight`} />
      ))}
      {lane.windows.length + lane.tokens.length + lane.concurrency.length === 0 && <p class="muted">no limits configured</p>}
      {lane.learned.length > 0 && (
        <ul class="quota small" aria-label="quota left, as the provider says">
          {lane.learned.map((l) => (
            <li key={l.name} data-quota={l.name} data-remaining={l.remaining}>
              {l.name === 'retry-after' ? 'provider asked to wait' : `${l.name}: ${count(l.remaining)}${l.limit === undefined ? '' : ` of ${count(l.limit)}`} left`}
              {l.exhausted ? ' (used up)' : ''} <span class="muted">({l.source})</span>
            </li>
          ))}
        </ul>
      )}
      {lane.balances.length > 0 && (
        <p class="balance small" title={`as of ${clock(lane.balances[0]?.at ?? 0)}`}>
          balance{' '}
          {lane.balances.map((b, i) => (
            <span key={b.unit} class="num" data-balance={b.unit} data-amount={b.amount}>
              {i > 0 ? ' · ' : ''}
              {b.unit === 'USD' ? usd(b.amount) : `${b.amount.toLocaleString('en-US', { maximumFractionDigits: 4 })} ${b.unit}`}
            </span>
          ))}
        </p>
      )}
      {lane.blockedBy && lane.state !== 'idle' && <p class="muted small">held by {lane.blockedBy}</p>}
      {lane.cooldown && (
        <p class="muted small">
          {lane.cooldown.unreachable
            ? `this server could not reach it: ${tasks(lane.cooldown.failures)} in a row (other processes and machines still try it)`
            : lane.cooldown.refusedKey
              ? `the provider refused this server's API key: ${tasks(lane.cooldown.failures)} in a row (processes with another key still use it)`
              : `after ${lane.cooldown.failures === 1 ? 'a failed task' : `${lane.cooldown.failures} failed tasks in a row`}`}
        </p>
      )}
    </article>
  );
});

export function Lanes({ lanes, error, skew }: { lanes: Lane[]; error: string | undefined; skew: number }) {
  return (
    <section aria-labelledby="lanes-title" class="panel">
      <h2 id="lanes-title">Lanes</h2>
      {error !== undefined && (
        <p class="warn" role="alert" data-lanes-error>
          The lanes cannot be read now: {error}
        </p>
      )}
      {error === undefined && lanes.length === 0 && <p class="muted">No models configured.</p>}
      <div class="lanes">
        {lanes.map((lane) => (
          <LaneCard key={lane.key} lane={lane} skew={skew} />
        ))}
      </div>
    </section>
  );
}
