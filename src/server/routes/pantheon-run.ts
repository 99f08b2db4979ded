/**
 * `POST /pantheon/run`: what `opencode run --attach URL` calls. One turn, run as a local
 * `opencode run` would run it (the session named, the project's latest, or a new one saved with its
 * first turn; an unknown agent or model ends the turn with its error), and Pantheon's own events of
 * that turn streamed back as NDJSON, taken from the host's event stream:
 *
 *   {"start": {sessionID, nothingToContinue, warnings}}   first
 *   {"event": <the event as `opencode run --format json` prints it>}   …
 *   {"note": {dropped, contextTokens}}                    earlier messages left out to fit the context
 *   {"heartbeat": ms}                                     every 10 s, so idle proxies keep the stream
 *   {"end": {status, sessionID, saved, usage, costUSD, servedBy, byAgent, error}}   last
 *
 * A client that goes away cancels its turn (as Ctrl-C cancels a local run). One that stops reading
 * is cut off once 8 MiB of lines wait for it: the lines are dropped, its turn goes on and is saved.
 */
import { replacedAgentWarning } from '../../agents/replaced-agent.ts';
import { defaultAgentName } from '../../agents/resolve-agent.ts';
import type { PromptInput } from '../../core/sessions.ts';
import type { TurnResult } from '../../core/session-turn.ts';
import { isPantheonError } from '../../errors.ts';
import { commandInput, withCommandHook } from '../command-input.ts';
import { HttpError } from '../http-error.ts';
import { rulesToPermission } from '../opencode/session-view.ts';
import { ref, type JsonSchema, type RouteGroup } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

interface RunBody {
  message: string;
  agent?: string;
  model?: string;
  variant?: string;
  title?: string;
  command?: string;
  sessionID?: string;
  continue?: boolean;
  fork?: boolean;
  files?: { name: string; data: string }[];
  auto?: boolean;
  noCache?: boolean;
  timeoutMs?: number;
}

const RUN_BODY: JsonSchema = {
  type: 'object',
  description: 'The flags of `opencode run`, as `run --attach` sends them.',
  properties: {
    message: { type: 'string', description: 'The message (arguments and piped stdin); not empty unless `command` is given' },
    agent: { type: 'string', description: '--agent' },
    model: { type: 'string', description: '--model provider/model[:variant]' },
    variant: { type: 'string', minLength: 1, maxLength: 100, description: '--variant: the head model with this variant' },
    title: { type: 'string', minLength: 1, maxLength: 500, description: '--title: the title of a session this run starts' },
    command: { type: 'string', minLength: 1, maxLength: 200, description: '--command: the config\'s command of this name, expanded on the server; `message` is its arguments (may be empty)' },
    sessionID: { type: 'string', description: '--session: continue this session' },
    continue: { type: 'boolean', description: "--continue: the project's latest session" },
    fork: { type: 'boolean', description: '--fork: continue a copy of that session (sessionID or continue)' },
    files: {
      type: 'array',
      maxItems: 100,
      description: '--file: files read by the client (text inline, images as file parts), as the client named them',
      items: { type: 'object', properties: { name: { type: 'string', minLength: 1 }, data: { type: 'string', description: 'base64' } }, required: ['name', 'data'], additionalProperties: false },
    },
    auto: { type: 'boolean', description: '--auto: approve tools whose permission is ask (never paths outside the project)' },
    noCache: { type: 'boolean', description: '--no-cache: skip the response cache for this turn' },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000, description: '--timeout: per attempt (ms)' },
  },
  required: ['message'],
  additionalProperties: false,
};

/** The end of a turn as the client renders it (the error with its code, hint, details and exit code). */
export function endFrame(result: TurnResult): Record<string, unknown> {
  const e = result.error;
  const error =
    result.status === 'success'
      ? undefined
      : isPantheonError(e)
        ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), details: e.details, exitCode: e.exitCode }
        : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), details: [], exitCode: 1 };
  return {
    status: result.status,
    sessionID: result.sessionID,
    saved: result.saved,
    usage: result.usage,
    ...(result.costUSD === undefined ? {} : { costUSD: result.costUSD }),
    servedBy: result.servedBy,
    byAgent: result.byAgent,
    ...(error ? { error } : {}),
  };
}

