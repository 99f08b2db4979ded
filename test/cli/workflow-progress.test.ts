/**
 * The workflow progress view fed events directly: the live block (a line per step with done/total,
 * running, waiting on which limit, retries, fallbacks), redrawn in place, and the summary lines.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventBus, type PantheonEvent } from '../../src/events.ts';
import { WorkflowProgress, workflowSummaryLines } from '../../src/cli/render/workflow-progress.ts';

class Screen {
  raw = '';
  columns = 200;
  rows = 40;
  isTTY = true;
  write(chunk: string): boolean {
    this.raw += chunk;
    return true;
  }
  /** What a terminal would show: applies "cursor up N lines" + "clear below" and strips colour. */
  lines(): string[] {
    const screen: string[] = [''];
    let row = 0;
    // eslint-disable-next-line no-control-regex -- terminal escapes are what this reads
    const text = this.raw.replace(/\x1b\[\d*m/g, '');
    for (let i = 0; i < text.length; i++) {
      // eslint-disable-next-line no-control-regex -- terminal escapes are what this reads
      const esc = /^\x1b\[(\d+)F\x1b\[J/.exec(text.slice(i));
      if (esc) {
        row = Math.max(0, row - Number(esc[1]));
        screen.length = row + 1;
        screen[row] = '';
        i += esc[0].length - 1;
      } else if (text[i] === '\n') {
        row += 1;
        screen[row] ??= '';
      } else screen[row] = (screen[row] ?? '') + (text[i] ?? '');
    }
    return screen.filter((line, i) => line !== '' || i < screen.length - 1);
  }
}

function feed(live: boolean) {
  let now = 1_000;
  const screen = new Screen();
  const progress = new WorkflowProgress({ err: screen as unknown as NodeJS.WritableStream, live, now: () => now, intervalMs: 100 });
  const bus = new EventBus('wr_t', () => now);
  bus.subscribe((e) => progress.handle(e));
  return { screen, progress, bus, at: (ms: number) => (now = ms) };
}

describe('workflow progress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('on a TTY keeps one line per step, with running and waiting tasks, retries and fallbacks, and logs above it', () => {
    const { screen, progress, bus, at } = feed(true);
    bus.emit({
      type: 'workflow_start',
      runId: 'wr_t',
      workflow: 'research',
      resumed: false,
      steps: [
        { id: 'investigate', agent: 'librarian', needs: [], tasks: 4, done: 0 },
        { id: 'recommend', agent: 'oracle', needs: ['investigate'], tasks: 1, done: 0 },
      ],
    });
    for (const i of [0, 1, 2, 3]) bus.emit({ type: 'task_start', stepID: 'investigate', taskID: `wr_t.investigate.${i}` });
    bus.emit({ type: 'step_start', stepID: 'investigate', taskID: 'wr_t.investigate.0' });
    bus.emit({ type: 'step_start', stepID: 'investigate', taskID: 'wr_t.investigate.1' });
    bus.emit({ type: 'rate_limited', stepID: 'investigate', taskID: 'wr_t.investigate.2', waitMs: 1500, limit: 'provider:nim 2/2000ms' });
    bus.emit({ type: 'rate_limited', stepID: 'investigate', taskID: 'wr_t.investigate.3', waitMs: 1500, limit: 'provider:nim 2/2000ms' });
    at(1_300);
    bus.emit({ type: 'retry', agent: 'librarian', model: 'nim/llama', stepID: 'investigate', taskID: 'wr_t.investigate.1', attempt: 1, delayMs: 200, status: 503 });
    bus.emit({ type: 'task_finish', stepID: 'investigate', taskID: 'wr_t.investigate.0', status: 'success' });
    // The block is redrawn on a timer (the spinner moves on each time).
    vi.advanceTimersByTime(100);
    expect(screen.lines()).toEqual([
      'workflow research: run wr_t (2 steps, 5 tasks)',
      '⟳ investigate.1 librarian retry 1 on nim/llama in 0.2 s (503)',
      'research · wr_t · 0.3 s',
      '⠙ investigate  librarian      1/4  1 running · 2 waiting on provider:nim 2/2000ms (next in 1.2 s) · 1 retry',
      '○ recommend    oracle         0/1  after investigate',
    ]);
    // The waiting tasks' requests go out: they count as running again.
    bus.emit({ type: 'step_start', stepID: 'investigate', taskID: 'wr_t.investigate.2' });
    bus.emit({ type: 'fallback', agent: 'librarian', stepID: 'investigate', taskID: 'wr_t.investigate.3', from: 'nim/llama', to: 'zen/pickle', reason: 'rate_limited' });
    vi.advanceTimersByTime(100);
    const lines = screen.lines();
    expect(lines.at(-2)).toBe('⠹ investigate  librarian      1/4  3 running · 1 retry · 1 fallback');
    expect(lines).toContain('⟳ investigate.3 librarian fallback nim/llama → zen/pickle (rate limited)');
    // Nothing is drawn twice: one header line on screen.
    expect(lines.filter((l) => l.startsWith('research · wr_t'))).toHaveLength(1);
    progress.finish(['research failed after 1.0 s', 'hint: resume']);
    expect(screen.lines().slice(-2)).toEqual(['research failed after 1.0 s', 'hint: resume']);
  });

  it('the summary names tasks by outcome, retries, fallbacks, cache hits, tokens, cost, waiting and the run; a resume hint when unfinished', () => {
    const e = {
      type: 'workflow_finish',
      timestamp: 0,
      sessionID: 'wr_x',
      runId: 'wr_x',
      workflow: 'feature',
      status: 'failed',
      tasks: { success: 2, failed: 1, skipped: 1, cancelled: 0 },
      usage: { inputTokens: 1200, outputTokens: 80 },
      costUSD: 0.0123,
      retries: 1,
      fallbacks: 2,
      cacheHits: 0,
      waitedMs: 4200,
      wallMs: 12_345,
    } satisfies PantheonEvent;
    expect(workflowSummaryLines(e)).toEqual([
      'feature failed after 12 s · 4 tasks: 2 done, 1 failed, 1 skipped · 1 retry · 2 fallbacks · 0 cache hits · 1200 in / 80 out tokens · $0.0123 · 4.2 s of task time waiting on limits · run wr_x',
      'hint: resume with `opencode workflow run feature --resume wr_x` (finished tasks are not run again)',
    ]);
  });
});
