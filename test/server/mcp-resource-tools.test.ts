/**
 * OpenCode's MCP resource tools in `opencode serve`, through @opencode-ai/sdk's v2 client as
 * OpenCode's TUI drives them, with a real stdio MCP server (test/mcp/fixtures/resource-server.mjs)
 * and the scripted model calling them: `read` set to `ask` puts OpenCode's question
 * (`permission.asked`: `read`, patterns `mcp:<server>:<uri>`, always `mcp:<server>:*`, metadata
 * `{server, uri}`); "always" approves the server's other resources without a question; the call's
 * part has OpenCode's title; a listing asks for `mcp:<server>:*`.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { fixture } from '../mcp/helpers.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { idleOf, type OcEventLike } from './sdk-helper.ts';
import { listen as listenTo, toolResult, untilNotBusy } from './asks-helper.ts';
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
    permission: { read: { '*': 'allow', 'mcp:*': 'ask' } },
    mcp: { docs: { type: 'local', command: [process.execPath, fixture('resource-server.mjs')], timeout: 30_000 } },
  });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

beforeEach(() => model.reset());

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

const asked = (sessionID: string) => (e: OcEventLike) => e.type === 'permission.asked' && e.properties.sessionID === sessionID;
const newSession = async () => ((await client.session.create({})).data as { id: string }).id;

describe('MCP resource tools in serve', () => {
  it('read: asks `read` on mcp:<server>:<uri>; "always" approves mcp:<server>:* for the next read; the part has OpenCode’s title', async () => {
    const listener = await listenTo(client);
    const { stream } = listener;
    try {
      const id = await newSession();
      model.script(
        'm',
        { type: 'tool_calls', calls: [{ name: 'read_mcp_resource', arguments: { server: 'docs', uri: 'docs://guide' }, id: 'call_r1' }] },
        { type: 'tool_calls', calls: [{ name: 'read_mcp_resource', arguments: { server: 'docs', uri: 'docs://page/intro' }, id: 'call_r2' }] },
        { type: 'text', text: 'read both' },
      );
      await untilNotBusy(client, id);
      await client.session.promptAsync({ sessionID: id, parts: [{ type: 'text', text: 'read the guide' }] });
      const question = (await stream.until(asked(id))).properties as { id: string; permission: string; patterns: string[]; always: string[]; metadata: object; tool: { callID: string } };
      expect(question).toMatchObject({ permission: 'read', patterns: ['mcp:docs:docs://guide'], always: ['mcp:docs:*'], metadata: { server: 'docs', uri: 'docs://guide' }, tool: { callID: 'call_r1' } });
      expect((await client.permission.reply({ requestID: question.id, reply: 'always' })).data).toBe(true);
      await stream.until(idleOf(id));
      expect(toolResult(model, 'call_r1')).toBe('Resource: docs://guide\nMIME: text/markdown\n# Guide\nRead the GUIDE-TEXT-7 first.');
      expect(toolResult(model, 'call_r2')).toBe('Resource: docs://page/intro\nMIME: text/plain\nPage intro');
      // One question only: "always" covered the second read.
      expect(stream.events.filter(asked(id))).toHaveLength(1);
      const part = stream.events
        .filter((e) => e.type === 'message.part.updated' && (e.properties.part as { callID?: string }).callID === 'call_r1')
        .at(-1)?.properties.part as { tool: string; state: { status: string; title?: string } };
      expect(part).toMatchObject({ tool: 'read_mcp_resource', state: { status: 'completed', title: 'MCP resource: docs://guide' } });
    } finally {
      listener.stop();
    }
  });

  it('a listing asks for mcp:<server>:* (approved already in this project: no question); templates listed', async () => {
    const listener = await listenTo(client);
    const { stream } = listener;
    try {
      const id = await newSession();
      model.script('m', { type: 'tool_calls', calls: [{ name: 'list_mcp_resource_templates', arguments: {}, id: 'call_t1' }] }, { type: 'text', text: 'listed' });
      await untilNotBusy(client, id);
      await client.session.promptAsync({ sessionID: id, parts: [{ type: 'text', text: 'templates?' }] });
      await stream.until(idleOf(id));
      expect(stream.events.filter(asked(id))).toHaveLength(0);
      expect(JSON.parse(toolResult(model, 'call_t1')).resourceTemplates.map((t: { uriTemplate: string }) => t.uriTemplate)).toEqual(['docs://log/{day}', 'docs://page/{name}']);
    } finally {
      listener.stop();
    }
  });
});
