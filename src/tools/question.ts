/**
 * OpenCode's `question` tool: the model puts one or more questions, each with choices, to the
 * person at an OpenCode client (its TUI draws them from `question.asked`) and waits for the
 * answers, which come back as OpenCode words them. Offered only in turns someone can answer (a
 * turn sent through OpenCode's session routes: `ToolContext.askQuestions`; see
 * core/question-asks.ts); the person dismissing the questions ends the turn after the call's step,
 * as OpenCode's RejectedError does.
 */
import type { JSONSchema7 } from 'ai';
import { ToolError } from './tool-error.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

/** At most this many questions in one call, choices in one question (limits of Pantheon's, not OpenCode's). */
export const MAX_QUESTIONS = 10;
export const MAX_OPTIONS = 20;
export const MAX_QUESTION_CHARS = 4000;
export const MAX_HEADER_CHARS = 100;
export const MAX_LABEL_CHARS = 200;
export const MAX_DESCRIPTION_CHARS = 1000;

/** One choice, as OpenCode's QuestionOption. */
export interface QuestionOption {
  label: string;
  description: string;
}

/** One question, as OpenCode's QuestionInfo (`custom`: whether a typed answer is allowed, default true). */
export interface QuestionInfo {
  question: string;
  header: string;
  options: QuestionOption[];
  multiple?: boolean;
  custom?: boolean;
}

interface QuestionInput {
  questions: QuestionInfo[];
}

/** What asking ended in: the answers (labels chosen or text typed, one list per question), the person dismissing them, or nobody to ask. */
export type QuestionOutcome = { answers: string[][] } | { dismissed: true; stopsTurn: boolean } | { refused: string };

/** Puts a call's questions to the person (core/question-asks.ts). */
export type QuestionAsker = (questions: QuestionInfo[], call: { toolCallId: string | undefined; input: unknown; signal: AbortSignal | undefined }) => Promise<QuestionOutcome>;

/** The person dismissed the questions: the model is told so (OpenCode's words), and the turn ends after the step unless the config says to go on. */
export class QuestionDismissedError extends ToolError {
  /** Read by the step loop (run/step-loop.ts), as a permission refusal's. */
  readonly stopsTurn: boolean;
  constructor(stopsTurn: boolean) {
    super('question', 'The user dismissed this question');
    this.name = 'QuestionRejectedError';
    this.stopsTurn = stopsTurn;
  }
}

/** OpenCode's description of the tool, word for word (OpenCode's text, MIT licence: schema/opencode/LICENSE). */
export const QUESTION_DESCRIPTION = `Use this tool when you need to ask the user questions during execution. This allows you to:
1. Gather user preferences or requirements
2. Clarify ambiguous instructions
3. Get decisions on implementation choices as you work
4. Offer choices to the user about what direction to take.

Usage notes:
- When \`custom\` is enabled (default), a "Type your own answer" option is added automatically; don't include "Other" or catch-all options
- Answers are returned as arrays of labels; set \`multiple: true\` to allow selecting more than one
- If you recommend a specific option, make that the first option in the list and add "(Recommended)" at the end of the label`;

/**
 * Whether the server's clients can answer questions at all, as OpenCode decides it: its
 * `OPENCODE_CLIENT` (default `cli`) is `cli`, `app` or `desktop`, or `OPENCODE_ENABLE_QUESTION_TOOL`
 * is on.
 */
export function questionClient(env: NodeJS.ProcessEnv): boolean {
  const flag = env.OPENCODE_ENABLE_QUESTION_TOOL?.toLowerCase();
  return ['cli', 'app', 'desktop'].includes(env.OPENCODE_CLIENT || 'cli') || flag === 'true' || flag === '1';
}

/** What the model is told of the answers, as OpenCode tells it. */
export function answersText(questions: readonly { question: string }[], answers: readonly (readonly string[])[]): string {
  const each = questions.map((q, i) => `"${q.question}"="${answers[i]?.length ? answers[i].join(', ') : 'Unanswered'}"`).join(', ');
  return `User has answered your questions: ${each}. You can now continue with the user's answers in mind.`;
}

/**
 * The answers back from the text `answersText` made of them, one text per question (choices joined
 * by ", " as the TUI shows them; an unanswered one empty), for OpenCode's `metadata.answers`; undefined
 * when the text is not such an answer.
 */
export function answersFromText(questions: readonly { question: string }[], text: string): string[][] | undefined {
  const head = 'User has answered your questions: ';
  const tail = ". You can now continue with the user's answers in mind.";
  if (!text.startsWith(head) || !text.endsWith(tail) || questions.length === 0) return undefined;
  const body = text.slice(head.length, text.length - tail.length);
  const answers: string[][] = [];
  let at = 0;
  for (let i = 0; i < questions.length; i += 1) {
    const open = `"${String(questions[i]?.question)}"="`;
    if (!body.startsWith(open, at)) return undefined;
    at += open.length;
    const next = questions[i + 1];
    const end = next === undefined ? body.length - 1 : body.indexOf(`", "${next.question}"="`, at);
    if (end < at || body[end] !== '"') return undefined;
    const value = body.slice(at, end);
    answers.push(value === 'Unanswered' ? [] : [value]);
    at = end + (next === undefined ? 1 : 3);
  }
  return at === body.length ? answers : undefined;
}

const OPTION_SCHEMA = {
  type: 'object',
  properties: {
    label: { type: 'string', minLength: 1, maxLength: MAX_LABEL_CHARS, description: 'Display text (1-5 words, concise)' },
    description: { type: 'string', maxLength: MAX_DESCRIPTION_CHARS, description: 'Explanation of choice' },
  },
  required: ['label', 'description'],
  additionalProperties: false,
} satisfies JSONSchema7;

const PROMPT_SCHEMA = {
  type: 'object',
  properties: {
    question: { type: 'string', minLength: 1, maxLength: MAX_QUESTION_CHARS, description: 'Complete question' },
    header: { type: 'string', maxLength: MAX_HEADER_CHARS, description: 'Very short label (max 30 chars)' },
    options: { type: 'array', items: OPTION_SCHEMA, maxItems: MAX_OPTIONS, description: 'Available choices' },
    multiple: { type: 'boolean', description: 'Allow selecting multiple choices' },
  },
  required: ['question', 'header', 'options'],
  additionalProperties: false,
} satisfies JSONSchema7;

export const questionTool: BuiltinTool<QuestionInput> = {
  name: 'question',
  description: QUESTION_DESCRIPTION,
  inputSchema: {
    type: 'object',
    properties: { questions: { type: 'array', items: PROMPT_SCHEMA, minItems: 1, maxItems: MAX_QUESTIONS, description: 'Questions to ask' } },
    required: ['questions'],
    additionalProperties: false,
  },
  async run(input: QuestionInput, ctx: ToolContext): Promise<string> {
    if (!ctx.askQuestions) throw new ToolError('question', 'nobody can answer questions in this run; go on without asking: choose what seems best, say what you assumed, and put any question that remains in your reply.');
    const questions = input.questions.map((q) => ({ question: q.question, header: q.header, options: q.options.map((o) => ({ label: o.label, description: o.description })), ...(q.multiple === undefined ? {} : { multiple: q.multiple }) }));
    const outcome = await ctx.askQuestions(questions, { toolCallId: ctx.toolCallId, input: ctx.toolInput ?? input, signal: ctx.signal });
    if ('answers' in outcome) return answersText(questions, outcome.answers);
    if ('dismissed' in outcome) throw new QuestionDismissedError(outcome.stopsTurn);
    throw new ToolError('question', outcome.refused);
  },
};
