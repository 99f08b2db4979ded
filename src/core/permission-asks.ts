/**
 * Permission questions put to the person at an OpenCode client, as OpenCode's server puts them: a
 * server turn started from OpenCode's API whose tool call is `ask` (and that no approval rule
 * allows) publishes `permission.asked` and waits for `POST /permission/{id}/reply` (`once`,
 * `always`, `reject` with an optional message) — but only while a client listens on the project's
 * event stream, since nobody else could answer; with none, the call is refused at once as before.
 * The wait ends with the reply, the turn's abort, or the last listener of the project going away.
 * `always` approves what the request's `always` patterns name for every session of the project,
 * and answers the project's other questions it now covers; each pattern so approved is a saved
 * approval with an id (`psv_…`, OpenCode v2's `GET /api/permission/saved`), which `forget` takes
 * back. How long it lasts follows OpenCode 1.18: an answer through v1's routes (its TUI's, which
 * tells the person "until OpenCode is restarted") is held in memory until the server stops, as
 * OpenCode's v1 Permission service holds it; one through v2's reply route is kept in the project's
 * file (permissions/saved-approvals.ts), as OpenCode's PermissionV2 keeps it in its database.
 * `reject` also refuses the session's other open questions.
 */
import path from 'node:path';
import { PantheonError } from '../errors.ts';
import { REJECTED } from '../permissions/ask.ts';
import { approvedBy, type AskDetails, type ConfirmAnswer } from '../permissions/authorize.ts';
import type { PermissionTable } from '../permissions/rules.ts';
import { splitCommandLine } from '../permissions/bash-commands.ts';
import { MAX_SAVED_APPROVALS, savedApproves, type SavedApprovals } from '../permissions/saved-approvals.ts';
import { ascendingId } from '../session/ids.ts';
import type { EventHub } from './event-hub.ts';

/** OpenCode's PermissionRequest, as `permission.asked` carries it and `GET /permission` lists it. */
export interface PermissionQuestion {
  id: string;
  sessionID: string;
  /** The permission key: `bash`, `edit`, `webfetch`, `external_directory`, an MCP tool's name. */
  permission: string;
  /** What the call is: its command, path, URL or name. */
  patterns: string[];
  /** What "always" would approve. */
  always: string[];
  metadata: Record<string, unknown>;
  /** The tool call waiting on it (OpenCode's TUI draws the call's input from its part). */
  tool?: { messageID: string; callID: string };
}

export type PermissionReply = 'once' | 'always' | 'reject';

/** What one `always` answer approved: a permission key and one of its patterns, in a project. */
export interface SavedApproval {
  id: string;
  projectRoot: string;
  /** The permission key (`bash`, `edit`, …). */
  action: string;
  /** The pattern approved (`git status *`, `*`, …). */
  resource: string;
}

interface Pending {
  question: PermissionQuestion;
  projectRoot: string;
  /** The key, tool and subject as the permission rules see them. */
  details: AskDetails;
  /** Kept open with nobody listening (OpenCode's v2 API: a client may poll for it). */
  unheard: boolean;
  settle: (answer: ConfirmAnswer) => void;
}

export interface AskInput {
  projectRoot: string;
  sessionID: string;
  messageID: string;
  details: AskDetails;
  signal: AbortSignal;
  /** OpenCode's `experimental.continue_loop_on_deny`: a plain "reject" does not end the turn either. */
  continueOnDeny?: boolean;
  /** Put even when no client listens to the project's events (a v2 client may poll for it): the call waits for an answer or the turn's end. */
  unheard?: boolean;
}

const NOBODY = 'not approved: no OpenCode client listens to this project to answer; approve it with the session\u2019s or the prompt\u2019s permission rules';

/** Programs whose second word names what they do (`git status`, `npm test`): "always" approves that, not the whole program. */
const SUBCOMMANDS = new Set(['git', 'npm', 'pnpm', 'yarn', 'bun', 'deno', 'docker', 'podman', 'kubectl', 'helm', 'cargo', 'go', 'pip', 'uv', 'poetry', 'gh', 'brew', 'apt', 'apt-get', 'systemctl', 'terraform', 'dotnet', 'mvn', 'gradle', 'make']);

/** What "always" approves of a call, as OpenCode offers it: a command's program (and subcommand) with any arguments, a folder outside the project, else every call of the kind. */
export function alwaysPatterns(details: AskDetails): string[] {
  if (details.always) return [...details.always];
  if (details.key === 'bash') {
    const words = (splitCommandLine(details.subject)[0] ?? details.subject).trim().split(/\s+/);
    const second = words[1];
    const head = second !== undefined && SUBCOMMANDS.has(words[0] as string) && !second.startsWith('-') ? words.slice(0, 2) : words.slice(0, 1);
    return [`${head.join(' ')} *`];
  }
  if (details.key === 'external_directory') return [`${path.dirname(details.subject)}/*`];
  if (details.key === details.tool && !['edit', 'read', 'list', 'glob', 'grep', 'webfetch', 'task', 'skill'].includes(details.key)) return [details.subject];
  return ['*'];
}

