/**
 * What oh-my-opencode (4.19.4, npm `oh-my-opencode` / `oh-my-openagent`) does to OpenCode, each in a
 * small plugin file that does it the same way, under `opencode run` (a subprocess) against the
 * scripted provider. Tests never download oh-my-opencode itself: its version moves and CI has no
 * network but npm's registry.
 * - Its tools' arguments each carry their own JSON Schema (a `_zod.toJSONSchema` override set on a
 *   `.describe()`d or `.optional()` schema): zod 4.6 could not convert them, and every one of its
 *   tools was left out.
 * - Its `config` hook rebuilds `agent` under its own names ("Sisyphus - ultraworker") and drops
 *   the entries it owns (sisyphus, momus, …): the built-in workflows named them, and the whole
 *   config change was thrown away as invalid.
 * - Its `task` tool reads the session's lineage (`client.session.get` up the `parentID`s) before it
 *   makes a child session and prompts it: the run's new session did not exist until the run ended.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, toolContents, useScriptedSandbox, type Sandbox } from '../cli/cli-helper.ts';
import { AGENTS_HOOK } from '../support/plugin-sources.ts';

interface OfferedTool {
  function: { name: string; description: string; parameters: { properties: Record<string, Record<string, unknown>>; required?: string[] } };
}

/** oh-my-opencode's normalizeToolArgSchemas: each argument answers its own JSON Schema (its root fields left out). */
const OWN_SCHEMA_TOOLS = `import { tool } from "@opencode-ai/plugin"

function ownSchema(schema) {
  schema._zod.toJSONSchema = () => {
    const override = schema._zod.toJSONSchema
    delete schema._zod.toJSONSchema
    try {
      const { $schema, ...rest } = tool.schema.toJSONSchema(schema)
      return rest
    } finally {
      schema._zod.toJSONSchema = override
    }
  }
}

const search = tool({
  description: "Search file contents",
  args: {
    pattern: tool.schema.string().describe("The regex pattern"),
    include: tool.schema.string().optional().describe("Files to include"),
    mode: tool.schema.enum(["content", "count"]).optional().describe("Output mode"),
    limit: tool.schema.number().int().min(1).optional().describe("At most this many"),
  },
  async execute(args) {
    return "searched " + args.pattern + " limit=" + (args.limit ?? "none")
  },
})
for (const schema of Object.values(search.args)) ownSchema(schema)

export const Tools = async () => ({ tool: { search } })
`;

/** oh-my-opencode's \`task\` (synchronous): the session's lineage first, then a child session prompted, its answer returned. */
const DELEGATE_TOOL = `import { appendFileSync } from "node:fs"

export const Delegate = async ({ client, directory }) => ({
  tool: {
    delegate: {
      description: "Hand a prompt to a subagent",
      args: {},
      async execute(_args, context) {
        let depth = 0
        for (let id = context.sessionID; id; depth++) {
          const found = await client.session.get({ path: { id }, query: { directory } })
          if (found.error || !found.data) throw new Error("Subagent spawn blocked: failed to resolve session lineage for " + context.sessionID + ": " + JSON.stringify(found.error))
          id = found.data.parentID
        }
        const child = await client.session.create({ body: { parentID: context.sessionID, title: "delegated" }, query: { directory } })
        const answered = await client.session.prompt({ path: { id: child.data.id }, body: { agent: "explore", parts: [{ type: "text", text: "look for the needle" }] }, query: { directory } })
        appendFileSync(directory + "/lineage.txt", JSON.stringify({ depth, parent: child.data.parentID === context.sessionID }) + "\\n")
        return answered.data.parts.filter((part) => part.type === "text").map((part) => part.text).join("")
      },
    },
  },
})
`;

