import { spendText } from '../../run/budget.ts';
import type { PantheonEvent } from '../../events.ts';
import { MAX_OUTPUT_LINE, SafeTextStream, safeLine } from '../terminal-text.ts';

export interface TextRendererOptions {
  /** The answer's stream; on a terminal (`isTTY`) its very long lines are cut. */
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  /** Live status line and colour on stderr (a TTY without NO_COLOR). */
  live: boolean;
}

const dim = (s: string, on: boolean) => (on ? `\x1b[2m${s}\x1b[22m` : s);
const yellow = (s: string, on: boolean) => (on ? `\x1b[33m${s}\x1b[39m` : s);

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function clip(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The argument that says what a tool call is about: a path, a command, a pattern, an agent. */
export function toolSubject(tool: string, input: unknown): string {
  const args = input !== null && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  if (tool === 'task' && typeof args.agent === 'string') return `→ ${args.agent}`;
  if (tool === 'todowrite' && Array.isArray(args.todos)) {
    const todos = args.todos as { status?: unknown; content?: unknown }[];
    const done = todos.filter((t) => t?.status === 'completed').length;
    const now = todos.find((t) => t?.status === 'in_progress');
    return `${todos.length} item${todos.length === 1 ? '' : 's'}, ${done} done${typeof now?.content === 'string' ? ` · now: ${clip(now.content)}` : ''}`;
  }
  for (const key of ['filePath', 'command', 'pattern', 'url', 'path']) {
    if (typeof args[key] === 'string') return clip(args[key] as string);
  }
  return clip(JSON.stringify(input) ?? '');
}

/**
 * Describes an event in one line for stderr (made safe for a terminal: it quotes providers and
 * tools), or undefined for events that are not shown there.
 */
export function describeEvent(e: PantheonEvent): string | undefined {
  const line = eventLine(e);
  return line === undefined ? undefined : safeLine(line);
}

function eventLine(e: PantheonEvent): string | undefined {
  const who = e.agent ? `${e.agent} ` : '';
  switch (e.type) {
    case 'warning':
      return `warning: ${e.message}`;
    case 'tool_use':
      return `${who}${e.tool} ${toolSubject(e.tool, e.input)}${e.diff ? ` +${e.diff.additions} −${e.diff.deletions}` : ''}${e.error === undefined ? '' : ` ✗ ${clip(e.error, 300)}`}`;
    case 'retry':
      return `${who}retry ${e.attempt} on ${e.model} in ${seconds(e.delayMs)} (${e.status}${e.message ? `: ${e.message}` : ''})`;
    case 'fallback':
      return `${who}fallback ${e.from} → ${e.to} (${e.reason.replace(/_/g, ' ')})`;
    case 'rate_limited':
      // A wait under 50 ms is a slot changing hands, not news; the summary still counts it.
      if (e.waitMs < 50) return undefined;
      return `${who}waiting ${seconds(e.waitMs)} for ${e.limit ?? e.model} (rate limit)`;
    case 'cache_hit':
      return `${who}cache hit (${e.model})`;
    case 'budget_warning':
      return `${who}budget ${e.budget} is ${e.percent}% spent (${spendText(e)})`;
    case 'budget_exceeded':
      return `${who}budget ${e.budget} would be exceeded (${spendText(e)}): ${e.action === 'downgrade' ? `downgrading to ${e.to ?? 'budget.downgrade'}` : e.action === 'stop' ? 'no more tasks start' : 'the task fails'}`;
    default:
      return undefined;
  }
}

/**
 * Streams answer text to stdout and shows retries, fallbacks, rate-limit waits and cache hits on
 * stderr: as a live line that rewrites itself on a TTY, as plain lines elsewhere.
 */
export class TextRenderer {
  private readonly o: TextRendererOptions;
  private statusShown = false;
  private endsWithNewline = true;
  /** The answer, escaped as it streams. */
  private readonly answer: SafeTextStream;

  constructor(options: TextRendererOptions) {
    this.o = options;
    this.answer = new SafeTextStream(options.out.isTTY ? MAX_OUTPUT_LINE : undefined);
  }

  handle(e: PantheonEvent): void {
    // A delegated task's answer reaches the user through its parent; only the top-level task streams.
    if (e.type === 'text' && e.parentTaskID !== undefined) return;
    if (e.type === 'text') {
      this.clearStatus();
      const shown = this.answer.write(e.text);
      this.o.out.write(shown);
      if (shown.length) this.endsWithNewline = shown.endsWith('\n');
      return;
    }
    const line = describeEvent(e);
    if (!line) return;
    if (this.o.live) {
      this.clearStatus();
      this.o.err.write(e.type === 'tool_use' ? dim(`▸ ${line}`, true) : yellow(`⟳ ${line}`, true));
      this.statusShown = true;
      // retries and fallbacks stay on screen; waits are replaced by what comes next
      if (e.type !== 'rate_limited') {
        this.o.err.write('\n');
        this.statusShown = false;
      }
    } else {
      this.o.err.write(`${line}\n`);
    }
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.o.err.write('\r\x1b[2K');
      this.statusShown = false;
    }
  }

  /** Ends the answer with a newline and prints the summary line on stderr. */
  finish(summary: string): void {
    this.clearStatus();
    const rest = this.answer.end();
    if (rest) this.o.out.write(rest);
    if (!this.endsWithNewline || rest) this.o.out.write('\n');
    this.o.err.write(dim(safeLine(summary), this.o.live) + '\n');
  }
}
