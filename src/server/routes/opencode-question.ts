/**
 * OpenCode's question routes: the open questions of a project (`GET /question`), their answers
 * (`POST /question/{requestID}/reply` with `answers`, what OpenCode's TUI sends) and their dismissal
 * (`POST /question/{requestID}/reject`). Questions come from the `question` tool in turns OpenCode
 * clients sent (core/question-asks.ts) and are announced as `question.asked` on the event streams.
 */
import { ref, type JsonSchema, type RouteGroup } from '../route.ts';
import { MAX_ANSWER_CHARS } from '../../core/question-asks.ts';
import { MAX_DESCRIPTION_CHARS, MAX_HEADER_CHARS, MAX_LABEL_CHARS, MAX_OPTIONS, MAX_QUESTION_CHARS, MAX_QUESTIONS } from '../../tools/question.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const ERRORS = { 400: { description: 'Bad request', schema: ref('Error') }, 404: { description: 'No such open question', schema: ref('Error') } };
const DONE = { 200: { description: 'Done', schema: { type: 'boolean' } as JsonSchema }, ...ERRORS };
const REQUEST_ID = { requestID: { description: 'The question’s id (que_…)' } };

const OPTION: JsonSchema = {
  type: 'object',
  properties: { label: { type: 'string', maxLength: MAX_LABEL_CHARS, description: 'Display text (1-5 words, concise)' }, description: { type: 'string', maxLength: MAX_DESCRIPTION_CHARS, description: 'Explanation of choice' } },
  required: ['label', 'description'],
};
const INFO: JsonSchema = {
  type: 'object',
  properties: {
    question: { type: 'string', maxLength: MAX_QUESTION_CHARS, description: 'Complete question' },
    header: { type: 'string', maxLength: MAX_HEADER_CHARS, description: 'Very short label (max 30 chars)' },
    options: { type: 'array', items: ref('QuestionOption'), maxItems: MAX_OPTIONS, description: 'Available choices' },
    multiple: { type: 'boolean', description: 'Allow selecting multiple choices' },
    custom: { type: 'boolean', description: 'Allow typing a custom answer (default: true)' },
  },
  required: ['question', 'header', 'options'],
};
const REQUEST: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'que_…' },
    sessionID: { type: 'string' },
    questions: { type: 'array', items: ref('QuestionInfo'), maxItems: MAX_QUESTIONS, description: 'Questions to ask' },
    tool: { type: 'object', properties: { messageID: { type: 'string' }, callID: { type: 'string' } }, required: ['messageID', 'callID'] },
  },
  required: ['id', 'sessionID', 'questions'],
};
/** One list per question, in order; each the labels chosen, or a typed answer. */
const ANSWERS: JsonSchema = {
  type: 'array',
  maxItems: MAX_QUESTIONS,
  items: { type: 'array', maxItems: MAX_OPTIONS + 1, items: { type: 'string', maxLength: MAX_ANSWER_CHARS } },
  description: 'User answers in order of questions (each answer is an array of selected labels)',
};

export const openCodeQuestionRoutes: RouteGroup = {
  name: 'opencode-question',
  description: 'Questions the `question` tool puts, in turns sent through OpenCode’s API, to the clients listening to the project’s events, and their answers.',
  schemas: { QuestionOption: OPTION, QuestionInfo: INFO, QuestionRequest: REQUEST },
  routes: [
    {
      method: 'get',
      path: '/question',
      operationId: 'question.list',
      summary: 'The project’s open questions, oldest first',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'List of pending questions', schema: { type: 'array', items: ref('QuestionRequest') } } },
      handler: async (c) => c.json(c.get('state').host.sessions.questions.list((await requestInstance(c)).projectRoot)),
    },
    {
      method: 'post',
      path: '/question/{requestID}/reply',
      operationId: 'question.reply',
      summary: 'Answer a question: one list of labels (or a typed answer) per question, in order',
      params: REQUEST_ID,
      query: DIRECTORY_QUERY,
      body: { type: 'object', properties: { answers: ANSWERS }, required: ['answers'] },
      responses: DONE,
      handler: async (c, { params, body }) => {
        const projectRoot = (await requestInstance(c)).projectRoot;
        c.get('state').host.sessions.questions.reply(params.requestID as string, (body as { answers: unknown }).answers, projectRoot);
        return c.json(true);
      },
    },
    {
      method: 'post',
      path: '/question/{requestID}/reject',
      operationId: 'question.reject',
      summary: 'Dismiss a question: the model is told, and its turn ends after the step',
      params: REQUEST_ID,
      query: DIRECTORY_QUERY,
      responses: DONE,
      handler: async (c, { params }) => {
        const projectRoot = (await requestInstance(c)).projectRoot;
        c.get('state').host.sessions.questions.reject(params.requestID as string, projectRoot);
        return c.json(true);
      },
    },
  ],
};
