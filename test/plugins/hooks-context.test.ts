/**
 * A context-pruning plugin (the way `@tarquinen/opencode-dcp` works: `experimental.chat.messages.transform`
 * over OpenCode's messages, `experimental.session.compacting`, `tool.execute.after`) from a
 * `.opencode/plugin` file, end to end: under `opencode run` (a subprocess) an earlier read of the
 * same file is pruned from what the provider receives and the hook is told each call's title and
 * metadata; under `opencode serve`, driven by `@opencode-ai/sdk`, the messages the hook sees have
 * the ids the client reads, and a compaction's prompt carries the plugin's context.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, providerConfig, sandbox, SECRET, toolContents, type Sandbox } from '../cli/cli-helper.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

/** Prunes all but the last output of each repeated call; tags the last user message; adds to the compaction prompt; logs what it saw. */
const PRUNER = `import { appendFileSync, existsSync } from "node:fs"

export const Pruner = async ({ directory }) => {
  const log = (kind, value) => appendFileSync(directory + "/pruner.jsonl", JSON.stringify({ kind, value }) + "\\n")
  return {
    "experimental.chat.messages.transform": async (_input, output) => {
      log("messages", output.messages.map((m) => ({ id: m.info.id, role: m.info.role, sessionID: m.info.sessionID, parts: m.parts.map((p) => p.id) })))
      const last = new Map()
      for (const m of output.messages) for (const p of m.parts) if (p.type === "tool") last.set(p.tool + JSON.stringify(p.state.input), p.callID)
      for (const m of output.messages) for (const p of m.parts) {
        if (p.type === "tool" && p.state.status === "completed" && last.get(p.tool + JSON.stringify(p.state.input)) !== p.callID) p.state.output = "[pruned: read again later]"
      }
      const user = output.messages.filter((m) => m.info.role === "user").at(-1)
      user.parts.push({ id: "prt_tag", sessionID: user.info.sessionID, messageID: user.info.id, type: "text", text: "<ref>" + user.info.id + "</ref>" })
    },
    "experimental.session.compacting": async (input, output) => {
      log("compacting", input)
      output.context.push("Keep the ticket number TCK-42.")
    },
    "experimental.compaction.autocontinue": async (input, output) => {
      log("autocontinue", { sessionID: input.sessionID, agent: input.agent, model: input.model.id, provider: input.provider.info.id, message: input.message.id, overflow: input.overflow })
      if (existsSync(directory + "/no-continue")) output.enabled = false
    },
    "tool.execute.after": async (input, output) => {
      log("after", { tool: input.tool, title: output.title, metadata: output.metadata })
    },
  }
}
`;

