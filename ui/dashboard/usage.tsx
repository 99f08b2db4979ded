/** Usage and cost: today and since start per agent, provider and model, the day's projection, and a chart over time. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { Bucket, Figures, Totals, Usage } from './types.ts';
import { count, usd } from './format.ts';
import { memo } from './memo.ts';

/** The server's clock now; the component renders again every 10 s (the chart's buckets are minutes and hours). */
function useMinuteClock(skew: number): number {
  const [, tick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => tick((n) => n + 1), 10_000);
    return () => clearInterval(id);
  }, []);
  return Date.now() + skew;
}

function Table({ title, rows }: { title: string; rows: Record<string, Figures> }) {
  const entries = Object.entries(rows).sort((a, b) => b[1].costUSD - a[1].costUSD || b[1].inputTokens + b[1].outputTokens - (a[1].inputTokens + a[1].outputTokens));
  return (
    <table class="usage-table">
      <caption>{title}</caption>
      <thead>
        <tr>
          <th scope="col">name</th>
          <th scope="col">calls</th>
          <th scope="col">tokens in / out</th>
          <th scope="col">cost</th>
        </tr>
      </thead>
      <tbody>
        {entries.length === 0 && (
          <tr>
            <td colSpan={4} class="muted">
              none yet
            </td>
          </tr>
        )}
        {entries.map(([name, f]) => (
          <tr key={name} data-name={name}>
            <th scope="row">{name}</th>
            <td class="num">{f.requests}</td>
            <td class="num">
              {count(f.inputTokens)} / {count(f.outputTokens)}
            </td>
            <td class="num" data-cost={f.costUSD}>
              {usd(f.costUSD)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Buckets of `size` ms over the last `n` of them, the empty ones as zeros. */
function filled(buckets: Bucket[], size: number, n: number, now: number): [number[], number[], number[]] {
  const end = Math.floor(now / size) * size;
  const by = new Map(buckets.map((b) => [b.t, b]));
  const xs: number[] = [];
  const tokens: number[] = [];
  const cost: number[] = [];
  for (let t = end - (n - 1) * size; t <= end; t += size) {
    const b = by.get(t);
    xs.push(t / 1000);
    tokens.push(b ? b.inputTokens + b.outputTokens : 0);
    cost.push(b ? b.costUSD : 0);
  }
  return [xs, tokens, cost];
}

let plotModule: Promise<typeof uPlot> | undefined;

/** uPlot, imported on first use (ui/dashboard/plot.ts says why); after a failed import the next call tries again. */
function loadPlot(): Promise<typeof uPlot> {
  plotModule ??= import('./plot.ts').then(
    (m) => m.default,
    (error: unknown) => {
      plotModule = undefined;
      throw error;
    },
  );
  return plotModule;
}

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function Chart({ usage, scale, skew }: { usage: Usage; scale: 'minute' | 'hour'; skew: number }) {
  const now = useMinuteClock(skew);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = scale === 'minute' ? filled(usage.perMinute, 60_000, 60, now) : filled(usage.perHour, 3_600_000, 24, now);
  // What the chart shows once uPlot has loaded, should the figures change while it loads.
  const latest = useRef(data);
  latest.current = data;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let gone = false;
    let retry: number | undefined;
    const resize = () => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 180 });
    const create = (Plot: typeof uPlot) => {
      if (gone) return;
      const axis = { stroke: css('--muted'), grid: { stroke: css('--grid') }, ticks: { stroke: css('--grid') } };
      plot.current = new Plot(
        {
          width: Math.max(280, el.clientWidth),
          height: 180,
          legend: { show: true },
          scales: { x: { time: true }, usd: { auto: true } },
          series: [
            {},
            { label: 'tokens', stroke: css('--accent'), fill: css('--accent-soft'), width: 2 },
            { label: 'USD', stroke: css('--warn'), scale: 'usd', width: 2, dash: [6, 4], value: (_u: uPlot, v: number | null) => (v == null ? '—' : usd(v)) },
          ],
          axes: [axis, { ...axis, label: 'tokens' }, { ...axis, scale: 'usd', side: 1, label: 'USD', values: (_u: uPlot, vals: number[]) => vals.map((v) => usd(v)) }],
        },
        latest.current,
        el,
      );
      window.addEventListener('resize', resize);
    };
    // The file could not be loaded (the server restarting, say): tried again every 2 s while shown,
    // five times at most (a browser may keep a failed module's answer, and each try logs an error).
    let tries = 0;
    const load = (): void => {
      loadPlot().then(create, () => {
        if (!gone && ++tries < 5) retry = window.setTimeout(load, 2000);
      });
    };
    load();
    return () => {
      gone = true;
      clearTimeout(retry);
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [scale]);
  // Redrawn only when the figures change, not on every update of the page.
  const key = JSON.stringify(data);
  useEffect(() => {
    plot.current?.setData(data);
  }, [key]);
  return <div ref={box} class="chart" role="img" aria-label={`tokens and USD per ${scale}`} />;
}

function Totals({ title, t, name }: { title: string; t: Totals; name: string }) {
  return (
    <div class="totals" data-totals={name} data-requests={t.requests}>
      <h3>{title}</h3>
      <p class="big num" data-total-cost={t.costUSD}>
        {usd(t.costUSD)}
      </p>
      <p class="muted small num">
        {t.requests} calls · {count(t.inputTokens)} in / {count(t.outputTokens)} out
      </p>
    </div>
  );
}

export const UsagePanel = memo(function UsagePanel({ usage, skew }: { usage: Usage; skew: number }) {
  const [scale, setScale] = useState<'minute' | 'hour'>('minute');
  const [view, setView] = useState<'today' | 'sinceStart'>('today');
  const totals = usage[view];
  return (
    <section aria-labelledby="usage-title" class="panel">
      <h2 id="usage-title">Usage and cost</h2>
      <div class="totals-row">
        <Totals title="today" name="today" t={usage.today} />
        <Totals title="since the server started" name="sinceStart" t={usage.sinceStart} />
        <div class="totals">
          <h3>projected for today</h3>
          <p class="big num">{usd(usage.projection.costUSD)}</p>
          <p class="muted small num">
            at {usd(usage.projection.perHourUSD)}/h, {count(usage.projection.perHourTokens)} tokens/h (last {usage.projection.basisMinutes} min)
          </p>
        </div>
      </div>
      <div class="toggle" role="group" aria-label="chart scale">
        <button type="button" aria-pressed={scale === 'minute'} onClick={() => setScale('minute')}>
          per minute
        </button>
        <button type="button" aria-pressed={scale === 'hour'} onClick={() => setScale('hour')}>
          per hour
        </button>
      </div>
      <Chart usage={usage} scale={scale} skew={skew} />
      <div class="toggle" role="group" aria-label="totals period">
        <button type="button" aria-pressed={view === 'today'} onClick={() => setView('today')}>
          today
        </button>
        <button type="button" aria-pressed={view === 'sinceStart'} onClick={() => setView('sinceStart')}>
          since start
        </button>
      </div>
      <div class="usage-tables">
        <Table title="by agent" rows={totals.byAgent} />
        <Table title="by provider" rows={totals.byProvider} />
        <Table title="by model" rows={totals.byModel} />
      </div>
    </section>
  );
});
