/** Numbers, money and durations as the page shows them. */
export function usd(n: number | undefined): string {
  if (n === undefined) return '—';
  if (n === 0) return '$0';
  if (n < 0.01) return `$${n.toFixed(6)}`;
  return `$${n.toFixed(n < 10 ? 4 : 2)}`;
}

export function count(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 10_000) return `${(n / 1000).toFixed(1)}k`;
  return String(Math.round(n));
}

export function seconds(ms: number): string {
  if (ms <= 0) return '0 s';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** One formatter for every time shown: `toLocaleTimeString` with options builds a new one on each call. */
const CLOCK = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

export function clock(t: number): string {
  return CLOCK.format(t);
}

export function windowName(ms: number | undefined): string {
  if (ms === 60_000) return 'per minute';
  if (ms === 86_400_000) return 'per day';
  if (ms === undefined) return '';
  return `per ${seconds(ms)}`;
}
