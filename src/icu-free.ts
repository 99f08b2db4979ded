/**
 * Number formatting and string ordering without ICU. Node loads ICU's number formatter on the
 * first `toLocaleString` and its collator on the first `localeCompare`: 15–80 ms each on this
 * machine kind, paid at start-up when a module's top level formats a number (the server's route
 * descriptions did: `serve` took 14–18 ms longer to be ready) or on the first request that sorts.
 */

/** `n` with commas between thousands and at most three decimals, as `n.toLocaleString('en-US')` writes it. */
export function thousands(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : `${n < 0 ? '-' : ''}\u221e`;
  const size = Math.abs(n);
  const [whole = '0', fraction] = (Number.isInteger(size) ? integerDigits(size) : String(Math.round(size * 1000) / 1000)).split('.');
  return `${n < 0 ? '-' : ''}${whole.replace(/\B(?=(?:\d{3})+$)/g, ',')}${fraction ? `.${fraction}` : ''}`;
}

/** Compares strings by UTF-16 code units (`Array.prototype.sort`'s default order), for ids and keys. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A whole number's digits without an exponent (`1e21` is "1000000000000000000000"), its significant ones as `String` writes them. */
function integerDigits(size: number): string {
  const text = String(size);
  const exponent = /^(\d)(?:\.(\d+))?e\+(\d+)$/.exec(text);
  if (!exponent) return text;
  const decimals = exponent[2] ?? '';
  return `${exponent[1]}${decimals}${'0'.repeat(Number(exponent[3]) - decimals.length)}`;
}
