import { setDebugSink } from '../debug-note.ts';
import { PantheonError } from '../errors.ts';
import { printErr } from './print.ts';

/** OpenCode's `--log-level` choices, as its `--help` spells them. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * OpenCode's global flags, on every command: `--print-logs`, `--log-level`, `--pure`. Pantheon keeps
 * no log file, so its warnings and errors always go to stderr; `--log-level DEBUG` adds its debug notes
 * (what `--debug` prints, without the stack traces); `--pure` loads no plugins (OpenCode's `OPENCODE_PURE`).
 */
export const LOG_OPTIONS = {
  'print-logs': { type: 'boolean', describe: 'OpenCode\'s: print logs to stderr. Pantheon keeps no log file: its warnings and errors always go to stderr', global: true },
  'log-level': { type: 'string', describe: 'DEBUG adds Pantheon\'s debug notes on stderr; INFO, WARN and ERROR change nothing (warnings and errors always show). Choices: DEBUG, INFO, WARN, ERROR (any case)', global: true },
  pure: { type: 'boolean', describe: 'Run without plugins (the config\'s `plugin` list and the plugin/ folders; custom tools still load), as OPENCODE_PURE=1', global: true },
} as const;

/** `--log-level`'s value: one of OpenCode's choices in any case; repeated, the last counts (as yargs takes a repeated choice). */
export function parseLogLevel(value: unknown): LogLevel | undefined {
  if (value === undefined) return undefined;
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  const level = LOG_LEVELS.find((l) => l === text.toUpperCase());
  if (level === undefined) {
    const shown = text.length > 40 ? `${text.slice(0, 39)}\u2026` : text;
    throw new PantheonError('USAGE', `--log-level: expected one of DEBUG, INFO, WARN, ERROR, found ${text === '' ? 'nothing' : JSON.stringify(shown)}.`, {
      hint: 'For example --log-level DEBUG (lower case works too).',
    });
  }
  return level;
}

/** Middleware: checks `--log-level` and, at DEBUG, sends the debug notes to stderr (as `--debug` does); `--pure` sets OPENCODE_PURE. */
export function applyLogFlags(args: { logLevel?: unknown; 'log-level'?: unknown; debug?: unknown; pure?: unknown }): void {
  const level = parseLogLevel(args['log-level'] ?? args.logLevel);
  // As OpenCode: the flag is its environment variable, which every part that loads plugins reads.
  if (args.pure === true) process.env.OPENCODE_PURE = '1';
  if (level === 'DEBUG' && !args.debug) setDebugSink((text) => printErr(`debug: ${text}\n`));
}