function metadataOf(details: AskDetails): Record<string, unknown> {
  if (details.key === 'bash') return { command: details.subject };
  if (details.key === 'external_directory') return { filepath: details.subject, parentDir: path.dirname(details.subject) };
  // An edit's or a write's change, as its tool previewed it (OpenCode's TUI draws `diff` in the question).
  if (details.key === 'edit') return { filepath: details.subject, ...details.metadata };
  // An MCP resource tool's `{server, uri}` (OpenCode's).
  if (details.key === 'read' && details.tool !== 'read') return { ...details.metadata };
  return {};
}

export class PermissionAsks {
  readonly #hub: EventHub;
  readonly #pending = new Map<string, Pending>();
  /** What `always` answers through v2's route approved, per project, kept in the projects' files. */
  readonly store: SavedApprovals;
  /** What `always` answers through v1's routes approved, held until the server stops, oldest first. */
  readonly #held: SavedApproval[] = [];
  /** Per project: `#held` as a permission table (the config's shape). */
  readonly #heldTables = new Map<string, PermissionTable>();
  /** Whether an OpenCode client listens to a project's events (set by the server). */
  listens: (projectRoot: string) => boolean = () => false;

  constructor(hub: EventHub, store: SavedApprovals) {
    this.#hub = hub;
    this.store = store;
  }

