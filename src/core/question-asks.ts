/**
 * The `question` tool's questions put to the person at an OpenCode client, as OpenCode's server
 * puts them: a turn sent through OpenCode's session routes whose model calls `question` publishes
 * `question.asked` (OpenCode's QuestionRequest) and waits for `POST /question/{id}/reply` (the
 * answers, checked against the questions) or `POST /question/{id}/reject` — but only while a client
 * listens on the project's event stream, since nobody else could answer; with none, the call is
 * refused at once with words the model can act on. The wait also ends with the turn's abort or the
 * last listener of the project going away (announced as `question.rejected`, so clients put the
 * question away). A rejection ends the turn after the call's step, as OpenCode's does (unless
 * `experimental.continue_loop_on_deny`).
 */
import { PantheonError } from '../errors.ts';
import { ascendingId } from '../session/ids.ts';
import type { QuestionInfo, QuestionOutcome } from '../tools/question.ts';
import type { EventHub } from './event-hub.ts';

/** OpenCode's QuestionRequest, as `question.asked` carries it and `GET /question` lists it. */
export interface QuestionRequest {
  id: string;
  sessionID: string;
  questions: QuestionInfo[];
  /** The tool call waiting on it (OpenCode's TUI finds the call's part by it). */
  tool?: { messageID: string; callID: string };
}

/** At most this many characters in one typed answer. */
export const MAX_ANSWER_CHARS = 10_000;

interface Pending {
  request: QuestionRequest;
  projectRoot: string;
  /** Kept open with nobody listening (OpenCode's v2 API: a client may poll for it). */
  unheard: boolean;
  settle: (outcome: QuestionOutcome) => void;
}

export interface QuestionAskInput {
  projectRoot: string;
  sessionID: string;
  messageID: string;
  callID: string | undefined;
  questions: QuestionInfo[];
  /** The call's input, shown with its part while it waits. */
  input: unknown;
  signal: AbortSignal;
  /** OpenCode's `experimental.continue_loop_on_deny`: a dismissed question does not end the turn. */
  continueOnDeny?: boolean;
  /** Put even when no client listens to the project's events (a v2 client may poll for it). */
  unheard?: boolean;
}

const NOBODY =
  'nobody can answer: no OpenCode client is listening to this project to answer questions. Go on without asking: choose what seems best, say what you assumed, and put any question that remains in your reply.';
const CANCELLED = 'the turn was cancelled before the user answered';

function badAnswer(field: string, problem: string): PantheonError {
  return new PantheonError('USAGE', `${field}: ${problem}.`, { hint: 'Send "answers": one list per question, in order, of the labels chosen (or one typed answer where the question allows it).' });
}

/** The answers of a reply, checked against the questions asked (a 400 naming the first field at fault). */
export function checkAnswers(questions: readonly QuestionInfo[], answers: unknown): string[][] {
  if (!Array.isArray(answers)) throw badAnswer('answers', 'expected a list with one answer per question');
  if (answers.length !== questions.length) throw badAnswer('answers', `expected ${questions.length} answer${questions.length === 1 ? '' : 's'}, one per question, found ${answers.length}`);
  return questions.map((q, i) => {
    const answer: unknown = answers[i];
    const field = `answers[${i}]`;
    if (!Array.isArray(answer)) throw badAnswer(field, 'expected a list of the labels chosen');
    const labels = new Set(q.options.map((o) => o.label));
    let typed = 0;
    const chosen = answer.map((value: unknown, j) => {
      const at = `${field}[${j}]`;
      if (typeof value !== 'string') throw badAnswer(at, 'expected text');
      if (value.trim() === '') throw badAnswer(at, 'an empty answer');
      if (value.length > MAX_ANSWER_CHARS) throw badAnswer(at, `at most ${MAX_ANSWER_CHARS} characters`);
      if (labels.has(value)) return value;
      if (q.custom === false) throw badAnswer(at, `"${value.slice(0, 80)}" is not one of the choices (${[...labels].join(', ')}), and this question takes no typed answer`);
      typed += 1;
      if (typed > 1) throw badAnswer(at, 'a second typed answer; one question takes at most one');
      return value;
    });
    if (chosen.length > 1 && q.multiple !== true) throw badAnswer(field, `question ${i + 1} takes one answer, found ${chosen.length}`);
    if (new Set(chosen).size !== chosen.length) throw badAnswer(field, 'an answer given twice');
    return chosen;
  });
}

