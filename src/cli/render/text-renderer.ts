import { spendText } from '../../run/budget.ts';
import type { PantheonEvent } from '../../events.ts';
import { MAX_OUTPUT_LINE, SafeTextStream, safeLine } from '../terminal-text.ts';

export interface TextRendererOptions {
  /** The answer's stream; on a terminal (`isTTY`) its very long lines are cut. */
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  /** Live status line and colour on stderr (a TTY without NO_COLOR). */
  live: boolean;
  /** `run --thinking`: the model's reasoning blocks on stdout, as `Thinking: …` (dim italic on a terminal). */
  thinking?: boolean;
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
  // OpenCode's MCP resource tools: the server, and the URI read.
  if (tool === 'read_mcp_resource' || tool === 'list_mcp_resources' || tool === 'list_mcp_resource_templates') {
    return clip([args.server, args.uri].filter((v) => typeof v === 'string').join(' '));
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
 * stderr: as a live line that rewrites itself on a TTY, as plain lines elsewhere. When stdout is a
 * terminal too, a tool call is a live line while the model writes it (`⋯ sisyphus bash`) and while
 * it runs (`⋯ sisyphus bash npm test`), until its result line replaces it; a permission question
 * clears it while it is asked (`prompting`).
 */
export class TextRenderer {
  private readonly o: TextRendererOptions;
  private statusShown = false;
  private endsWithNewline = true;
  /** The answer, escaped as it streams. */
  private readonly answer: SafeTextStream;
  /** Running calls shown live (stdout and stderr terminals): their lines by call, oldest first. */
  private readonly running = new Map<string, string>();
  /** Of those, the calls the model is still writing (no `tool_start` yet), with their task. */
  private readonly written = new Map<string, string | undefined>();
  private readonly liveTools: boolean;
  /** stdout and stderr are terminals: the answer and the lines on stderr share one screen. */
  private readonly terminal: boolean;
  /** Questions being asked: no live line is drawn under them. */
  private prompts = 0;
  private calls = 0;

  constructor(options: TextRendererOptions) {
    this.o = options;
    this.answer = new SafeTextStream(options.out.isTTY ? MAX_OUTPUT_LINE : undefined);
    this.terminal = Boolean(options.out.isTTY && options.err.isTTY);
    this.liveTools = options.live && this.terminal;
  }

  /** A reasoning block as OpenCode's `run --thinking` prints it: `Thinking: …` on a line of its own (then a blank line on a terminal). */
  private writeThinking(text: string): void {
    this.clearStatus();
    if (!this.endsWithNewline) this.o.out.write(this.answer.write('\n'));
    // Escaped and cut as the answer is (the same stream keeps its count of the line).
    const body = this.answer.write(`Thinking: ${text.trim()}\n`);
    // As OpenCode: piped, the line alone; on a terminal, dim italics and a blank line after.
    if (!this.o.out.isTTY) this.o.out.write(body);
    else this.o.out.write(`${process.env.NO_COLOR ? body : `\x1b[2m\x1b[3m${body}\x1b[23m\x1b[22m`}\n`);
    this.endsWithNewline = true;
  }

  handle(e: PantheonEvent): void {
    // A delegated task's answer reaches the user through its parent; only the top-level task streams.
    if (e.type === 'text' && e.parentTaskID !== undefined) return;
    if (e.type === 'reasoning') {
      if (this.o.thinking && e.parentTaskID === undefined) this.writeThinking(e.text);
      return;
    }
    if (e.type === 'text') {
      this.clearStatus();
      const shown = this.answer.write(e.text);
      this.o.out.write(shown);
      if (shown.length) this.endsWithNewline = shown.endsWith('\n');
      return;
    }
    if (e.type === 'tool_pending' || e.type === 'tool_start') {
      if (!this.liveTools) return;
      const who = e.agent ? `${e.agent} ` : '';
      // While the model still writes the call, its tool alone; once it runs, what it is about.
      const subject = e.type === 'tool_start' ? ` ${toolSubject(e.tool, e.input)}` : '';
      const key = e.callID ?? `#${++this.calls}`;
      this.running.set(key, safeLine(`${who}${e.tool}${subject}`));
      if (e.type === 'tool_pending') this.written.set(key, e.taskID);
      else this.written.delete(key);
      this.drawRunning();
      return;
    }
    if (e.type === 'tool_use' && e.callID !== undefined) {
      this.running.delete(e.callID);
      this.written.delete(e.callID);
    }
    // A call the model was writing when its answer broke off (asked again, or another model) never runs: its line goes.
    if (e.type === 'step_finish' || e.type === 'retry' || e.type === 'fallback' || e.type === 'error') {
      let dropped = false;
      for (const [key, taskID] of this.written) {
        if (taskID !== e.taskID) continue;
        this.written.delete(key);
        this.running.delete(key);
        dropped = true;
      }
      // Drawn again without it (an event with a line of its own does that below).
      if (dropped && !describeEvent(e) && this.prompts === 0) {
        this.clearStatus();
        this.drawRunning();
      }
    }
    const line = describeEvent(e);
    if (!line) return;
    if (this.o.live) {
      this.clearStatus();
      this.endAnswerLine();
      this.o.err.write(e.type === 'tool_use' ? dim(`▸ ${line}`, true) : yellow(`⟳ ${line}`, true));
      this.statusShown = true;
      // retries and fallbacks stay on screen; waits are replaced by what comes next
      if (e.type !== 'rate_limited') {
        this.o.err.write('\n');
        this.statusShown = false;
        this.drawRunning();
      }
    } else {
      this.endAnswerLine();
      this.o.err.write(`${line}\n`);
    }
  }

  /**
   * Runs `ask` (a question put on the terminal) with the live line cleared, and draws it again once
   * no question is open: the question never lands after a half-drawn line, nor a line over it.
   */
  async prompting<T>(ask: () => Promise<T>): Promise<T> {
    this.prompts += 1;
    this.clearStatus();
    this.endAnswerLine();
    try {
      return await ask();
    } finally {
      this.prompts -= 1;
      this.drawRunning();
    }
  }

  /** The latest running call as the live line (with how many more run), unless something else holds the line. */
  private drawRunning(): void {
    if (!this.liveTools || this.prompts > 0 || this.running.size === 0) return;
    if (this.statusShown) this.clearStatus();
    this.endAnswerLine();
    const lines = [...this.running.values()];
    const more = lines.length > 1 ? ` (+${lines.length - 1} running)` : '';
    // One row at most, so that clearing it clears all of it.
    const width = Math.max(20, ((this.o.err as { columns?: number }).columns ?? 80) - 1);
    let text = `⋯ ${lines.at(-1) as string}`;
    if (text.length + more.length > width) text = `${text.slice(0, Math.max(1, width - more.length - 1))}…`;
    this.o.err.write(dim(`${text}${more}`, true));
    this.statusShown = true;
  }

  /** On a terminal, a line on stderr (or a question) starts on a line of its own, not after the answer's last words. */
  private endAnswerLine(): void {
    if (!this.terminal || this.endsWithNewline) return;
    this.o.out.write('\n');
    this.endsWithNewline = true;
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