  /** Whether `always` answers approved this call in its project (this process's, or another's saved in the project's file). */
  approved(projectRoot: string, details: AskDetails): boolean {
    return approvedBy(this.#heldTables.get(projectRoot), details) || savedApproves(this.store, projectRoot, details);
  }

  /** The open questions of a project (OpenCode's `GET /permission`), oldest first. */
  list(projectRoot: string): PermissionQuestion[] {
    return [...this.#pending.values()].filter((p) => p.projectRoot === projectRoot).map((p) => p.question);
  }

  /** Asks whoever listens to the project; resolves with the answer (see the module comment). */
  ask(input: AskInput): Promise<ConfirmAnswer> {
    const { projectRoot, sessionID, details, signal } = input;
    if (this.approved(projectRoot, details)) return Promise.resolve(true);
    if (!input.unheard && !this.listens(projectRoot)) return Promise.resolve({ declined: NOBODY });
    if (signal.aborted) return Promise.resolve({ declined: 'the turn was cancelled' });
    const question: PermissionQuestion = {
      id: ascendingId('per'),
      sessionID,
      permission: details.key,
      patterns: details.patterns ? [...details.patterns] : [details.subject],
      always: alwaysPatterns(details),
      metadata: metadataOf(details),
      ...(details.toolCallId ? { tool: { messageID: input.messageID, callID: details.toolCallId } } : {}),
    };
    return new Promise<ConfirmAnswer>((resolve) => {
      const onAbort = () => this.#close(question.id, 'reject', { declined: 'the turn was cancelled' });
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(question.id, {
        question,
        projectRoot,
        details,
        unheard: input.unheard === true,
        settle: (answer) => {
          signal.removeEventListener('abort', onAbort);
          resolve(input.continueOnDeny && typeof answer === 'object' ? { declined: answer.declined } : answer);
        },
      });
      this.#hub.emit({ projectRoot, sessionID, type: 'permission.asked', question, ...(details.toolInput === undefined ? {} : { input: details.toolInput }), tool: details.tool });
    });
  }

  /**
   * A question put by a client rather than a tool call (OpenCode v2's `POST /api/session/{id}/permission`,
   * asked when the rules say `ask`): open until answered, nothing waits on its answer but `always`,
   * which approves its `always` patterns as a tool call's would.
   */
  open(projectRoot: string, question: Omit<PermissionQuestion, 'id'> & { id?: string }, details: AskDetails): PermissionQuestion {
    const full: PermissionQuestion = { ...question, id: question.id ?? ascendingId('per') };
    if (this.#pending.has(full.id)) throw new PantheonError('USAGE', `Permission question ${full.id} is open already.`, { hint: 'Leave "id" out to have one made.' });
    this.#pending.set(full.id, { question: full, projectRoot, details, unheard: true, settle: () => undefined });
    this.#hub.emit({ projectRoot, sessionID: full.sessionID, type: 'permission.asked', question: full, tool: details.tool });
    return full;
  }

  /** An open question by its id (of the project, when it names one). */
  find(id: string, projectRoot?: string): PermissionQuestion | undefined {
    const pending = this.#pending.get(id);
    return pending && (projectRoot === undefined || pending.projectRoot === projectRoot) ? pending.question : undefined;
  }

  /**
   * The answer to question `id` (OpenCode's `POST /permission/{id}/reply`); `projectRoot` is the
   * request's project, when it names one. Throws PERMISSION_NOT_FOUND for a question not open there.
   * Takes effect at once. `keep`: an `always` is kept in the project's file (v2's route), and the
   * promise settles once it is written; else it is held until the server stops (v1's routes).
   */
  reply(id: string, reply: PermissionReply, message: string | undefined, projectRoot?: string, keep = false): Promise<void> {
    const pending = this.#pending.get(id);
    if (!pending || (projectRoot !== undefined && pending.projectRoot !== projectRoot)) {
      throw new PantheonError('PERMISSION_NOT_FOUND', `No permission question ${id} is open${projectRoot === undefined ? '' : ' in this project'}.`, {
        hint: 'GET /permission lists the open ones; a question ends when its turn ends.',
        fields: { requestID: id },
      });
    }
    if (reply === 'reject') {
      // With a message the model is told it and goes on; without, the turn stops after the step, as OpenCode's does.
      const feedback = message?.trim();
      this.#close(id, 'reject', feedback ? { declined: `${REJECTED}, who said: ${feedback}` } : { declined: REJECTED, stop: true });
      // OpenCode refuses the session's other open questions with it.
      for (const other of [...this.#pending.values()]) if (other.question.sessionID === pending.question.sessionID) this.#close(other.question.id, 'reject', { declined: REJECTED, stop: true });
      return Promise.resolve();
    }
    let written = Promise.resolve();
    if (reply === 'always' && keep) written = this.store.add(pending.projectRoot, pending.details.key, pending.question.always).written;
    else if (reply === 'always') this.#hold(pending.projectRoot, pending.details.key, pending.question.always);
    this.#close(id, reply, true);
    if (reply !== 'always') return written;
    for (const other of [...this.#pending.values()]) {
      if (other.projectRoot === pending.projectRoot && this.approved(other.projectRoot, other.details)) this.#close(other.question.id, 'always', true);
    }
    return written;
  }

  /** What `always` approved in a project, oldest first: those kept in its file, then those held by this server. */
  saved(projectRoot: string): SavedApproval[] {
    const kept = this.store.list(projectRoot).map(({ id, action, resource }) => ({ id, projectRoot, action, resource }));
    return [...kept, ...this.#held.filter((s) => s.projectRoot === projectRoot).map((s) => ({ ...s }))];
  }

  /** Takes back a saved approval (later calls it covered are asked again); resolves, once a kept one's file is written, with false when there is none by that id. */
  async forget(id: string, projectRoot?: string): Promise<boolean> {
    const at = this.#held.findIndex((s) => s.id === id && (projectRoot === undefined || s.projectRoot === projectRoot));
    if (at < 0) return this.store.remove(id, projectRoot);
    const [gone] = this.#held.splice(at, 1);
    this.#remake((gone as SavedApproval).projectRoot);
    return true;
  }

  /** Holds what an `always` through v1's routes approved, until the server stops. */
  #hold(projectRoot: string, action: string, resources: readonly string[]): void {
    for (const resource of resources) {
      if (!this.#held.some((s) => s.projectRoot === projectRoot && s.action === action && s.resource === resource)) this.#held.push({ id: ascendingId('psv'), projectRoot, action, resource });
    }
    // Bounded as the kept ones are: the oldest go first.
    if (this.#held.length > MAX_SAVED_APPROVALS * 10) this.#held.splice(0, this.#held.length - MAX_SAVED_APPROVALS * 10);
    this.#remake(projectRoot);
  }

  /** The project's table of held approvals, from `#held`. */
  #remake(projectRoot: string): void {
    const table: Record<string, Record<string, 'allow'>> = {};
    for (const s of this.#held) if (s.projectRoot === projectRoot) (table[s.action] ??= {})[s.resource] = 'allow';
    if (Object.keys(table).length) this.#heldTables.set(projectRoot, table as PermissionTable);
    else this.#heldTables.delete(projectRoot);
  }

  /** A project's listeners changed: with none left, its open questions are refused (nobody could answer them now). */
  listenersChanged(): void {
    for (const pending of [...this.#pending.values()]) {
      if (!pending.unheard && !this.listens(pending.projectRoot)) this.#close(pending.question.id, 'reject', { declined: NOBODY });
    }
  }

  #close(id: string, reply: PermissionReply, answer: ConfirmAnswer): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.settle(answer);
    this.#hub.emit({ projectRoot: pending.projectRoot, sessionID: pending.question.sessionID, type: 'permission.replied', requestID: id, reply });
  }
}
