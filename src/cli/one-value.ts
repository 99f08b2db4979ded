import { PantheonError } from '../errors.ts';

/**
 * A flag that takes one value: yargs gives an array when it is repeated, which the actions would
 * otherwise pass on as if it were text (an internal error, or a name made of both joined by a
 * comma). Repeated, it is a usage error naming the flag.
 */
export function oneValue(value: unknown, flag: string, what: string, hint: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new PantheonError('USAGE', `${flag}: expected one ${what}, found ${value.length}.`, { hint });
  return String(value);
}
