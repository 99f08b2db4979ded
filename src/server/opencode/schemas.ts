/**
 * OpenCode's API shapes (as `@opencode-ai/sdk` v1 and v2 use them), for /doc and for checking
 * request bodies. Responses carry the v2 fields; v1 clients read the subset they know.
 */
import { ref, type JsonSchema } from '../route.ts';

const str = (description?: string): JsonSchema => ({ type: 'string', ...(description ? { description } : {}) });
const num = (description?: string): JsonSchema => ({ type: 'number', ...(description ? { description } : {}) });
const obj = (properties: Record<string, JsonSchema>, required: string[] = [], extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: 'object', properties, required, ...extra });

const tokens = obj({ input: num(), output: num(), reasoning: num(), cache: obj({ read: num(), write: num() }, ['read', 'write']) }, ['input', 'output', 'reasoning', 'cache']);
const partBase = { id: str(), sessionID: str(), messageID: str() };
const modelRef = obj({ providerID: str(), modelID: str() }, ['providerID', 'modelID']);
const errorNamed = obj({ name: str('BadRequest, NotFoundError, SessionBusyError, UnauthorizedError, PayloadTooLarge, UnknownError'), data: obj({ message: str('One sentence saying what is wrong.'), code: str("Pantheon's stable error code."), hint: str('What to do about it.') }, ['message']) }, ['name', 'data']);

/** A permission rule set as OpenCode v2 writes it: later rules win. */
const permissionRuleset: JsonSchema = {
  type: 'array',
  maxItems: 200,
  description: 'Approvals for tools whose permission is "ask": a matching "allow" rule approves the call; "deny" refuses it. Rules the config sets to "deny" stay denied.',
  items: obj({ permission: str('bash, edit, webfetch, external_directory, task, an MCP tool name, or "*"'), pattern: str('glob over the command, path, URL or agent ("*": any)'), action: { type: 'string', enum: ['allow', 'deny', 'ask'] } }, ['permission', 'action']),
};

const textPartInput = obj({ id: str(), type: { type: 'string', const: 'text' }, text: { type: 'string', maxLength: 1_000_000 }, synthetic: { type: 'boolean' }, ignored: { type: 'boolean' } }, ['type', 'text']);
const filePartInput = obj(
  {
    id: str(),
    type: { type: 'string', const: 'file' },
    mime: str(),
    filename: str(),
    url: str('data: URL (base64) or file:// URL of a file in the project; for an MCP resource, its URI'),
    source: { type: 'object', description: 'OpenCode’s `{type: "resource", clientName, uri}` for an MCP resource (read from that server and sent as text); other sources are ignored' },
  },
  ['type', 'mime', 'url'],
);
const agentPartInput = obj({ id: str(), type: { type: 'string', const: 'agent' }, name: str('Run the prompt with this agent') }, ['type', 'name']);
const subtaskPartInput = obj({ id: str(), type: { type: 'string', const: 'subtask' }, prompt: str(), description: str(), agent: str() }, ['type', 'prompt', 'description', 'agent']);

