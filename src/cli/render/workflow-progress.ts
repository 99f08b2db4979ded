/**
 * Workflow progress on stderr. On a TTY: a live block, a line per step (done/total, running,
 * waiting on a rate limit and for how long, retries, fallbacks), redrawn in place, with retries,
 * fallbacks, failures and warnings printed above it. Elsewhere: plain lines as things happen.
 * Ends with the run's summary.
 */
import { spendText } from '../../run/budget.ts';
import type { PantheonEvent, WorkflowSummary } from '../../events.ts';
import { safeLine, safeStrings } from '../terminal-text.ts';
import { describeEvent } from './text-renderer.ts';
import { WorkflowBoard, type StepView } from './workflow-board.ts';

export interface WorkflowProgressOptions {
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  /** Live block and colour (a TTY without NO_COLOR). */
  live: boolean;
  now?: () => number;
  /** Redraw interval of the live block (ms). */
  intervalMs?: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const paint = (code: number, reset: number) => (s: string, on: boolean) => (on ? `\x1b[${code}m${s}\x1b[${reset}m` : s);
const dim = paint(2, 22);
const red = paint(31, 39);
const green = paint(32, 39);
const yellow = paint(33, 39);
const cyan = paint(36, 39);

export function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, Math.max(0, max - 1))}…` : flat;
}

/** The summary of a finished run: one line, then a hint line when it can be resumed. */
export function workflowSummaryLines(e: Extract<PantheonEvent, { type: 'workflow_finish' }>, summary: WorkflowSummary = e): string[] {
  const t = summary.tasks;
  const total = t.success + t.failed + t.skipped + t.cancelled;
  const breakdown = total === t.success ? '' : `: ${[t.success && `${t.success} done`, t.failed && `${t.failed} failed`, t.skipped && `${t.skipped} skipped`, t.cancelled && `${t.cancelled} cancelled`].filter(Boolean).join(', ')}`;
  const verb = e.status === 'success' ? `succeeded in` : e.status === 'failed' ? 'failed after' : 'cancelled after';
  const parts = [
    `${e.workflow} ${verb} ${seconds(summary.wallMs)}`,
    `${plural(total, 'task')}${breakdown}`,
    plural(summary.retries, 'retry', 'retries'),
    plural(summary.fallbacks, 'fallback'),
    plural(summary.cacheHits, 'cache hit'),
    `${summary.usage.inputTokens} in / ${summary.usage.outputTokens} out tokens`,
    summary.costUSD === undefined ? undefined : `$${summary.costUSD.toFixed(4)}`,
    `${seconds(summary.waitedMs)} of task time waiting on limits`,
    summary.budgets?.length ? `budgets: ${summary.budgets.map((b) => `${b.budget} ${spendText(b)}`).join(', ')}` : undefined,
    `run ${e.runId}`,
  ];
  const lines = [parts.filter(Boolean).join(' · ')];
  const stoppedBy = summary.budgets?.find((b) => (b.limitUSD !== undefined && b.spentUSD >= b.limitUSD - 1e-9) || (b.limitTokens !== undefined && b.spentTokens >= b.limitTokens));
  if (e.status !== 'success' && stoppedBy) lines.push(`hint: the ${stoppedBy.budget} budget is spent: raise it in the config, then resume with \`opencode workflow run ${e.workflow} --resume ${e.runId}\``);
  else if (e.status !== 'success') lines.push(`hint: resume with \`opencode workflow run ${e.workflow} --resume ${e.runId}\` (finished tasks are not run again)`);
  return lines;
}

export class WorkflowProgress {
  readonly board = new WorkflowBoard();
  readonly #o: WorkflowProgressOptions;
  readonly #now: () => number;
  readonly #taskStart = new Map<string, number>();
  #startedAt = 0;
  #drawn = 0;
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: WorkflowProgressOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  handle(event: PantheonEvent): void {
    // Ids, names and errors come from the config and from providers: safe before they are drawn.
    const e = safeStrings(event);
    const before = e.stepID === undefined ? 0 : this.#waitingCount(e.stepID);
    const step = this.board.apply(e);
    const lines = this.#lines(e, step, before);
    if (!this.#o.live) {
      for (const line of lines) this.#o.err.write(`${line}\n`);
      return;
    }
    if (lines.length > 0) {
      this.#clear();
      for (const line of lines) this.#o.err.write(`${line}\n`);
      this.#draw();
    }
    if (e.type === 'workflow_start') {
      this.#timer = setInterval(() => this.#redraw(), this.#o.intervalMs ?? 120);
      this.#timer.unref();
    }
  }

