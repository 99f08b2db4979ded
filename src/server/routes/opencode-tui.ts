/**
 * OpenCode's `/tui/*` routes, which IDE extensions and SDK scripts call to drive the TUI attached to
 * the server (`opencode attach URL`): each publishes a `tui.*` event on the project's event stream,
 * which the TUI acts on (text appended to its prompt, a toast, a dialog opened, a command run, a
 * session shown), as OpenCode 1.18.33 does. And the control queue of `/tui/control/*`.
 */
import { HttpError } from '../http-error.ts';
import { shuttingDown } from '../calls-in-flight.ts';
import { commandEvent, nextTuiRequest, TOAST_DEFAULT_MS, TUI_COMMAND_NAMES, tuiCommandOf } from '../opencode/tui-control.ts';
import type { OcEvent } from '../opencode/live-turn.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { instanceFor } from '../state.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const str: JsonSchema = { type: 'string' };
const BAD = { 400: { description: 'Bad request (the field is named)', schema: ref('Error') } };
const DONE = (what: string) => ({ 200: { description: what, schema: { type: 'boolean' } as JsonSchema }, ...BAD });

const PROMPT_APPEND: JsonSchema = { type: 'object', required: ['text'], properties: { text: { ...str, description: 'Text added at the end of the prompt' } } };
const COMMAND_EXECUTE: JsonSchema = { type: 'object', required: ['command'], properties: { command: { ...str, description: 'A TUI command id (`prompt.submit`, `model.list`, …)' } } };
const TOAST_SHOW: JsonSchema = {
  type: 'object',
  required: ['message', 'variant'],
  properties: {
    title: str,
    message: str,
    variant: { type: 'string', enum: ['info', 'success', 'warning', 'error'] },
    duration: { type: ['integer', 'null'], minimum: 1, description: `How long the toast stays (ms; default ${TOAST_DEFAULT_MS})` },
  },
};
const SESSION_SELECT: JsonSchema = { type: 'object', required: ['sessionID'], properties: { sessionID: { ...str, description: 'Session id (ses_…) to show' } } };

/** `/tui/publish`'s body: one of the TUI's events. */
const TUI_EVENT: JsonSchema = {
  oneOf: [
    ['tui.prompt.append', PROMPT_APPEND],
    ['tui.command.execute', COMMAND_EXECUTE],
    ['tui.toast.show', TOAST_SHOW],
    ['tui.session.select', SESSION_SELECT],
  ].map(([type, properties]) => ({ type: 'object', required: ['type', 'properties'], properties: { type: { type: 'string', const: type as string }, properties: properties as JsonSchema } })),
  discriminator: { propertyName: 'type' },
};

function badField(field: string, message: string, hint: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `${field}: ${message}.`, { hint, details: { field } });
}

/** A session id's first check (OpenCode's): it starts with `ses`. */
function checkSessionId(id: string, field: string): void {
  if (!id.startsWith('ses')) throw badField(field, `expected a session id starting with "ses", found ${JSON.stringify(id.slice(0, 40))}`, 'Give an id from GET /session.');
}

/** The toast as the TUI reads it: OpenCode's field order, the default duration filled in. */
function toast(body: { title?: string; message: string; variant: string; duration?: number | null }): OcEvent {
  return { type: 'tui.toast.show', properties: { ...(body.title !== undefined ? { title: body.title } : {}), message: body.message, variant: body.variant, duration: body.duration ?? TOAST_DEFAULT_MS } };
}

/** Publishes `event` to the request's project (its `/event` and `/global/event`); answers `true`. */
async function publish(c: ServerContext, event: OcEvent): Promise<Response> {
  const instance = await requestInstance(c);
  c.get('state').events.publish(instance.projectRoot, event);
  return c.json(true);
}

function tuiCommand(name: string): OcEvent {
  const command = tuiCommandOf(name);
  if (command === undefined) {
    throw badField('command', `unknown command ${JSON.stringify(name.slice(0, 60))}`, `Send one of ${Object.keys(TUI_COMMAND_NAMES).join(', ')}, or a TUI command id such as prompt.submit or model.list.`);
  }
  return commandEvent(command);
}

/** A route that runs one TUI command, with no body. */
function opens(path: string, operationId: string, summary: string, command: string, note = ''): RouteDef {
  return {
    method: 'post',
    path,
    operationId,
    summary,
    description: `Publishes \`tui.command.execute\` with \`{command: "${command}"}\`${note}. Answers \`true\`.`,
    query: DIRECTORY_QUERY,
    responses: DONE(summary),
    handler: (c) => publish(c, commandEvent(command)),
  };
}

