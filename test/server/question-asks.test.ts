/**
 * OpenCode's `question` tool in turns sent through OpenCode's API, as OpenCode's TUI sees it: the
 * model's questions are announced as `question.asked` (OpenCode's QuestionRequest, the call shown
 * running with its input) to the clients listening to the project, listed by `GET /question`, and
 * answered with `POST /question/{id}/reply` from @opencode-ai/sdk's v2 client (the model is told
 * the answers in OpenCode's words) or dismissed with `POST /question/{id}/reject` (the turn ends
 * after the call's step). With nobody listening, once the last listener leaves, or on an abort, the
 * call is refused; where nobody could ever answer (`opencode run`, `run --attach`, the REST API, a session whose rules deny
 * `question`, an agent whose tools or permission turn it off, an agent OpenCode does not offer it to
 * unless its permission allows it, a server whose OPENCODE_CLIENT is not one OpenCode offers it to)
 * it is not offered. Real server, real
 * SDK, the scripted model calling `question`.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { idleOf, type OcEventLike } from './sdk-helper.ts';
import { listen as listenTo, toolResult as toolResultOf, untilNotBusy, type Listener } from './asks-helper.ts';
import { serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;

beforeAll(async () => {
  model = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    agent: { quiet: { tools: { question: false } }, closed: { permission: { question: 'deny' } }, mine: { mode: 'primary' }, asker: { mode: 'primary', permission: { question: 'allow' } } },
  });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

// A turn cut short (an abort, a rejection) leaves its scripted answer queued: each test starts from none.
beforeEach(() => model.reset());

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

type Info = { question: string; header: string; options: { label: string; description: string }[]; multiple?: boolean };
type Request = { id: string; sessionID: string; questions: Info[]; tool: { messageID: string; callID: string } };

const PICK: Info = { question: 'Which database?', header: 'Database', options: [{ label: 'Postgres (Recommended)', description: 'Relational' }, { label: 'SQLite', description: 'Embedded' }] };
const MANY: Info = { question: 'Which checks should run?', header: 'Checks', options: [{ label: 'lint', description: 'eslint' }, { label: 'types', description: 'tsc' }, { label: 'tests', description: 'vitest' }], multiple: true };

/** The model calls question with `questions`, then says `after`. */
function scriptQuestion(questions: Info[], after = 'noted.', id = `call_${Math.random().toString(36).slice(2, 10)}`): string {
  model.script('m', { type: 'tool_calls', calls: [{ name: 'question', arguments: { questions }, id }] }, { type: 'text', text: after });
  return id;
}

const toolResult = (id: string) => toolResultOf(model, id);