type Logged = { kind: string; value: unknown };
const logOf = (sb: Sandbox): Logged[] =>
  readFileSync(path.join(sb.project, 'pruner.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Logged);
const readCall = (id: string) => ({ type: 'tool_calls' as const, calls: [{ name: 'read', arguments: { filePath: 'notes.txt' }, id }] });
type Sent = { role: string; content: unknown };

describe('a context-pruning plugin under opencode run', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', cache: { enabled: false } });
    sb.write('notes.txt', 'the word is PELICAN\n');
    sb.write('.opencode/plugin/pruner.js', PRUNER);
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('the provider receives the messages as the hook left them: the earlier read pruned, the later kept, the tag added', async () => {
    server.script('m', readCall('call_1'), readCall('call_2'), { type: 'text', text: 'It says PELICAN.' });
    const r = await sb.run(['run', 'read notes.txt twice']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('It says PELICAN.');
    const last = (server.log[2]?.messages ?? []) as Sent[];
    const outputs = toolContents(last);
    expect(outputs[0]).toBe('[pruned: read again later]');
    expect(outputs[1]).toContain('PELICAN');
    expect(JSON.stringify(last.filter((m) => m.role === 'user'))).toMatch(/<ref>msg_\w+<\/ref>/);
    const log = logOf(sb);
    // Before each model call, with the run's session.
    const seen = log.filter((l) => l.kind === 'messages').map((l) => l.value as { role: string; sessionID: string }[]);
    expect(seen.map((m) => m.map((x) => x.role))).toEqual([['user'], ['user', 'assistant'], ['user', 'assistant']]);
    expect(seen[0]?.[0]?.sessionID).toMatch(/^ses_/);
    // tool.execute.after is told the read's title and metadata, as OpenCode's read gives them.
    expect(log.filter((l) => l.kind === 'after').map((l) => l.value)).toEqual([
      { tool: 'read', title: 'notes.txt', metadata: expect.objectContaining({ truncated: false, preview: expect.stringContaining('PELICAN') }) },
      { tool: 'read', title: 'notes.txt', metadata: expect.objectContaining({ truncated: false }) },
    ]);
  });

  it('a transform that throws ends the run with exit 1 and one sentence naming the hook, no stack', async () => {
    sb.write('.opencode/plugin/pruner.js', 'export const P = async () => ({ "experimental.chat.messages.transform": async () => { throw new Error("pruning store unavailable") } })\n');
    server.script('m', { type: 'text', text: 'never' });
    const r = await sb.run(['run', 'go']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The plugin hook experimental.chat.messages.transform failed: pruning store unavailable');
    expect(hasStack(r.stderr)).toBe(false);
    expect(server.log).toHaveLength(0);
  });
});

describe('a context-pruning plugin under opencode serve', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  let served: Served;
  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', cache: { enabled: false } });
    sb.write('notes.txt', 'the word is PELICAN\n');
    sb.write('.opencode/plugin/pruner.js', PRUNER);
    served = await serve(sb);
  });
  afterAll(async () => {
    await served?.stop();
    await server?.close();
    await sb?.remove();
  });

  it('the hook sees the ids the client reads; the provider gets the pruned history; a compaction carries the plugin\'s context', async () => {
    const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    server.script('m', readCall('call_1'), { type: 'text', text: 'first' }, readCall('call_2'), { type: 'text', text: 'second' }, { type: 'text', text: 'SUMMARY' });
    await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'read it' }] } });
    await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'read it again' }] } });
    // The second turn's last call: the first turn's read is pruned, the second's kept.
    const outputs = toolContents(server.log[3]?.messages ?? []);
    expect(outputs).toEqual(['[pruned: read again later]', expect.stringContaining('PELICAN')]);
    const messages = (await client.session.messages({ path: { id } })).data ?? [];
    const seen = logOf(sb).filter((l) => l.kind === 'messages').map((l) => l.value as { id: string; sessionID: string; parts: string[] }[]);
    // The last call's view: every message the client reads, with the same ids.
    expect(seen.at(-1)?.map((m) => m.id)).toEqual(messages.map((m) => m.info.id));
    expect(seen.at(-1)?.every((m) => m.sessionID === id)).toBe(true);
    expect(seen.at(-1)?.[0]?.parts).toEqual(messages[0]?.parts.map((p) => p.id));
    const summarized = await client.session.summarize({ path: { id }, body: { providerID: 'p', modelID: 'm' } });
    expect(summarized.data).toBe(true);
    const asked = ((server.log.at(-1)?.messages ?? []) as Sent[]).filter((m) => m.role === 'user').at(-1);
    expect(JSON.stringify(asked?.content)).toContain('Keep the ticket number TCK-42.');
    expect(logOf(sb).filter((l) => l.kind === 'compacting').map((l) => l.value)).toEqual([{ sessionID: id }]);
    // Not automatic: no "continue" turn, the hook not asked.
    expect(logOf(sb).filter((l) => l.kind === 'autocontinue')).toEqual([]);
  });

  it('an automatic compaction goes on with OpenCode\'s "continue" turn, unless experimental.compaction.autocontinue says no', async () => {
    const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    server.script('m', { type: 'text', text: 'hello' }, { type: 'text', text: 'SUMMARY' }, { type: 'text', text: 'Nothing left to do.' }, { type: 'text', text: 'SUMMARY 2' });
    await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'hi' }] } });
    const before = server.log.length;
    expect((await client.session.summarize({ path: { id }, body: { providerID: 'p', modelID: 'm', auto: true } as never })).data).toBe(true);
    expect(server.log.length).toBe(before + 2);
    const lastUser = ((server.log.at(-1)?.messages ?? []) as Sent[]).filter((m) => m.role === 'user').at(-1);
    expect(JSON.stringify(lastUser?.content)).toContain('Continue if you have next steps, or stop and ask for clarification if you are unsure how to proceed.');
    const asked = logOf(sb).filter((l) => l.kind === 'autocontinue').map((l) => l.value as Record<string, unknown>);
    expect(asked).toEqual([{ sessionID: id, agent: expect.any(String), model: 'm', provider: 'p', message: expect.stringMatching(/^msg_/), overflow: false }]);
    sb.write('no-continue', '');
    expect((await client.session.summarize({ path: { id }, body: { providerID: 'p', modelID: 'm', auto: true } as never })).data).toBe(true);
    expect(server.log.length).toBe(before + 3);
  });
});