const encoder = new TextEncoder();
/** A client further behind than this (it stopped reading) is cut off, as an event stream's is (sse-stream.ts). */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export const pantheonRunRoutes: RouteGroup = {
  name: 'pantheon-run',
  description: 'Runs for `opencode run --attach`: one turn, its Pantheon events streamed back as NDJSON.',
  schemas: { RunBody: RUN_BODY },
  routes: [
    {
      method: 'post',
      path: '/pantheon/run',
      operationId: 'pantheon.run',
      summary: 'Run one turn and stream its events (what `opencode run --attach` calls)',
      description:
        'Lines of JSON: {"start": {sessionID, nothingToContinue, warnings}}, then {"event": …} per event (as `opencode run --format json` prints them), {"note": …}, {"heartbeat": ms}, and {"end": {status, sessionID, saved, usage, costUSD, servedBy, byAgent, error}}. Closing the connection cancels the turn; a client that stops reading is cut off once 8 MiB of lines wait for it (its turn goes on and is saved).',
      query: DIRECTORY_QUERY,
      body: ref('RunBody'),
      responses: {
        200: { description: 'NDJSON stream of the turn', contentType: 'application/x-ndjson' },
        400: { description: 'Bad body, unknown session or directory', schema: ref('Error') },
        409: { description: 'The session is busy', schema: ref('Error') },
      },
      handler: async (c, { body }) => {
        const b = body as RunBody;
        if (b.sessionID !== undefined && b.continue) {
          throw new HttpError(400, 'BAD_REQUEST', 'body fields "sessionID" and "continue" exclude each other.', { hint: 'Send one: a session to continue, or continue the latest.', details: { kind: 'Body', field: 'continue' } });
        }
        const state = c.get('state');
        const { host } = state;
        const instance = await requestInstance(c);
        if (b.command === undefined && !b.message.trim()) {
          throw new HttpError(400, 'BAD_REQUEST', 'body field "message": the message is empty.', { hint: 'Send the message, or a command with its arguments.', details: { kind: 'Body', field: 'message' } });
        }
        // `--command`: expanded here, in the server's project, as a local run expands it.
        // A built-in a plugin's config hook replaced (oh-my-opencode's sisyphus) named by `--agent`: as a local run, said and the default agent run instead.
        const leftBy = instance.loaded.leftByPlugins;
        const fallsBack = b.agent !== undefined && leftBy?.includes(b.agent) === true;
        const given = fallsBack ? undefined : b.agent;
        // A command whose own agent the hook replaced is refused (commandInput), as OpenCode refuses it.
        const expanded = b.command === undefined ? undefined : await commandInput(instance.config, { command: b.command, arguments: b.message, agent: given, model: b.model, what: '--command', replaced: leftBy }, instance.projectRoot, host.env);
        const opened = await host.sessions.open(instance.projectRoot, { ...(b.sessionID !== undefined ? { sessionID: b.sessionID } : {}), continue: Boolean(b.continue), ...(b.fork ? { fork: true } : {}) });
        // The plugins' `command.execute.before` sees (and may change) it once its session is known, as under a local `run --command`.
        const command = expanded && b.command !== undefined ? await withCommandHook(expanded, { command: b.command, arguments: b.message }, { plugins: instance.plugins, sessionID: opened.sessionID }) : expanded;
        let open = true;
        let controller!: ReadableStreamDefaultController<Uint8Array>;
        const stream = new ReadableStream<Uint8Array>(
          {
            start: (ctrl) => {
              controller = ctrl;
            },
            cancel: () => finish('cancelled'),
          },
          new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
        );
        const signal = c.req.raw.signal;
        let heartbeat: ReturnType<typeof setInterval> | undefined;
        const writeLine = (line: string): void => {
          if (!open) return;
          controller.enqueue(encoder.encode(`${line}\n`));
          // A client this far behind (it stopped reading) is cut off; its turn goes on and is saved.
          if ((controller.desiredSize ?? 0) < -MAX_QUEUED_BYTES) finish('behind');
        };
        const sent = (b.files ?? []).map((f) => ({ name: f.name, label: `--file ${f.name}`, data: Buffer.from(f.data, 'base64') }));
        const attachments = [...sent, ...(command?.subtask ? [] : (command?.attachments ?? []))];
        // A command that is a sub-task (OpenCode's `/review`) runs as one; the turn is the run's agent's, as at `POST /session/{id}/command`.
        const subtask = command?.subtask;
        const replaced = fallsBack && b.agent !== undefined ? replacedAgentWarning(b.agent, defaultAgentName(instance.config, leftBy)) : undefined;
        const agent = command && !subtask ? command.agent : given;
        const model = command && !subtask ? command.model : b.model;
        const input: PromptInput = {
          text: subtask ? '' : (command?.text ?? b.message),
          ...(subtask ? { subtask } : {}),
          ...(attachments.length ? { attachments } : {}),
          ...(agent ? { agent } : {}),
          ...(model ? { model } : {}),
          ...(b.variant ? { variant: b.variant } : {}),
          ...(b.title ? { title: b.title } : {}),
          ...(b.timeoutMs ? { timeoutMs: b.timeoutMs } : {}),
          ...(b.noCache ? { noCache: true } : {}),
          ...(b.auto ? { approvals: rulesToPermission([{ permission: '*', action: 'allow' }]) } : {}),
          onHistoryTrimmed: (dropped, contextTokens) => writeLine(JSON.stringify({ note: { dropped, contextTokens } })),
        };
        const off = host.hub.subscribe((e) => {
          if (e.type === 'pantheon' && e.sessionID === opened.sessionID) writeLine(`{"event":${JSON.stringify(e.event)}}`);
        });
        const warnings = replaced ? [...instance.loaded.warnings, { message: replaced }] : instance.loaded.warnings;
        writeLine(JSON.stringify({ start: { sessionID: opened.sessionID, nothingToContinue: opened.nothingToContinue, warnings } }));
        let started: Awaited<ReturnType<typeof host.sessions.launch>> | undefined;
        try {
          started = await host.sessions.launch(opened, instance.projectRoot, input);
        } catch (error) {
          off();
          throw error;
        }
        /** `done`: the stream ends after its last line; `cancelled`: the client went away (its turn is cancelled); `behind`: the client fell too far behind (cut off, its lines dropped). */
        function finish(how: 'done' | 'cancelled' | 'behind'): void {
          if (!open) return;
          open = false;
          clearInterval(heartbeat);
          off();
          signal.removeEventListener('abort', onAbort);
          if (how === 'cancelled') started?.cancel();
          else if (how === 'done') controller.close();
          else controller.error(new Error(`The client fell more than ${MAX_QUEUED_BYTES / 2 ** 20} MiB behind the turn's events.`));
        }
        function onAbort(): void {
          finish('cancelled');
        }
        if (open) {
          heartbeat = setInterval(() => writeLine(JSON.stringify({ heartbeat: Date.now() })), state.options.heartbeatMs);
          signal.addEventListener('abort', onAbort);
        }
        started.done.then(
          (outcome) => {
            writeLine(JSON.stringify({ end: endFrame(outcome.result) }));
            finish('done');
          },
          (error: unknown) => {
            writeLine(JSON.stringify({ end: { status: 'failed', sessionID: opened.sessionID, saved: false, error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), details: [], exitCode: 1 } } }));
            finish('done');
          },
        );
        return new Response(stream, { headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' } });
      },
    },
  ],
};