export const openCodeTuiRoutes: RouteGroup = {
  name: 'opencode-tui',
  description: 'Driving the TUI attached to the server (what IDE extensions call): each route publishes a `tui.*` event on the project’s event stream, which the TUI acts on.',
  routes: [
    {
      method: 'post',
      path: '/tui/append-prompt',
      operationId: 'tui.appendPrompt',
      summary: 'Append text to the TUI’s prompt',
      description: 'Publishes `tui.prompt.append` with `{text}`. Answers `true`.',
      query: DIRECTORY_QUERY,
      body: PROMPT_APPEND,
      responses: DONE('Published'),
      handler: (c, { body }) => publish(c, { type: 'tui.prompt.append', properties: { text: (body as { text: string }).text } }),
    },
    opens('/tui/clear-prompt', 'tui.clearPrompt', 'Clear the TUI’s prompt', 'prompt.clear'),
    opens('/tui/submit-prompt', 'tui.submitPrompt', 'Submit the TUI’s prompt', 'prompt.submit'),
    opens('/tui/open-help', 'tui.openHelp', 'Open the TUI’s help dialog', 'help.show'),
    opens('/tui/open-models', 'tui.openModels', 'Open the TUI’s model picker', 'model.list'),
    opens('/tui/open-sessions', 'tui.openSessions', 'Open the TUI’s session list', 'session.list'),
    opens('/tui/open-themes', 'tui.openThemes', 'Open the TUI’s theme picker', 'theme.switch', ' (OpenCode 1.18.33 publishes `session.list` here, which opens the session list instead)'),
    {
      method: 'post',
      path: '/tui/execute-command',
      operationId: 'tui.executeCommand',
      summary: 'Run a TUI command',
      description: `Publishes \`tui.command.execute\`. \`command\` is one of OpenCode’s names (${Object.entries(TUI_COMMAND_NAMES)
        .map(([from, to]) => `\`${from}\` → \`${to}\``)
        .join(', ')}) or a TUI command id of the form \`word.word\` (\`prompt.submit\`, \`model.list\`, \`theme.switch\`, …), passed on as it is. Anything else is a 400 naming \`command\` (OpenCode publishes an empty command, which the TUI ignores). Answers \`true\`.`,
      query: DIRECTORY_QUERY,
      body: COMMAND_EXECUTE,
      responses: DONE('Published'),
      handler: (c, { body }) => publish(c, tuiCommand((body as { command: string }).command)),
    },
    {
      method: 'post',
      path: '/tui/show-toast',
      operationId: 'tui.showToast',
      summary: 'Show a toast in the TUI',
      description: `Publishes \`tui.toast.show\` with \`{title?, message, variant, duration}\` (\`duration\` in ms, default ${TOAST_DEFAULT_MS}). Answers \`true\`.`,
      query: DIRECTORY_QUERY,
      body: TOAST_SHOW,
      responses: DONE('Published'),
      handler: (c, { body }) => publish(c, toast(body as Parameters<typeof toast>[0])),
    },
    {
      method: 'post',
      path: '/tui/publish',
      operationId: 'tui.publish',
      summary: 'Publish a TUI event',
      description: 'The body is one of the TUI’s events, `{type, properties}`: `tui.prompt.append`, `tui.command.execute`, `tui.toast.show` or `tui.session.select` (whose session id must start with `ses`; OpenCode does not check that it exists here). Published as given (a toast’s duration defaulted). Answers `true`.',
      query: DIRECTORY_QUERY,
      body: TUI_EVENT,
      responses: DONE('Published'),
      handler: (c, { body }) => {
        const event = body as { type: string; properties: Record<string, unknown> };
        switch (event.type) {
          case 'tui.toast.show':
            return publish(c, toast(event.properties as Parameters<typeof toast>[0]));
          case 'tui.session.select':
            checkSessionId(event.properties.sessionID as string, 'properties.sessionID');
            return publish(c, { type: event.type, properties: { sessionID: event.properties.sessionID } });
          case 'tui.prompt.append':
            return publish(c, { type: event.type, properties: { text: event.properties.text } });
          default:
            return publish(c, { type: event.type, properties: { command: event.properties.command } });
        }
      },
    },
    {
      method: 'post',
      path: '/tui/select-session',
      operationId: 'tui.selectSession',
      summary: 'Show a session in the TUI',
      description: 'Publishes `tui.session.select` with `{sessionID}`, which the TUI navigates to. A session id not starting with `ses` is a 400; a session that does not exist, a 404. Answers `true`.',
      query: DIRECTORY_QUERY,
      body: SESSION_SELECT,
      responses: { ...DONE('Published'), 404: { description: 'No such session', schema: ref('Error') } },
      handler: async (c, { body }) => {
        const { sessionID } = body as { sessionID: string };
        checkSessionId(sessionID, 'sessionID');
        await c.get('state').host.sessions.get(sessionID);
        return publish(c, { type: 'tui.session.select', properties: { sessionID } });
      },
    },
    {
      method: 'get',
      path: '/tui/control/next',
      operationId: 'tui.control.next',
      summary: 'Wait for the next request for the TUI',
      description:
        'A long poll for `{path, body}`, the next request queued for a TUI. Nothing in Pantheon queues one (nor does OpenCode 1.18.33’s server), so the request waits until its client goes away; when the server stops, it is answered 503 (SHUTTING_DOWN).',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'The next request', schema: { type: 'object', required: ['path', 'body'], properties: { path: str, body: {} } } }, ...BAD, 503: { description: 'The server is stopping', schema: ref('Error') } },
      serve: async (req) => {
        await instanceFor(req.state, req.header('x-opencode-directory'), req.query('directory'));
        // Waits as the gateway's calls wait on a rate limit: a stopping server answers it 503 at once.
        const wait = req.state.calls.start(req);
        try {
          wait.waiting(true);
          return { status: 200, json: await nextTuiRequest(req.signal) };
        } catch (error) {
          throw wait.stopped ?? (error instanceof HttpError ? error : shuttingDown());
        } finally {
          wait.end();
        }
      },
    },
    {
      method: 'post',
      path: '/tui/control/response',
      operationId: 'tui.control.response',
      summary: 'Answer a request for the TUI',
      description: 'Takes any JSON value (a body is required). No request for the TUI waits for an answer in Pantheon (see GET /tui/control/next), so it is not kept. Answers `true`.',
      query: DIRECTORY_QUERY,
      body: { description: 'The answer (any JSON value)' },
      responses: DONE('Taken'),
      handler: async (c) => {
        await requestInstance(c);
        return c.json(true);
      },
    },
  ] satisfies RouteDef[],
};