export class QuestionAsks {
  readonly #hub: EventHub;
  readonly #pending = new Map<string, Pending>();
  /** Whether an OpenCode client listens to a project's events (set by the server). */
  listens: (projectRoot: string) => boolean = () => false;

  constructor(hub: EventHub) {
    this.#hub = hub;
  }

  /** The open questions of a project (OpenCode's `GET /question`), oldest first. */
  list(projectRoot: string): QuestionRequest[] {
    return [...this.#pending.values()].filter((p) => p.projectRoot === projectRoot).map((p) => p.request);
  }

  /** Asks whoever listens to the project; resolves with the outcome (see the module comment). */
  ask(input: QuestionAskInput): Promise<QuestionOutcome> {
    const { projectRoot, sessionID, signal } = input;
    if (!input.unheard && !this.listens(projectRoot)) return Promise.resolve({ refused: NOBODY });
    if (signal.aborted) return Promise.resolve({ refused: CANCELLED });
    const request: QuestionRequest = {
      id: ascendingId('que'),
      sessionID,
      questions: input.questions,
      ...(input.callID ? { tool: { messageID: input.messageID, callID: input.callID } } : {}),
    };
    const stopsTurn = input.continueOnDeny !== true;
    return new Promise<QuestionOutcome>((resolve) => {
      const onAbort = () => this.#close(request.id, { refused: CANCELLED });
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(request.id, {
        request,
        projectRoot,
        unheard: input.unheard === true,
        settle: (outcome) => {
          signal.removeEventListener('abort', onAbort);
          resolve('dismissed' in outcome ? { dismissed: true, stopsTurn } : outcome);
        },
      });
      this.#hub.emit({ projectRoot, sessionID, type: 'question.asked', request, input: input.input });
    });
  }

  /** The answers to question `id` (OpenCode's `POST /question/{id}/reply`), checked against it; `projectRoot` is the request's project. */
  reply(id: string, answers: unknown, projectRoot: string): void {
    const pending = this.#open(id, projectRoot);
    const checked = checkAnswers(pending.request.questions, answers);
    this.#close(id, { answers: checked });
  }

  /** The person dismissed question `id` (OpenCode's `POST /question/{id}/reject`). */
  reject(id: string, projectRoot: string): void {
    this.#open(id, projectRoot);
    this.#close(id, { dismissed: true, stopsTurn: true });
  }

  /** A project's listeners changed: with none left, its open questions are refused (nobody could answer them now). */
  listenersChanged(): void {
    for (const pending of [...this.#pending.values()]) {
      if (!pending.unheard && !this.listens(pending.projectRoot)) this.#close(pending.request.id, { refused: NOBODY });
    }
  }

  #open(id: string, projectRoot: string): Pending {
    const pending = this.#pending.get(id);
    if (!pending || pending.projectRoot !== projectRoot) {
      throw new PantheonError('QUESTION_NOT_FOUND', `No question ${id} is open in this project.`, { hint: 'GET /question lists the open ones; a question ends when it is answered or rejected, or its turn ends.', fields: { requestID: id } });
    }
    return pending;
  }

  #close(id: string, outcome: QuestionOutcome): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.settle(outcome);
    const where = { projectRoot: pending.projectRoot, sessionID: pending.request.sessionID };
    if ('answers' in outcome) this.#hub.emit({ ...where, type: 'question.replied', requestID: id, answers: outcome.answers });
    else this.#hub.emit({ ...where, type: 'question.rejected', requestID: id });
  }
}
