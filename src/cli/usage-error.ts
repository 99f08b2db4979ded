import { closestMatch } from '../config/did-you-mean.ts';
import { PantheonError } from '../errors.ts';

/** Registered commands and their actions, for naming an unknown one and suggesting the closest. */
/**
 * Every command and its actions (aliases included), for "did you mean" on usage errors.
 * test/cli/usage-error.test.ts checks it against what the registered yargs commands list.
 */
export const COMMANDS: Readonly<Record<string, readonly string[]>> = {
  run: [],
  workflow: ['list', 'ls', 'run', 'validate', 'show'],
  config: ['validate', 'show', 'init'],
  doctor: [],
  auth: ['login', 'list', 'ls', 'status', 'logout'],
  session: ['list', 'ls', 'show', 'delete'],
  mcp: ['list', 'ls', 'tools', 'call'],
  agent: ['list', 'ls', 'show'],
  models: [],
  stats: [],
  serve: [],
  dashboard: [],
  completion: [],
};

/** Flags that take a value, so that the value is not mistaken for a positional argument. */
const VALUE_FLAGS = new Set(['--config', '--agent', '-a', '--model', '-m', '--file', '-f', '--format', '--timeout', '--preset', '--out', '--check', '--args', '--session', '-s', '--input', '-i', '--resume', '--output', '--port', '--hostname', '--cors', '--log-level', '--days', '--provider']);

function positionals(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') break;
    if (token.startsWith('-')) {
      if (VALUE_FLAGS.has(token)) i++;
      continue;
    }
    out.push(token);
  }
  return out;
}

/** The known command and action named on the command line, e.g. ['config', 'init']. */
function commandPath(argv: readonly string[]): string[] {
  const [command, action] = positionals(argv);
  if (command === undefined || !Object.hasOwn(COMMANDS, command)) return [];
  return action !== undefined && (COMMANDS[command] ?? []).includes(action) ? [command, action] : [command];
}

function suggestion(word: string, candidates: readonly string[]): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : `; did you mean "${match}"?`;
}

/** Ends a sentence with a full stop unless it already ends with punctuation. */
function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

function isOption(name: string, argv: readonly string[]): boolean {
  return argv.some((t) => t === `--${name}` || t === `-${name}` || t.startsWith(`--${name}=`) || t === `--no-${name}`);
}

function helpHint(path: string[]): string {
  return `See \`opencode ${path.length ? `${path.join(' ')} ` : ''}--help\`.`;
}

function unknownArguments(names: string[], argv: readonly string[]): PantheonError {
  const pos = positionals(argv);
  const [command, action] = pos;
  if (command !== undefined && !Object.hasOwn(COMMANDS, command)) {
    const names = Object.keys(COMMANDS);
    return new PantheonError('USAGE', sentence(`Unknown command "${command}"${suggestion(command, names)}`), {
      hint: `Commands: ${names.join(', ')}. ${helpHint([])}`,
    });
  }
  const actions = command === undefined ? [] : (COMMANDS[command] ?? []);
  if (command !== undefined && action !== undefined && actions.length > 0 && !actions.includes(action)) {
    return new PantheonError('USAGE', sentence(`Unknown ${command} action "${action}"${suggestion(action, actions)}`), {
      hint: `Actions: ${actions.join(', ')}. ${helpHint([command])}`,
    });
  }
  const path = commandPath(argv);
  const options = names.filter((n) => isOption(n, argv)).map((n) => `--${n}`);
  const extra = names.filter((n) => !isOption(n, argv)).map((n) => `"${n}"`);
  const parts = [
    options.length ? `unknown option${options.length > 1 ? 's' : ''} ${options.join(', ')}` : '',
    extra.length ? `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.join(', ')}` : '',
  ].filter(Boolean);
  const what = parts.join(' and ') || 'invalid command line';
  const text = path.length ? `${path.join(' ')}: ${what}` : `${what.charAt(0).toUpperCase()}${what.slice(1)}`;
  return new PantheonError('USAGE', sentence(text), { hint: helpHint(path) });
}

/**
 * Turns a yargs validation message into one clear sentence with a hint: unknown commands and
 * actions (with "did you mean"), unknown options, bad choices, missing values.
 */
export function usageError(message: string | undefined, argv: readonly string[]): PantheonError {
  const text = (message ?? '').trim();
  const command = commandPath(argv);
  const unknown = /^Unknown arguments?: (.+)$/s.exec(text);
  if (unknown) return unknownArguments((unknown[1] as string).split(/,\s*/), argv);
  if (/^Did you mean /.test(text)) return unknownArguments([], argv);
  const choice = /Argument: ([\w-]+), Given: (.+?), Choices: (.+)$/m.exec(text);
  if (choice) {
    return new PantheonError('USAGE', `--${choice[1]}: expected one of ${(choice[3] as string).replace(/"/g, '')}, found ${choice[2]}.`, {
      hint: helpHint(command),
    });
  }
  const missing = /^Missing required arguments?: (.+)$/.exec(text);
  if (missing) {
    const flags = (missing[1] as string).split(/,\s*/).map((n) => `--${n}`).join(', ');
    return new PantheonError('USAGE', `${command.length ? `${command.join(' ')}: ` : ''}${flags} is required.`, { hint: helpHint(command) });
  }
  const few = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(text);
  if (few) {
    const [got, need] = [Number(few[1]), Number(few[2])];
    return new PantheonError('USAGE', `${command.length ? `${command.join(' ')}: ` : ''}expected ${need} argument${need === 1 ? '' : 's'}, found ${got === 0 ? 'none' : got}.`, { hint: helpHint(command) });
  }
  const noValue = /^Not enough arguments following: (.+)$/.exec(text);
  if (noValue) return new PantheonError('USAGE', `--${noValue[1] as string} needs a value.`, { hint: helpHint(command) });
  return new PantheonError('USAGE', sentence(text.split('\n')[0] || 'Invalid command line'), { hint: helpHint(command) });
}