export const OPENCODE_SCHEMAS: Record<string, JsonSchema> = {
  Error: errorNamed,
  PermissionRuleset: permissionRuleset,
  Session: obj(
    {
      id: str(),
      slug: str(),
      projectID: str(),
      directory: str(),
      parentID: str(),
      title: str(),
      version: str(),
      agent: str(),
      cost: num('USD, when the models have prices'),
      tokens,
      time: obj({ created: num(), updated: num() }, ['created', 'updated']),
      permission: ref('PermissionRuleset'),
      revert: obj({ messageID: str(), diff: str('What the revert did to the files, as one git-style patch (on GET /session/{id} and session.updated; lists show the mark only)') }, ['messageID']),
    },
    ['id', 'projectID', 'directory', 'title', 'version', 'time'],
  ),
  SessionStatus: {
    oneOf: [
      obj({ type: { type: 'string', const: 'idle' } }, ['type']),
      obj({ type: { type: 'string', const: 'busy' } }, ['type']),
      obj({ type: { type: 'string', const: 'retry' }, attempt: num(), message: str(), next: num('When the next attempt starts (ms since the epoch)') }, ['type', 'attempt', 'message', 'next']),
    ],
  },
  UserMessage: obj(
    { id: str(), sessionID: str(), role: { type: 'string', const: 'user' }, time: obj({ created: num() }, ['created']), agent: str(), model: modelRef, system: str(), tools: { type: 'object', additionalProperties: { type: 'boolean' } } },
    ['id', 'sessionID', 'role', 'time', 'agent', 'model'],
  ),
  AssistantMessage: obj(
    {
      id: str(),
      sessionID: str(),
      role: { type: 'string', const: 'assistant' },
      time: obj({ created: num(), completed: num() }, ['created']),
      error: obj({ name: str(), data: obj({ message: str() }) }, ['name', 'data']),
      parentID: str(),
      modelID: str(),
      providerID: str(),
      mode: str(),
      agent: str(),
      path: obj({ cwd: str(), root: str() }, ['cwd', 'root']),
      cost: num(),
      tokens,
      finish: str(),
    },
    ['id', 'sessionID', 'role', 'time', 'parentID', 'modelID', 'providerID', 'mode', 'path', 'cost', 'tokens'],
  ),
  Message: { oneOf: [ref('UserMessage'), ref('AssistantMessage')] },
  Part: {
    description: 'text, reasoning, file, tool, step-start, step-finish (OpenCode part types)',
    oneOf: [
      obj({ ...partBase, type: { type: 'string', const: 'text' }, text: str(), time: obj({ start: num(), end: num() }) }, ['id', 'sessionID', 'messageID', 'type', 'text']),
      obj({ ...partBase, type: { type: 'string', const: 'reasoning' }, text: str() }, ['id', 'sessionID', 'messageID', 'type', 'text']),
      obj({ ...partBase, type: { type: 'string', const: 'file' }, mime: str(), filename: str(), url: str() }, ['id', 'sessionID', 'messageID', 'type', 'mime', 'url']),
      obj(
        { ...partBase, type: { type: 'string', const: 'tool' }, callID: str(), tool: str(), state: obj({ status: { type: 'string', enum: ['pending', 'running', 'completed', 'error'] }, input: { type: 'object' }, output: str(), error: str() }, ['status', 'input']) },
        ['id', 'sessionID', 'messageID', 'type', 'callID', 'tool', 'state'],
      ),
      obj({ ...partBase, type: { type: 'string', const: 'step-start' } }, ['id', 'sessionID', 'messageID', 'type']),
      obj({ ...partBase, type: { type: 'string', const: 'step-finish' }, reason: str(), cost: num(), tokens }, ['id', 'sessionID', 'messageID', 'type', 'reason', 'cost', 'tokens']),
    ],
  },
  MessageWithParts: obj({ info: ref('Message'), parts: { type: 'array', items: ref('Part') } }, ['info', 'parts']),
  Event: obj(
    { id: str(), type: str('server.connected, server.heartbeat, session.*, message.*, and pantheon.* (retry, fallback, rate_limited, cache_hit, step_finish, done, …)'), properties: { type: 'object' } },
    ['type', 'properties'],
  ),
  GlobalEvent: obj({ directory: str(), payload: ref('Event') }, ['directory', 'payload']),
  Path: obj({ home: str(), state: str(), config: str(), worktree: str(), directory: str() }, ['state', 'config', 'worktree', 'directory']),
  Project: obj({ id: str(), worktree: str(), vcs: str(), time: obj({ created: num(), updated: num() }, ['created', 'updated']), sandboxes: { type: 'array', items: str() } }, ['id', 'worktree', 'time']),
  Agent: obj(
    { name: str(), description: str(), mode: { type: 'string', enum: ['subagent', 'primary', 'all'] }, native: { type: 'boolean' }, temperature: num(), topP: num(), permission: ref('PermissionRuleset'), model: modelRef, prompt: str(), options: { type: 'object' }, steps: num() },
    ['name', 'mode', 'permission', 'options'],
  ),
  Model: obj({ id: str(), providerID: str(), name: str(), api: obj({ id: str(), url: str(), npm: str() }), limit: obj({ context: num(), output: num() }), cost: obj({ input: num(), output: num() }) }, ['id', 'providerID', 'name']),
  Provider: obj({ id: str(), name: str(), source: str(), env: { type: 'array', items: str() }, options: { type: 'object' }, models: { type: 'object', additionalProperties: ref('Model') } }, ['id', 'name', 'env', 'models']),
  SessionForkBody: obj({ messageID: { type: 'string', description: 'A user message of the session: the fork keeps the turns before it (default: every turn)' } }),
  CommandBody: obj(
    {
      command: { type: 'string', minLength: 1, maxLength: 200, description: 'The name of a command of the config (`command.<name>`, `.opencode/command/<name>.md`)' },
      arguments: { type: 'string', maxLength: 1_000_000, description: 'Its arguments: `$1`…, `$ARGUMENTS`' },
      messageID: { type: 'string', description: 'Id for the user message (msg_…); generated when left out' },
      agent: str('The agent, when the command names none'),
      model: str('`provider/model`, when the command names none'),
      variant: str('Model variant'),
    },
    ['command'],
  ),
  PromptBody: obj({
    messageID: { type: 'string', description: 'Id for the user message (msg_…); generated when left out' },
    model: modelRef,
    agent: str(),
    noReply: { type: 'boolean', description: 'Store the message without asking the model' },
    system: { type: 'string', maxLength: 100_000, description: 'Added to the agent’s system prompt for this turn' },
    tools: { type: 'object', additionalProperties: { type: 'boolean' }, description: 'Tools switched on or off for this turn' },
    variant: str('Model variant'),
    permission: ref('PermissionRuleset'),
    parts: { type: 'array', maxItems: 100, items: { oneOf: [textPartInput, filePartInput, agentPartInput, subtaskPartInput], discriminator: { propertyName: 'type' } } },
  }, ['parts']),
  SessionCreateBody: obj({ parentID: { type: 'string', maxLength: 200, description: 'The session it is a child of (an id starting with `ses`; the session need not exist, as in OpenCode)' }, title: { type: 'string', maxLength: 500 }, agent: str(), permission: ref('PermissionRuleset') }),
  SessionUpdateBody: obj({ title: { type: 'string', maxLength: 500 }, permission: ref('PermissionRuleset') }),
};
