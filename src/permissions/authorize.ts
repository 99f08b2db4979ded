/**
 * Decides whether one tool call may run: evaluates the rules, asks the user when the answer is
 * `ask` (on a TTY, through the injected `confirm`), approves `ask` when `auto` is set — except for
 * paths outside the project (`external_directory`), which only an explicit rule or a person may
 * approve — and refuses otherwise. A refusal throws a PermissionDeniedError whose message goes back to the model as the
 * tool error, and is reported through `onDenied` so the user sees it too.
 */
import { splitCommandLine } from './bash-commands.ts';
import { describeRule, evaluatePermission, strictest } from './rules.ts';
import type { Permission, PermissionDecision, PermissionTable } from './rules.ts';

export interface PermissionContext {
  /** The merged permission (the agent's own over the top-level one). */
  permission: Permission | undefined;
  /** Approve every `ask` (`--auto`). */
  auto: boolean;
  /** Whether a person can answer questions (stdin and stderr are TTYs, or an OpenCode client listens). */
  interactive: boolean;
  /** Puts the question to that person: true to go on, false or `{declined: why}` to refuse. */
  confirm?: (question: string, ask: AskDetails) => Promise<ConfirmAnswer>;
  /** Approves an `ask` without a question (a server turn's approval rules). */
  approve?: (request: PermissionRequest) => boolean;
  /** Why an unapproved `ask` was refused (default: the non-interactive run's hint to pass --auto). */
  askHint?: string;
  onDenied?: (tool: string, detail: string) => void;
  /**
   * The project's plugins' `permission.ask`, asked first when the rules say `ask`: `allow` runs the
   * call and `deny` refuses it with no question and whatever `--auto` or the approval rules say;
   * `ask` goes on as without it (plugins/ask-shell-hooks.ts).
   */
  pluginAsk?: (details: AskDetails, question: string) => Promise<'ask' | 'allow' | 'deny'>;
  /** The model's id for the call being authorized, and its input (what a client shows with the question). */
  toolCallId?: string;
  toolInput?: unknown;
}

/**
 * An answer to a permission question: yes, no, or no with the reason the model is told; `stop`: the
 * person said no without a word, and the turn ends after the call's step (as OpenCode's does).
 */
export type ConfirmAnswer = boolean | { declined: string; stop?: boolean };

/** What a question is about: the request, the tool called, and the call (its id and input) when known. */
export type AskDetails = PermissionRequest & {
  tool: string;
  toolCallId?: string;
  toolInput?: unknown;
  /** the task whose call it is (its session asks: a child session's for a sub-task) */
  taskID?: string;
  /** What the request's `preview` made, when a question is put. */
  metadata?: Record<string, unknown>;
};

export interface PermissionRequest {
  /** The permission key: `edit`, `bash`, `webfetch`, `external_directory`, a tool name. */
  key: string;
  /** The tool being called, for messages (`write` is governed by `edit`). Default: `key`. */
  tool?: string;
  /** What patterns match (command line, relative path, URL, agent name). */
  subject: string;
  /**
   * Several subjects judged together (an MCP resource listing's `mcp:<server>:*` of each server):
   * the strictest rule of them decides, and a question names them all. `subject` is the first.
   */
  patterns?: string[];
  /** What "always" approves, when the tool says (an MCP resource tool's `mcp:<server>:*`); default as OpenCode offers it for the key. */
  always?: string[];
  /** The question put to the user; default "Allow TOOL `SUBJECT`?". */
  question?: string;
  /** Words after the subject in messages, e.g. "is outside the project root". */
  note?: string;
  /**
   * What a person is shown with the question beside the subject (OpenCode's request `metadata`:
   * `edit`'s and `write`'s `diff`), made only when a question is put; a ToolError it throws fails the
   * call before anyone is asked, as the call would have failed after a yes.
   */
  preview?: () => Promise<Record<string, unknown>>;
}

export class PermissionDeniedError extends Error {
  readonly tool: string;
  readonly subject: string;
  readonly decision: PermissionDecision;
  /** The turn ends after this call's step (a person's plain "reject"); the step loop reads it. */
  readonly stopsTurn: boolean;
  constructor(tool: string, subject: string, decision: PermissionDecision, message: string, stopsTurn = false) {
    super(message);
    this.name = 'PermissionDeniedError';
    this.tool = tool;
    this.subject = subject;
    this.decision = decision;
    this.stopsTurn = stopsTurn;
  }
}

export function isPermissionDenied(error: unknown): error is PermissionDeniedError {
  return error instanceof PermissionDeniedError;
}

