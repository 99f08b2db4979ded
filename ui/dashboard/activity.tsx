/** Sessions and workflow runs in progress (and lately ended), with per-step progress and the last answer. */
import { memo } from './memo.ts';
import type { Session, Workflow } from './types.ts';
import { clock, count, usd } from './format.ts';

const STATUS: Record<string, string> = { busy: '● running', retry: '◷ waiting to retry', running: '● running', success: '✓ done', failed: '✖ failed', cancelled: '■ cancelled' };

const SessionCard = memo(function SessionCard({ s }: { s: Session }) {
  return (
    <article id={`session-${s.id}`} class={`card status-${s.status}`} tabIndex={-1} data-session={s.id}>
      <header class="card-head">
        <h3>{s.title}</h3>
        <span class="badge">{STATUS[s.status] ?? s.status}</span>
      </header>
      <p class="muted small">
        {s.agent} · {s.model ?? '—'} · started {clock(s.startedAt)} · {s.steps} model calls · {count(s.inputTokens + s.outputTokens)} tokens · <span data-cost={s.costUSD ?? 0}>{usd(s.costUSD)}</span> · <code>{s.id}</code>
      </p>
      {s.error && <p class="error">{s.error}</p>}
      {s.lastAnswer && <pre class="answer">{s.lastAnswer}</pre>}
    </article>
  );
});

export const Sessions = memo(function Sessions({ sessions }: { sessions: Session[] }) {
  return (
    <section aria-labelledby="sessions-title" class="panel">
      <h2 id="sessions-title">Sessions</h2>
      {sessions.length === 0 && <p class="muted">No server turns yet.</p>}
      <div class="panel-scroll">
        {sessions.map((s) => (
          <SessionCard key={s.id} s={s} />
        ))}
      </div>
    </section>
  );
});

const WorkflowCard = memo(function WorkflowCard({ w }: { w: Workflow }) {
  return (
    <article class={`card status-${w.status}`} data-run={w.runId}>
      <header class="card-head">
        <h3>
          {w.workflow} <code class="small">{w.runId}</code>
        </h3>
        <span class="badge">{STATUS[w.status] ?? w.status}</span>
      </header>
      <p class="muted small">
        started {clock(w.startedAt)} · {count(w.inputTokens + w.outputTokens)} tokens · {usd(w.costUSD)}
      </p>
      <ol class="steps">
        {w.steps.map((step) => (
          <li key={step.id}>
            <span class="step-name">
              {step.id} <span class="muted">({step.agent})</span>
            </span>
            <progress max={step.total} value={step.done} aria-label={`${step.id}: ${step.done} of ${step.total} done`} />
            <span class="num small">
              {step.done}/{step.total} done{step.running ? `, ${step.running} running` : ''}
              {step.failed ? `, ${step.failed} failed` : ''}
            </span>
          </li>
        ))}
      </ol>
      {w.lastAnswer && <pre class="answer">{w.lastAnswer}</pre>}
    </article>
  );
});

export const Workflows = memo(function Workflows({ workflows }: { workflows: Workflow[] }) {
  return (
    <section aria-labelledby="workflows-title" class="panel">
      <h2 id="workflows-title">Workflow runs</h2>
      {workflows.length === 0 && <p class="muted">No workflow runs in the last half hour.</p>}
      <div class="panel-scroll">
        {workflows.map((w) => (
          <WorkflowCard key={w.runId} w={w} />
        ))}
      </div>
    </section>
  );
});
