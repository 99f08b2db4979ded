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

/** `1 task`, `3 tasks`. */
export function tasks(n: number): string {
  return `${n} task${n === 1 ? '' : 's'}`;
}

export function seconds(ms: number): string {
  if (ms <= 0) return '0 s';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * A time of day as the page shows it, local and 24-hour (14:03:07). Not `Intl.DateTimeFormat`: the
 * first `Intl` object a page makes loads the browser's locale data, ~40–60 ms of its first render.
 */
export function clock(t: number): string {
  const d = new Date(t);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export function windowName(ms: number | undefined): string {
  if (ms === 60_000) return 'per minute';
  if (ms === 86_400_000) return 'per day';
  if (ms === undefined) return '';
  return `per ${seconds(ms)}`;
}