/** The tool names the model was offered in its last request. */
function offered(): string[] {
  return ((model.log.at(-1)?.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name);
}

const listen = (c = client) => listenTo(c);

const asked = (sessionID: string) => (e: OcEventLike) => e.type === 'question.asked' && e.properties.sessionID === sessionID;
const newSession = async () => ((await client.session.create({})).data as { id: string }).id;
const partsOf = (listener: Listener, callID: string) => listener.stream.events.filter((e) => e.type === 'message.part.updated' && (e.properties.part as { callID?: string }).callID === callID);

/** A turn of `sessionID` sent through OpenCode's API in which the model asks `questions`: the call's id and the request it raised. */
async function ask(listener: Listener, sessionID: string, questions: Info[], after?: string): Promise<{ callID: string; request: Request }> {
  const callID = scriptQuestion(questions, after);
  // The session's turn before this one has ended (a prompt to a busy session is refused).
  await untilNotBusy(client, sessionID);
  const sent = await client.session.promptAsync({ sessionID, parts: [{ type: 'text', text: 'plan it with me' }] });
  expect(sent.response.status).toBeLessThan(300);
  const request = (await listener.stream.until((e) => asked(sessionID)(e) && (e.properties.tool as { callID?: string } | undefined)?.callID === callID)).properties as Request;
  return { callID, request };
}

describe('the question tool with an OpenCode client listening', () => {
  it('one question: announced with its call running, listed, answered with a label; the model is told in OpenCode\u2019s words; the part keeps the answers', async () => {
    const listener = await listen();
    try {
      const session = await newSession();
      const { callID, request } = await ask(listener, session, [PICK], 'Postgres it is.');
      expect(request).toEqual({ id: expect.stringMatching(/^que_/), sessionID: session, questions: [PICK], tool: { messageID: expect.stringMatching(/^msg_/), callID } });
      expect(offered()).toContain('question');
      // (it was pending first, while the model wrote it: tool-running-part.test.ts)
      const running = await listener.stream.until((e) => e.type === 'message.part.updated' && (e.properties.part as { callID?: string }).callID === callID && (e.properties.part as { state?: { status?: string } }).state?.status === 'running');
      expect(running.properties.part).toMatchObject({ type: 'tool', tool: 'question', messageID: request.tool.messageID, state: { status: 'running', input: { questions: [PICK] } } });
      expect((await client.question.list({})).data).toEqual([request]);
      // v2's list of the location's open questions: the same, as {location, data}.
      expect((await client.v2.question.request.list({})).data).toMatchObject({ location: { directory: sb.project }, data: [request] });

      expect((await client.question.reply({ requestID: request.id, answers: [['SQLite']] })).data).toBe(true);
      await listener.stream.until(idleOf(session));
      expect(listener.stream.events.find((e) => e.type === 'question.replied')?.properties).toEqual({ sessionID: session, requestID: request.id, answers: [['SQLite']] });
      expect(toolResult(callID)).toBe('User has answered your questions: "Which database?"="SQLite". You can now continue with the user\'s answers in mind.');
      expect((await client.question.list({})).data).toEqual([]);
      // The same part, completed, with the answers the TUI draws under the question; the session as read back says the same.
      expect(partsOf(listener, callID).at(-1)?.properties.part).toMatchObject({ id: (running.properties.part as { id: string }).id, state: { status: 'completed', title: 'Asked 1 question', metadata: { answers: [['SQLite']], truncated: false } } });
      const messages = (await client.session.messages({ sessionID: session })).data as { parts: { callID?: string; state?: unknown }[] }[];
      const saved = messages.flatMap((m) => m.parts).find((p) => p.callID === callID);
      expect(saved?.state).toMatchObject({ status: 'completed', title: 'Asked 1 question', metadata: { answers: [['SQLite']], truncated: false } });
      // Answered already: a 404.
      const again = await client.question.reply({ requestID: request.id, answers: [['SQLite']] });
      expect(again.response.status).toBe(404);
      expect(JSON.stringify(again.error)).toContain(`No question ${request.id} is open in this project.`);
    } finally {
      listener.stop();
    }
  });

  it('several questions: several labels for a multiple-choice one, a typed answer, one left unanswered', async () => {
    const listener = await listen();
    try {
      const session = await newSession();
      const { callID, request } = await ask(listener, session, [PICK, MANY, { question: 'Anything else?', header: 'Notes', options: [] }]);
      await client.question.reply({ requestID: request.id, answers: [['MariaDB, clustered'], ['lint', 'tests'], []] });
      await model.waitFor(() => toolResult(callID) !== '');
      expect(toolResult(callID)).toBe('User has answered your questions: "Which database?"="MariaDB, clustered", "Which checks should run?"="lint, tests", "Anything else?"="Unanswered". You can now continue with the user\'s answers in mind.');
      await listener.stream.until(idleOf(session));
      expect(partsOf(listener, callID).at(-1)?.properties.part).toMatchObject({ state: { metadata: { answers: [['MariaDB, clustered'], ['lint, tests'], []] } } });
    } finally {
      listener.stop();
    }
  });

  it('rejected: question.rejected, the model is told the user dismissed it, and the turn ends after the step (the model is not asked again)', async () => {
    const listener = await listen();
    try {
      const session = await newSession();
      const { callID, request } = await ask(listener, session, [PICK]);
      const requests = model.log.length;
      expect((await client.question.reject({ requestID: request.id })).data).toBe(true);
      await listener.stream.until(idleOf(session));
      expect(listener.stream.events.find((e) => e.type === 'question.rejected')?.properties).toEqual({ sessionID: session, requestID: request.id });
      expect(model.log).toHaveLength(requests);
      // What OpenCode's TUI draws as a dismissed question, not as a failure.
      expect(partsOf(listener, callID).at(-1)?.properties.part).toMatchObject({ state: { status: 'error', error: expect.stringContaining('The user dismissed this question') } });
      expect((await client.question.list({})).data).toEqual([]);
      // The next turn's history carries the dismissed call.
      model.reset();
      const next = await ask(listener, session, [MANY]);
      await client.question.reply({ requestID: next.request.id, answers: [['types']] });
      await model.waitFor(() => toolResult(next.callID) !== '');
      expect(toolResult(callID)).toContain('The user dismissed this question');
    } finally {
      listener.stop();
    }
  });

  it('bad answers: a 400 naming the field (count, a second answer to a one-answer question, empty, too long, not a list), 404 for an unknown id or another project; the question stays open', async () => {
    const listener = await listen();
    try {
      const session = await newSession();
      const { request } = await ask(listener, session, [PICK, MANY]);
      const post = (url: string, body: unknown) => fetch(`${s.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(sb.project) }, body: JSON.stringify(body) });
      const bad = async (url: string, body: unknown, status: number, text: RegExp) => {
        const res = await post(url, body);
        const said = await res.text();
        expect(res.status, JSON.stringify(body).slice(0, 200)).toBe(status);
        expect(said, JSON.stringify(body).slice(0, 200)).toMatch(text);
      };
      const reply = `/question/${request.id}/reply`;
      await bad(reply, {}, 400, /answers/);
      await bad(reply, { answers: 'SQLite' }, 400, /answers/);
      await bad(reply, { answers: [['SQLite']] }, 400, /answers: expected 2 answers, one per question, found 1/);
      await bad(reply, { answers: [['SQLite', 'Postgres (Recommended)'], []] }, 400, /answers\[0\]: question 1 takes one answer, found 2/);
      await bad(reply, { answers: [['SQLite'], ['lint', ' ']] }, 400, /answers\[1\]\[1\]: an empty answer/);
      await bad(reply, { answers: [['SQLite'], ['my own', 'and another']] }, 400, /answers\[1\]\[1\]: a second typed answer/);
      await bad(reply, { answers: [['x'.repeat(10_001)], []] }, 400, /answers/);
      await bad(reply, { answers: [[1], []] }, 400, /answers/);
      await bad('/question/que_nope/reply', { answers: [] }, 404, /No question que_nope is open in this project\./);
      await bad('/question/que_nope/reject', {}, 404, /No question que_nope is open in this project\./);
      const elsewhere = await fetch(`${s.url}${reply}?directory=${encodeURIComponent(sb.root)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answers: [['SQLite'], []] }) });
      expect(elsewhere.status).toBe(404);
      expect(((await client.question.list({})).data as Request[]).map((q) => q.id)).toEqual([request.id]);
      await client.question.reply({ requestID: request.id, answers: [['SQLite'], ['lint']] });
      await listener.stream.until(idleOf(session));
    } finally {
      listener.stop();
    }
  });

  it('a call the schema refuses (no options) is a tool error the model reads; nothing is asked', async () => {
    const listener = await listen();
    try {
      const session = await newSession();
      const id = 'call_noopts';
      model.script('m', { type: 'tool_calls', calls: [{ name: 'question', arguments: { questions: [{ question: 'Why?', header: 'Why' }] }, id }] }, { type: 'text', text: 'ok' });
      await client.session.prompt({ sessionID: session, parts: [{ type: 'text', text: 'ask badly' }] });
      expect(toolResult(id)).toContain('missing required argument "options"');
      expect(listener.stream.events.filter(asked(session))).toEqual([]);
    } finally {
      listener.stop();
    }
  });
});

