import { projectRootOf } from '../session/project-root.ts';
import { relativeTime } from '../session/relative-time.ts';
import { SessionStore, type SessionMessage, type SessionProblem, type SessionRecord, type SessionSummary } from '../session/store.ts';
import { messageText, oneLine } from '../session/title.ts';
import { removeSessionTree } from '../session/remove-tree.ts';
import type { SessionDeleteArgs, SessionListArgs, SessionShowArgs } from './commands/session.ts';
import { table } from './table.ts';
import { printErr, printJson, printOut } from './print.ts';
import { thousands } from '../icu-free.ts';
import { PantheonError } from '../errors.ts';
import { projectId } from '../session/project-id.ts';

const TITLE_WIDTH = 60;

function printProblems(problems: readonly SessionProblem[]): void {
  for (const p of problems) printErr(`warning: ${p.file}: ${p.reason}; skipped.\n`);
}

function formatCost(costUSD: number | undefined): string {
  return costUSD === undefined ? '-' : `$${costUSD.toFixed(4)}`;
}

function tokens(s: { usage: { inputTokens: number; outputTokens: number } }): string {
  return thousands(s.usage.inputTokens + s.usage.outputTokens);
}

function listText(sessions: readonly SessionSummary[], all: boolean, now: number): string {
  const head = ['ID', 'AGENT', 'UPDATED', 'MSGS', 'TOKENS', 'COST', 'TITLE', ...(all ? ['PROJECT'] : [])];
  const rows = sessions.map((s) => [
    s.id,
    s.agent,
    relativeTime(s.updatedAt, now),
    String(s.messageCount),
    tokens(s),
    formatCost(s.costUSD),
    oneLine(s.title, TITLE_WIDTH) || '(untitled)',
    ...(all ? [s.projectRoot] : []),
  ]);
  // With --all the title is not the last column, so it is padded like the others.
  return table([head, ...rows], new Set([3, 4, 5])) + '\n';
}

/** `-n/--max-count N`: a whole number; 0 lists every session, as OpenCode takes it. */
export function parseMaxCount(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    const shown = text.length > 40 ? `${text.slice(0, 39)}\u2026` : text;
    throw new PantheonError('USAGE', `--max-count: expected a whole number of sessions, found ${text === '' ? 'nothing' : JSON.stringify(shown)}.`, {
      hint: 'For example -n 10 (the 10 most recent; 0 lists them all).',
    });
  }
  return n === 0 ? undefined : n;
}

/** A session as OpenCode's `session list --format json` shows it, then what Pantheon adds. */
function openCodeListEntry(s: SessionSummary): Record<string, unknown> {
  return {
    id: s.id,
    title: s.title || `New session - ${new Date(s.createdAt).toISOString()}`,
    updated: s.updatedAt,
    created: s.createdAt,
    projectId: projectId(s.projectRoot),
    directory: s.projectRoot,
    agent: s.agent,
    messageCount: s.messageCount,
    usage: s.usage,
    ...(s.costUSD === undefined ? {} : { costUSD: s.costUSD }),
  };
}

/** `opencode session list [-n N] [--format table|json] [--json] [--all]`. */
export async function sessionList(args: SessionListArgs): Promise<void> {
  const maxCount = parseMaxCount(args.maxCount);
  const store = SessionStore.open(process.env);
  const projectRoot = await projectRootOf(process.cwd());
  const all = Boolean(args.all);
  const listed = await store.list(all ? {} : { projectRoot });
  // As OpenCode's: the child sessions of `task` calls are not listed (their parent's turns show them).
  const sessions = listed.sessions.filter((s) => s.parentID === undefined).slice(0, maxCount);
  const problems = listed.problems;
  printProblems(problems);
  if (args.format === 'json' && !args.json) {
    printJson(sessions.map(openCodeListEntry), 2);
    return;
  }
  if (args.json) {
    const doc = { ...(all ? {} : { projectRoot }), all, sessions, problems };
    printJson(doc, 2);
    return;
  }
  if (sessions.length === 0) {
    const where = all ? 'No sessions saved yet' : `No sessions in ${projectRoot} yet`;
    printOut(`${where}; every \`opencode run\` saves one.${all ? '' : ' `--all` lists every project\'s.'}\n`);
    return;
  }
  printOut(listText(sessions, all, Date.now()));
}

function partLine(part: unknown): string {
  const p = (part ?? {}) as Record<string, unknown>;
  switch (p.type) {
    case 'text':
    case 'reasoning':
      return typeof p.text === 'string' ? p.text : '';
    case 'tool-call':
      return `→ ${String(p.toolName)} ${oneLine(JSON.stringify(p.input ?? {}), 200)}`;
    case 'tool-result': {
      const output = p.output as { value?: unknown } | undefined;
      const value = output && 'value' in output ? output.value : output;
      return `← ${String(p.toolName)}: ${oneLine(typeof value === 'string' ? value : JSON.stringify(value ?? null), 200)}`;
    }
    case 'file':
    case 'image':
      return `[${String(p.mediaType ?? p.type)}${typeof p.filename === 'string' ? ` ${p.filename}` : ''}]`;
    default:
      return `[${String(p.type)}]`;
  }
}

function messageLines(m: SessionMessage): string {
  const body = Array.isArray(m.content) ? m.content.map(partLine).filter(Boolean).join('\n') : messageText(m.content);
  const indented = body.split('\n').map((l) => `  ${l}`).join('\n');
  return `${m.role}:\n${indented}`;
}

function showText(r: SessionRecord, now: number): string {
  const lines = [
    `session  ${r.id}`,
    `title    ${r.title || '(untitled)'}`,
    `project  ${r.projectRoot}`,
    `agent    ${r.agent}`,
    `models   ${r.models.join(', ') || '-'}`,
    // Set over the REST API (PATCH /api/v1/sessions/{id}): they apply to `run -s` too.
    ...(r.model ? [`model    ${r.model} (the session's own: it heads every turn that names no model)`] : []),
    ...(r.system ? [`system   ${oneLine(r.system, 200)} (added to the agent's prompt in every turn)`] : []),
    ...(r.tags?.length ? [`tags     ${r.tags.join(', ')}`] : []),
    `created  ${new Date(r.createdAt).toISOString()} (${relativeTime(r.createdAt, now)})`,
    `updated  ${new Date(r.updatedAt).toISOString()} (${relativeTime(r.updatedAt, now)})`,
    `usage    ${r.usage.inputTokens} in / ${r.usage.outputTokens} out tokens · ${formatCost(r.costUSD)}`,
    '',
    ...r.messages.map(messageLines),
  ];
  return lines.join('\n') + '\n';
}

/** `opencode session show ID [--json]`. */
export async function sessionShow(args: SessionShowArgs): Promise<void> {
  const record = await SessionStore.open(process.env).load(String(args.id));
  if (args.json) printJson(record, 2);
  else printOut(showText(record, Date.now()));
}

/** `opencode session delete ID`: the session and its child sessions (the deepest first, as OpenCode deletes them). */
export async function sessionDelete(args: SessionDeleteArgs): Promise<void> {
  const id = String(args.id);
  const { removed } = await removeSessionTree(SessionStore.open(process.env), id);
  const children = removed.length - 1;
  printOut(`Session ${id} deleted${children > 0 ? ` with its ${children} child session${children === 1 ? '' : 's'}` : ''}\n`);
}