describe('oh-my-opencode\'s ways with OpenCode, under opencode run', () => {
  let server!: ScriptedServer;
  let sb!: Sandbox;
  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
    },
    (s) => ({ ...providerConfig(s, { m1: {} }), model: 'p/m1', cache: { enabled: false } }),
  );

  it('tool arguments that bring their own JSON Schema are offered with it (descriptions, optional ones not required) and the call is checked and runs', async () => {
    sb.write('.opencode/plugin/tools.js', OWN_SCHEMA_TOOLS);
    server.script(
      'm1',
      { type: 'tool_calls', calls: [{ name: 'search', arguments: { pattern: 'needle', limit: 0 } }] },
      { type: 'tool_calls', calls: [{ name: 'search', arguments: { pattern: 'needle', limit: 3 } }] },
      { type: 'text', text: 'found' },
    );
    const r = await sb.run(['run', '--log-level', 'DEBUG', 'search']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/left out/);
    expect(r.stdout).toBe('found\n');
    const offered = ((server.log[0]?.tools ?? []) as OfferedTool[]).find((t) => t.function.name === 'search');
    expect(offered?.function.parameters.properties).toMatchObject({
      pattern: { type: 'string', description: 'The regex pattern' },
      include: { type: 'string', description: 'Files to include' },
      mode: { enum: ['content', 'count'], description: 'Output mode' },
      limit: { type: 'integer', minimum: 1, description: 'At most this many' },
    });
    expect(offered?.function.parameters.required).toEqual(['pattern']);
    expect(toolContents(server.log[1]?.messages ?? [])[0]).toMatch(/invalid arguments: .*>=1/s);
    expect(toolContents(server.log[2]?.messages ?? []).at(-1)).toBe('searched needle limit=3');
  });

  it('a config hook that rebuilds agent under its own names: its default agent and command run, nothing is thrown away, Pantheon\'s own agents stay', async () => {
    sb.write('.opencode/plugin/agents.js', AGENTS_HOOK);
    server.script('m1', { type: 'text', text: 'by the plugin' }, { type: 'text', text: 'working' }, { type: 'text', text: 'by pantheon' });
    const plain = await sb.run(['run', 'hello']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toMatch(/warning/);
    expect(plain.stdout).toBe('by the plugin\n');
    expect(systemOf(server, 0)).toContain("You are the plugin's Sisyphus.");
    const command = await sb.run(['run', '--command', 'start-work', 'the plan']);
    expect(command.code, command.stderr).toBe(0);
    expect(systemOf(server, 1)).toContain("You are the plugin's Sisyphus.");
    // OpenCode has no agent "sisyphus" then: it says so and runs the default agent, the plugin's.
    const own = await sb.run(['run', '--agent', 'sisyphus', 'hello']);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toContain('warning: agent "sisyphus" not found: a plugin\'s config hook replaced it. Falling back to default agent "Sisyphus - ultraworker", as OpenCode does.');
    expect(own.stdout).toBe('by pantheon\n');
    expect(systemOf(server, 2)).toContain("You are the plugin's Sisyphus.");
    // An agent the hook defines under a built-in's name is the hook's; over one of OpenCode's own (explore), the built-in's fields it does not set stay.
    server.script('m1', { type: 'text', text: 'oracle' }, { type: 'text', text: 'explore' });
    expect((await sb.run(['run', '--agent', 'oracle', 'hello'])).code).toBe(0);
    expect(systemOf(server, 3)).toContain("You are the plugin's oracle.");
    const explore = await sb.run(['agent', 'show', 'explore', '--json']);
    expect(explore.code, explore.stderr).toBe(0);
    expect(JSON.parse(explore.stdout)).toMatchObject({ description: "The plugin's explore", mode: 'subagent', temperature: 0.1 });
    // The built-in workflows name sisyphus and momus: Pantheon's stay for them, listed as replaced only with --all (OpenCode lists none).
    const listed = JSON.parse((await sb.run(['agent', 'list', '--json'])).stdout) as { name: string }[];
    expect(listed.map((a) => a.name)).not.toContain('sisyphus');
    const all = JSON.parse((await sb.run(['agent', 'list', '--all', '--json'])).stdout) as { name: string; replaced?: boolean }[];
    expect(all.find((a) => a.name === 'sisyphus')).toMatchObject({ replaced: true });
    expect(all.find((a) => a.name === 'oracle')?.replaced).toBeUndefined();
  });

  it('`agent list` and `agent show` see the agents a config hook adds, said to come from it (not with --pure)', async () => {
    sb.write('.opencode/plugin/agents.js', AGENTS_HOOK);
    const listed = await sb.run(['agent', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const agents = JSON.parse(listed.stdout) as { name: string; mode: string; source: string }[];
    expect(agents.find((a) => a.name === 'Sisyphus - ultraworker')).toMatchObject({ mode: 'primary', source: `plugin ${path.join(sb.project, '.opencode/plugin/agents.js')} (its config hook)` });
    // Pantheon's own it replaced are not listed, as OpenCode's agent list has none of them.
    expect(agents.map((a) => a.name)).not.toContain('sisyphus');
    expect(agents.map((a) => a.name)).not.toContain('momus');
    // `agent show` still shows one (the built-in workflows run it), from its defaults, saying what became of it.
    const replaced = await sb.run(['agent', 'show', 'sisyphus']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout).toMatch(/^sisyphus \(replaced by a plugin's config hook\) — Orchestrator/);
    expect(replaced.stdout).toContain('Only the built-in workflows run it: `run --agent` runs the default agent instead');
    expect(JSON.parse((await sb.run(['agent', 'show', 'sisyphus', '--json'])).stdout)).toMatchObject({ name: 'sisyphus', replaced: true, source: 'built-in defaults' });
    const table = await sb.run(['agent', 'list', '--all']);
    expect(table.stdout).toMatch(/^sisyphus \(replaced by a plugin's config hook\) /m);
    const shown = await sb.run(['agent', 'show', 'Momus - Plan Critic']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^Momus - Plan Critic — The plugin's critic/);
    const pure = await sb.run(['agent', 'list', '--json', '--pure']);
    expect(pure.code, pure.stderr).toBe(0);
    expect((JSON.parse(pure.stdout) as { name: string }[]).map((a) => a.name)).not.toContain('Sisyphus - ultraworker');
  });

  it('a tool that reads its session\'s lineage, then prompts a child session, gets the answer; the run\'s session holds the turn afterwards', async () => {
    sb.write('.opencode/plugin/delegate.js', DELEGATE_TOOL);
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'delegate', arguments: {} }] }, { type: 'text', text: 'needle at a.ts:1' }, { type: 'text', text: 'delegated' });
    const r = await sb.run(['run', '--format', 'json', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(sb.project, 'lineage.txt'), 'utf8')).toBe('{"depth":1,"parent":true}\n');
    expect(toolContents(server.log[2]?.messages ?? [])).toEqual(['needle at a.ts:1']);
    const sessionID = (JSON.parse(r.stdout.trim().split('\n')[0] ?? '{}') as { sessionID: string }).sessionID;
    const listed = JSON.parse((await sb.run(['session', 'list', '--json'])).stdout) as { sessions: { id: string; messageCount: number }[] };
    expect(listed.sessions.find((s) => s.id === sessionID)?.messageCount).toBeGreaterThan(1);
  });

  it('a run with plugins that fails before its first message leaves no session behind', async () => {
    sb.write('.opencode/plugin/delegate.js', DELEGATE_TOOL);
    sb.write('.opencode/plugin/refuse.js', 'export const Refuse = async () => ({ "chat.message": async () => { throw new Error("not today") } })\n');
    const r = await sb.run(['run', 'go']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not today/);
    const listed = JSON.parse((await sb.run(['session', 'list', '--json'])).stdout) as { sessions: unknown[] };
    expect(listed.sessions).toEqual([]);
  });

  it('a project without plugins of its own saves no session before its turn: a run killed mid-turn leaves none behind', async () => {
    server.script('m1', { type: 'hang', text: 'Thinking' });
    const run = sb.start(['run', 'go']);
    await server.waitForRequests(1);
    const listed = JSON.parse((await sb.run(['session', 'list', '--json'])).stdout) as { sessions: unknown[] };
    run.child.kill('SIGKILL');
    await run.exited;
    expect(listed.sessions).toEqual([]);
    expect(JSON.parse((await sb.run(['session', 'list', '--json'])).stdout)).toMatchObject({ sessions: [] });
  });
});

function systemOf(server: ScriptedServer, index: number): string {
  const system = (server.log[index]?.messages ?? []).find((m) => (m as { role: string }).role === 'system') as { content: string } | undefined;
  return system?.content ?? '';
}