/** The decision for a request; `bash` command lines are judged command by command, strictest wins. */
export function decide(permission: Permission | undefined, request: PermissionRequest): { decision: PermissionDecision; part?: string } {
  if (request.patterns && request.patterns.length > 1) {
    const judged = request.patterns.map((part) => ({ part, decision: evaluatePermission(permission, request.key, part) }));
    return strictest(judged) as { part: string; decision: PermissionDecision };
  }
  if (request.key !== 'bash') return { decision: evaluatePermission(permission, request.key, request.subject) };
  const parts = splitCommandLine(request.subject);
  if (parts.length === 0) return { decision: evaluatePermission(permission, 'bash', request.subject.trim()) };
  const judged = parts.map((part) => ({ part, decision: evaluatePermission(permission, 'bash', part) }));
  const worst = strictest(judged) as { part: string; decision: PermissionDecision };
  return parts.length === 1 ? { decision: worst.decision } : worst;
}

function oneLine(text: string, max = 200): string {
  // Each run of white space with a line break in it (a run matched whole: no backtracking, linear in a command of any length).
  const flat = text.replace(/\s+/g, (run) => (run.includes('\n') ? ' ⏎ ' : run)).trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Throws PermissionDeniedError unless the call may run. */
export async function authorize(ctx: PermissionContext, request: PermissionRequest): Promise<void> {
  const tool = request.tool ?? request.key;
  const { decision, part } = decide(ctx.permission, request);
  if (decision.action === 'allow') return;
  if (decision.action === 'ask') {
    const question = request.question ?? `Allow ${tool} \`${oneLine(request.subject)}\`${request.note ? ` (${request.note})` : ''}?`;
    const { preview, ...asked } = request;
    const details: AskDetails = { ...asked, tool, ...(ctx.toolCallId ? { toolCallId: ctx.toolCallId } : {}), ...(ctx.toolInput === undefined ? {} : { toolInput: ctx.toolInput }) };
    const said = ctx.pluginAsk ? await ctx.pluginAsk(details, question) : 'ask';
    if (said === 'allow') return;
    if (said === 'deny') deny(ctx, request, decision, part, 'denied by a plugin (permission.ask)');
    // --auto approves what stays inside the project; a path outside it needs an explicit `allow`
    // under permission.external_directory (or a person saying yes), never a blanket flag.
    const external = request.key === 'external_directory';
    if (ctx.auto && !external) return;
    if (ctx.approve?.({ ...request, tool })) return;
    if (ctx.interactive && ctx.confirm) {
      if (preview) details.metadata = await preview();
      const answer = await ctx.confirm(question, details);
      if (answer === true) return;
      deny(ctx, request, decision, part, answer === false ? 'declined by the user' : answer.declined, answer !== false && answer.stop === true);
    }
    deny(
      ctx,
      request,
      decision,
      part,
      external
        ? 'not approved: --auto does not cover paths outside the project; allow them under permission.external_directory'
        : (ctx.askHint ?? 'not approved: non-interactive run; pass --auto to approve'),
    );
  }
  deny(ctx, request, decision, part);
}

/** Whether approval rules (a server turn's) explicitly allow a call: rules that only the defaults decide do not count. */
export function approvedBy(approvals: PermissionTable | undefined, request: PermissionRequest): boolean {
  if (!approvals || Object.keys(approvals).length === 0) return false;
  const { decision } = decide(approvals, request);
  return decision.action === 'allow' && decision.source === 'config';
}

/**
 * How a refusal's message (deny's, below) says the call was refused: `rejected` when the user said
 * no, `rule` when a deny rule of the config (or the defaults) refused it; undefined for any other text.
 */
export function refusalOf(message: string): 'rejected' | 'rule' | undefined {
  if (!message.startsWith('permission denied: ')) return undefined;
  if (/; (?:rejected|declined) by the user(?:, who said: [\s\S]*)?\)$/.test(message)) return 'rejected';
  return /: deny(?: by default)?(?: for `[^`\n]*`)?\)$/.test(message) ? 'rule' : undefined;
}

function deny(ctx: PermissionContext, request: PermissionRequest, decision: PermissionDecision, part: string | undefined, why?: string, stopsTurn = false): never {
  const tool = request.tool ?? request.key;
  const rule = describeRule(decision) + (part === undefined ? '' : ` for \`${oneLine(part)}\``);
  const note = request.note ? ` ${request.note}` : '';
  const message = `permission denied: ${tool} \`${oneLine(request.subject)}\`${note} (${rule}${why ? `; ${why}` : ''})`;
  ctx.onDenied?.(tool, message);
  throw new PermissionDeniedError(tool, request.subject, decision, message, stopsTurn);
}