describe('where nobody can answer', () => {
  it('nobody listening: refused at once with words the model can act on; the last listener leaving refuses the open question; an abort ends it', async () => {
    const session = await newSession();
    const unheard = scriptQuestion([PICK]);
    const reply = await client.session.prompt({ sessionID: session, parts: [{ type: 'text', text: 'nobody there' }] });
    expect(reply.response.status).toBe(200);
    expect(toolResult(unheard)).toContain('nobody can answer: no OpenCode client is listening to this project to answer questions. Go on without asking');

    const listener = await listen();
    const { callID: left } = await ask(listener, session, [PICK]);
    listener.stop();
    await model.waitFor(() => toolResult(left).includes('nobody can answer'));

    const again = await listen();
    try {
      const { request } = await ask(again, session, [PICK]);
      await client.session.abort({ sessionID: session });
      await again.stream.until((e) => e.type === 'question.rejected' && e.properties.requestID === request.id);
      expect((await client.question.list({})).data).toEqual([]);
    } finally {
      again.stop();
    }
  });

  it('not offered: in `opencode run` and `run --attach`, through the REST API, in a session whose rules deny question (as OpenCode\u2019s `run` makes them), to an agent with tools.question false or permission.question deny', async () => {
    const listener = await listen();
    try {
      const session = await newSession();
      const rest = await fetch(`${s.url}/api/v1/sessions/${session}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(sb.project) }, body: JSON.stringify({ text: 'hello' }) });
      expect(rest.status).toBe(200);
      expect(offered()).not.toContain('question');
      expect(offered()).toContain('read');

      // `opencode run`, and `run --attach`: nobody there answers.
      for (const args of [['run', 'hello'], ['run', '--attach', s.url, 'hello']]) {
        const run = await sb.run(args);
        expect(run.code, run.stderr).toBe(0);
        expect(offered(), args.join(' ')).not.toContain('question');
        expect(offered(), args.join(' ')).toContain('read');
      }

      const denied = ((await client.session.create({ permission: [{ permission: 'question', action: 'deny', pattern: '*' }] })).data as { id: string }).id;
      await client.session.prompt({ sessionID: denied, parts: [{ type: 'text', text: 'hello' }] });
      expect(offered()).not.toContain('question');
      expect(offered()).toContain('read');

      for (const agent of ['quiet', 'closed']) {
        await client.session.prompt({ sessionID: session, agent, parts: [{ type: 'text', text: 'hello' }] });
        expect(offered(), agent).not.toContain('question');
        expect(offered(), agent).toContain('read');
      }
      // The session keeps the agent it last ran: a new one runs the default agent, which is offered it.
      await client.session.prompt({ sessionID: await newSession(), parts: [{ type: 'text', text: 'hello' }] });
      expect(offered()).toContain('question');
    } finally {
      listener.stop();
    }
  });
});

describe('which agents are offered question, as OpenCode\u2019s defaults say', () => {
  it('build and plan (OpenCode\u2019s), sisyphus and prometheus (oh-my-opencode\u2019s) and an agent whose permission allows it; not an agent of one\u2019s own that says nothing, nor explore', async () => {
    const listener = await listen();
    try {
      const session = await newSession();
      const offeredTo = async (agent: string): Promise<boolean> => {
        await client.session.prompt({ sessionID: session, agent, parts: [{ type: 'text', text: 'hello' }] });
        expect(offered(), agent).toContain('read');
        return offered().includes('question');
      };
      const agents = ['build', 'plan', 'sisyphus', 'prometheus', 'asker', 'mine', 'explore'];
      const got: Record<string, boolean> = {};
      for (const agent of agents) got[agent] = await offeredTo(agent);
      expect(got).toEqual({ build: true, plan: true, sisyphus: true, prometheus: true, asker: true, mine: false, explore: false });
    } finally {
      listener.stop();
    }
  });
});

describe('OPENCODE_CLIENT, as OpenCode reads it', () => {
  it('a client other than cli, app or desktop is not offered question, unless OPENCODE_ENABLE_QUESTION_TOOL is on', async () => {
    for (const [env, expected] of [[{ OPENCODE_CLIENT: 'acp' }, false], [{ OPENCODE_CLIENT: 'acp', OPENCODE_ENABLE_QUESTION_TOOL: 'true' }, true]] as const) {
      const other = await serve(sb, [], env);
      try {
        const c = createOpencodeClient({ baseUrl: other.url, directory: sb.project });
        const session = ((await c.session.create({})).data as { id: string }).id;
        await c.session.prompt({ sessionID: session, parts: [{ type: 'text', text: 'hello' }] });
        expect(offered().includes('question'), JSON.stringify(env)).toBe(expected);
        expect(offered()).toContain('read');
      } finally {
        await other.stop();
      }
    }
  });
});

describe('with OPENCODE_SERVER_PASSWORD', () => {
  it('the question routes need it (a JSON 401 without), and a client with it is asked and answers', async () => {
    const locked = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw-question-asks-01' });
    try {
      for (const [method, url] of [['GET', '/question'], ['POST', '/question/que_x/reply'], ['POST', '/question/que_x/reject']] as const) {
        const res = await fetch(`${locked.url}${url}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"answers":[]}' } : {}) });
        expect(res.status, url).toBe(401);
        expect(res.headers.get('content-type'), url).toMatch(/json/);
      }
      const authorized = createOpencodeClient({ baseUrl: locked.url, directory: sb.project, headers: { authorization: `Basic ${Buffer.from('opencode:pw-question-asks-01').toString('base64')}` } });
      const listener = await listen(authorized);
      try {
        const session = ((await authorized.session.create({})).data as { id: string }).id;
        const callID = scriptQuestion([PICK]);
        await authorized.session.promptAsync({ sessionID: session, parts: [{ type: 'text', text: 'behind a password' }] });
        const request = (await listener.stream.until(asked(session))).properties as Request;
        expect((await authorized.question.reply({ requestID: request.id, answers: [['Postgres (Recommended)']] })).data).toBe(true);
        await model.waitFor(() => toolResult(callID).includes('"Which database?"="Postgres (Recommended)"'));
      } finally {
        listener.stop();
      }
    } finally {
      await locked.stop();
    }
  });
});
