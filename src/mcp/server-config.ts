/**
 * An `mcp.<name>` entry in the form the client needs. OpenCode's config admits two shorthands that
 * still name a server: an entry without `type` (its `{enabled}` switch branch, which lets other keys
 * through) that has a `command` (local) or `url` (remote), and a local `command` written as one
 * string (`"npx -y @modelcontextprotocol/server-memory"`), split into words as a shell would
 * (quotes group, backslash escapes; no expansion).
 */
import type { McpConfig } from '../config/schema-types.ts';

export interface ServerConfig extends Omit<McpConfig, 'type' | 'command'> {
  type: 'local' | 'remote';
  command?: string[];
}

/** Splits a command line into words: whitespace separates, '…' and "…" group, \ escapes. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let started = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

/** The entry as a server of a known kind (`remote` when it has a url and no command). */
export function serverConfig(entry: McpConfig): ServerConfig {
  const { command, type, ...rest } = entry;
  const argv = typeof command === 'string' ? splitCommand(command) : command;
  const kind = type ?? (argv === undefined && rest.url !== undefined ? 'remote' : 'local');
  return { ...rest, type: kind, ...(argv === undefined ? {} : { command: argv }) };
}