  /** Stops the live block (leaving its last state on screen) and prints the summary lines. */
  finish(summary: readonly string[]): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#o.live && this.#drawn > 0) this.#redraw();
    this.#drawn = 0;
    const [head, ...rest] = summary.map((line) => safeLine(line));
    if (head !== undefined) this.#o.err.write(`${dim(head, this.#o.live)}\n`);
    for (const line of rest) this.#o.err.write(`${line}\n`);
  }

  /** Stops redrawing without a summary (an error ended the run before it finished). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #waitingCount(stepID: string): number {
    const step = this.board.steps.find((s) => s.id === stepID);
    return step ? this.board.waitingNow(step, this.#now()).count : 0;
  }

  #label(taskID: string | undefined): string {
    const prefix = `${this.board.runId}.`;
    return taskID?.startsWith(prefix) ? taskID.slice(prefix.length) : (taskID ?? '');
  }

  /** Lines an event adds to the log (above the live block, or the whole output when not live). */
  #lines(e: PantheonEvent, step: StepView | undefined, waitingBefore: number): string[] {
    const live = this.#o.live;
    switch (e.type) {
      case 'workflow_start': {
        this.#startedAt = e.timestamp;
        const total = e.steps.reduce((n, s) => n + s.tasks, 0);
        const done = e.steps.reduce((n, s) => n + s.done, 0);
        const what = `${plural(e.steps.length, 'step')}, ${plural(total, 'task')}`;
        return [dim(e.resumed ? `workflow ${e.workflow}: resuming run ${e.runId} (${what}, ${done} already done)` : `workflow ${e.workflow}: run ${e.runId} (${what})`, live)];
      }
      case 'warning':
        return [yellow(`warning: ${e.message}`, live)];
      case 'task_start':
        this.#taskStart.set(e.taskID, e.timestamp);
        if (live || !step) return [];
        if (step.running.size === 1 && step.done + step.failed === 0) return [`▶ ${step.id} (${step.agent})${step.total > 1 ? `: ${plural(step.total, 'task')}` : ''}`];
        return [];
      case 'task_finish': {
        const took = seconds(e.timestamp - (this.#taskStart.get(e.taskID) ?? e.timestamp));
        if (e.status === 'failed') return [red(`✗ ${this.#label(e.taskID)} failed after ${took}: ${clip(e.error ?? 'unknown error', 300)}`, live)];
        if (live || !step || e.status !== 'success') return [];
        const out = step.total > 1 ? [`  ✓ ${this.#label(e.taskID)} ${took} (${step.done}/${step.total})`] : [];
        if (step.done === step.total) out.push(`✓ ${step.id} ${step.done}/${step.total} in ${seconds(e.timestamp - (step.startedAt ?? e.timestamp))}`);
        return out;
      }
      case 'rate_limited': {
        // Plain output says when a step starts waiting, not every task's wait.
        if (live || waitingBefore > 0 || e.waitMs < 50) return [];
        const line = describeEvent(e);
        return line ? [`  ${e.stepID ?? ''}: ${line}`] : [];
      }
      case 'retry':
      case 'fallback': {
        const line = describeEvent(e);
        return line ? [yellow(`⟳ ${this.#label(e.taskID)} ${line}`, live)] : [];
      }
      default:
        return [];
    }
  }

  #stepLine(step: StepView, idWidth: number, agentWidth: number, now: number): string {
    const live = this.#o.live;
    const phase = this.board.phase(step);
    const details: string[] = [];
    const icon =
      phase === 'done' ? green('✓', live) : phase === 'failed' ? red('✗', live) : phase === 'running' ? cyan(SPINNER[this.#frame % SPINNER.length] ?? '·', live) : dim(phase === 'skipped' ? '–' : '○', live);
    const wait = this.board.waitingNow(step, now);
    const running = step.running.size - wait.count;
    if (running > 0) details.push(`${running} running`);
    if (wait.count > 0) details.push(yellow(`${wait.count} waiting on ${wait.limit ?? 'a rate limit'}${wait.leftMs >= 50 ? ` (next in ${seconds(wait.leftMs)})` : ''}`, live));
    if (step.retries) details.push(plural(step.retries, 'retry', 'retries'));
    if (step.fallbacks) details.push(plural(step.fallbacks, 'fallback'));
    if (step.cacheHits) details.push(plural(step.cacheHits, 'cache hit'));
    if (phase === 'pending' && step.needs.length) details.push(dim(`after ${step.needs.join(', ')}`, live));
    if (phase === 'skipped') details.push('skipped');
    if (phase === 'done' && step.startedAt !== undefined) details.push(`in ${seconds((step.endedAt ?? now) - step.startedAt)}`);
    if (phase === 'failed' && step.lastError) details.push(red(clip(step.lastError, 60), live));
    return `${icon} ${step.id.padEnd(idWidth)}  ${step.agent.padEnd(agentWidth)}  ${`${step.done}/${step.total}`.padStart(7)}  ${details.join(' · ')}`;
  }

  #block(): string[] {
    const now = this.#now();
    const steps = this.board.steps;
    const idWidth = Math.max(...steps.map((s) => s.id.length), 4);
    const agentWidth = Math.max(...steps.map((s) => s.agent.length), 5);
    const rows = Math.max(3, (this.#o.err.rows ?? 40) - 3);
    const shown = steps.length > rows ? steps.slice(0, rows - 1) : steps;
    const lines = [dim(`${this.board.workflow} · ${this.board.runId} · ${seconds(now - this.#startedAt)}`, true), ...shown.map((s) => this.#stepLine(s, idWidth, agentWidth, now))];
    if (shown.length < steps.length) lines.push(dim(`… ${steps.length - shown.length} more steps`, true));
    const width = Math.max(20, (this.#o.err.columns ?? 100) - 1);
    // Lines must not wrap, or moving the cursor back up would miss some.
    return lines.map((line) => fitWidth(line, width));
  }

  #draw(): void {
    const lines = this.#block();
    this.#o.err.write(`${lines.join('\n')}\n`);
    this.#drawn = lines.length;
  }

  #clear(): void {
    if (this.#drawn === 0) return;
    this.#o.err.write(`\x1b[${this.#drawn}F\x1b[J`);
    this.#drawn = 0;
  }

  #redraw(): void {
    this.#frame += 1;
    this.#clear();
    this.#draw();
  }
}

/** Cuts a line with colour codes to `width` visible characters. */
function fitWidth(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      if (end > i) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width) continue;
    out += line[i];
    visible += 1;
  }
  return visible >= width ? `${out}\x1b[0m` : out;
}
