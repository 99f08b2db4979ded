/**
 * Every printer of the CLI writes through these: text is made safe for a terminal on the way
 * (src/cli/terminal-text.ts), JSON is written exact. Nothing below src/cli prints.
 */
import type { ConfigWarning } from '../config/load.ts';
import { jsonText, MAX_OUTPUT_LINE, safeLine, safeText } from './terminal-text.ts';
import { thousands } from '../icu-free.ts';

/** Warnings shown before the rest are summed up in one line. */
export const MAX_WARNINGS_SHOWN = 50;

/**
 * Text for people on stdout (tables, listings, a tool's or a workflow's output): control
 * characters escaped; on a terminal, lines longer than `MAX_OUTPUT_LINE` characters are cut (piped
 * output keeps them whole).
 */
export function printOut(text: string): void {
  process.stdout.write(safeText(text, process.stdout.isTTY ? MAX_OUTPUT_LINE : null));
}

/** Text on stdout whose outside strings already passed `safeStrings` and that adds its own colour. */
export function printPrepared(text: string): void {
  process.stdout.write(text);
}

/** Diagnostics on stderr (notes, hints, progress): control characters escaped, long lines cut. */
export function printErr(text: string): void {
  process.stderr.write(safeText(text));
}

/** One JSON document on stdout (`--json`): exact JSON, with the characters a terminal acts on escaped as JSON escapes. */
export function printJson(value: unknown, space?: number): void {
  process.stdout.write(`${jsonText(value, space)}\n`);
}

type Warning = Pick<ConfigWarning, 'file' | 'path' | 'message' | 'count'>;

/** `warning: file path: message`, with ` (N times)` for a warning repeated N times. */
export function warningLine(w: Warning): string {
  const where = [w.file, w.path].filter(Boolean).join(' ');
  const times = w.count !== undefined && w.count > 1 ? ` (${thousands(w.count)} times)` : '';
  const message = times && w.message.endsWith('.') ? `${w.message.slice(0, -1)}${times}.` : `${w.message}${times}`;
  return safeLine(`warning: ${where ? `${where}: ` : ''}${message}`);
}

/** Config warnings go to stderr, one line each; after `MAX_WARNINGS_SHOWN`, how many more there are. */
export function printWarnings(warnings: readonly Warning[]): void {
  const shown = warnings.slice(0, MAX_WARNINGS_SHOWN);
  const lines = shown.map(warningLine);
  const more = warnings.length - shown.length;
  if (more > 0) lines.push(`warning: … and ${thousands(more)} more warnings (the first ${MAX_WARNINGS_SHOWN} are listed)`);
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
}

/**
 * Takes stdout for a protocol (`opencode acp`'s JSON-RPC): returns the one writer that reaches it,
 * and sends whatever else writes to stdout from now on (a plugin's `console.log`, a tool's stray
 * output) to stderr instead, so the peer reads nothing but the protocol.
 */
export function claimStdout(): (chunk: Uint8Array) => Promise<void> {
  const out = process.stdout;
  const write = out.write.bind(out) as (chunk: Uint8Array, done: (error?: Error | null) => void) => boolean;
  out.write = ((chunk: string | Uint8Array, encoding?: unknown, done?: unknown) => {
    const callback = typeof encoding === 'function' ? encoding : done;
    return process.stderr.write(chunk, callback as (error?: Error | null) => void);
  }) as typeof out.write;
  return (chunk) => new Promise<void>((resolve, reject) => write(chunk, (error) => (error ? reject(error) : resolve())));
}
