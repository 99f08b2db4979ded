/**
 * OpenCode's custom tools and plugins under `opencode run` (a subprocess, the scripted provider):
 * `.opencode/tool/*.ts` written against `@opencode-ai/plugin` (not installed: Pantheon's own
 * `tool()` and zod stand in), plugin files and the config's `plugin` entries with their options,
 * the tool hooks, the `event` hook, a plugin that fails to load, `--pure`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, hasStack, providerConfig, sandbox, type Sandbox, toolContents } from '../cli/cli-helper.ts';

interface OfferedTool {
  function: { name: string; description: string; parameters: { properties: Record<string, { type?: string; description?: string }>; required?: string[] } };
}

const GREET_TOOL = `import { tool } from "@opencode-ai/plugin"
import { writeFileSync } from "node:fs"

enum Greeting { Hello = "Hello", Hi = "Hi" }

export default tool({
  description: "Greet someone by name",
  args: {
    name: tool.schema.string().describe("Who to greet"),
    times: tool.schema.number().int().min(1).optional(),
  },
  async execute(args, context) {
    writeFileSync(context.directory + "/greeted.txt", args.name)
    return \`\${Greeting.Hello} \${args.name} x\${args.times ?? 1} from \${context.agent} in \${context.directory} (worktree \${context.worktree}) session=\${context.sessionID.length > 0}\`
  },
})

export const loud = tool({
  description: "Greet loudly",
  args: { name: tool.schema.string() },
  async execute(args) {
    return { title: "shouted", output: args.name.toUpperCase() + "!", metadata: { n: 1 } }
  },
})
`;

const GUARD_PLUGIN = `import type { Plugin } from "@opencode-ai/plugin"
import { appendFileSync } from "node:fs"

export const Guard: Plugin = async ({ directory, worktree, project }) => {
  appendFileSync(directory + "/plugin-input.txt", JSON.stringify({ directory, worktree, project: project.id.length > 0 }) + "\\n")
  return {
    "tool.execute.before": async (input, output) => {
      if (input.tool === "read" && String(output.args.filePath).includes(".env")) throw new Error("Do not read .env files")
      if (input.tool === "greet") output.args.name = output.args.name + " (checked)"
    },
    "tool.execute.after": async (input, output) => {
      if (input.tool === "greet_loud") output.output = output.output + " [after]"
    },
    "tool.definition": async (input, output) => {
      if (input.toolID === "greet") output.description = output.description + " (reviewed)"
    },
    event: async ({ event }) => {
      appendFileSync(directory + "/events.txt", event.type + "\\n")
    },
  }
}
`;

describe('OpenCode plugins and custom tools under opencode run', () => {
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
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1' });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('a custom tool file (TypeScript, an enum, @opencode-ai/plugin not installed) is offered with its JSON Schema and runs with OpenCode\'s context', async () => {
    sb.write('.opencode/tool/greet.ts', GREET_TOOL);
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'greet', arguments: { name: 'Ada', times: 2 } }, { name: 'greet_loud', arguments: { name: 'bob' } }] }, { type: 'text', text: 'Greeted.' });
    const r = await sb.run(['run', 'greet Ada']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Greeted.\n');
    const offered = (server.log[0]?.tools ?? []) as OfferedTool[];
    const greet = offered.find((t) => t.function.name === 'greet');
    expect(greet?.function.description).toBe('Greet someone by name');
    expect(greet?.function.parameters.properties.name).toMatchObject({ type: 'string', description: 'Who to greet' });
    expect(greet?.function.parameters.properties.times?.type).toBe('integer');
    expect(greet?.function.parameters.required).toEqual(['name']);
    expect(offered.some((t) => t.function.name === 'greet_loud')).toBe(true);
    const [greeted, loud] = toolContents(server.log[1]?.messages ?? []);
    expect(greeted).toBe(`Hello Ada x2 from sisyphus in ${sb.project} (worktree ${sb.project}) session=true`);
    expect(loud).toBe('BOB!');
    expect(readFileSync(path.join(sb.project, 'greeted.txt'), 'utf8')).toBe('Ada');
  });

  it('a call whose arguments do not match the tool\'s args is a tool error the model reads; the tool does not run', async () => {
    sb.write('.opencode/tool/greet.ts', GREET_TOOL);
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'greet', arguments: { name: 42 } }] }, { type: 'text', text: 'Sorry.' });
    const r = await sb.run(['run', 'greet']);
    expect(r.code, r.stderr).toBe(0);
    const [answer] = toolContents(server.log[1]?.messages ?? []);
    expect(answer).toMatch(/invalid arguments/);
    expect(answer).toMatch(/name/);
    expect(existsSync(path.join(sb.project, 'greeted.txt'))).toBe(false);
  });

  it('a plugin file\'s hooks: tool.execute.before refuses a call or changes its arguments, tool.execute.after changes an answer, tool.definition a description; event gets the turn\'s events', async () => {
    sb.write('.opencode/tool/greet.ts', GREET_TOOL);
    sb.write('.opencode/plugin/guard.ts', GUARD_PLUGIN);
    sb.write('.env', 'SECRET=1\n');
    server.script(
      'm1',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: '.env' } }, { name: 'greet', arguments: { name: 'Ada' } }, { name: 'greet_loud', arguments: { name: 'bob' } }] },
      { type: 'text', text: 'Done.' },
    );
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    const offered = (server.log[0]?.tools ?? []) as OfferedTool[];
    expect(offered.find((t) => t.function.name === 'greet')?.function.description).toBe('Greet someone by name (reviewed)');
    const [read, greeted, loud] = toolContents(server.log[1]?.messages ?? []);
    expect(read).toContain('Do not read .env files');
    expect(read).not.toContain('SECRET=1');
    expect(greeted).toMatch(/^Hello Ada \(checked\) x1/);
    expect(loud).toBe('BOB! [after]');
    const input = JSON.parse(readFileSync(path.join(sb.project, 'plugin-input.txt'), 'utf8').trim()) as Record<string, unknown>;
    expect(input).toEqual({ directory: sb.project, worktree: sb.project, project: true });
    const events = readFileSync(path.join(sb.project, 'events.txt'), 'utf8').trim().split('\n');
    expect(events).toContain('session.status');
    expect(events).toContain('message.updated');
    expect(events).toContain('message.part.updated');
    expect(events.at(-1)).toBe('session.idle');
  });

  it('the config\'s plugin entries: a path relative to the config file, with its options; --pure loads no plugins but keeps custom tools', async () => {
    sb.write('plugins/opts.js', 'export default async (input, options) => ({ tool: { opts: { description: "Options", args: {}, async execute() { return JSON.stringify(options) } } } })\n');
    sb.write('.opencode/tool/greet.ts', GREET_TOOL);
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', plugin: [['./plugins/opts.js', { level: 3 }]] });
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'opts', arguments: {} }] }, { type: 'text', text: 'ok' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(toolContents(server.log[1]?.messages ?? [])[0]).toBe('{"level":3}');

    server.reset();
    server.script('m1', { type: 'text', text: 'pure' });
    const pure = await sb.run(['run', '--pure', 'go']);
    expect(pure.code, pure.stderr).toBe(0);
    const names = ((server.log[0]?.tools ?? []) as OfferedTool[]).map((t) => t.function.name);
    expect(names).toContain('greet');
    expect(names).not.toContain('opts');
  });

  it('a plugin\'s config hook adds an agent the run then uses; an npm plugin OpenCode installed loads from its cache', async () => {
    sb.write(
      '.opencode/plugin/agents.ts',
      `export const Agents = async () => ({
  config: async (config) => {
    config.agent = config.agent ?? {}
    config.agent.reviewer = { description: "Reviews", mode: "primary", prompt: "You are the plugin's reviewer." }
  },
})
`,
    );
    const pkg = path.join(sb.cacheHome, 'opencode', 'packages', 'fx-plugin@latest', 'node_modules', 'fx-plugin');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'fx-plugin', version: '1.0.0', type: 'module', main: 'index.js' }));
    writeFileSync(path.join(pkg, 'index.js'), 'export const Fx = async () => ({ tool: { fx: { description: "From npm", args: {}, async execute() { return "fx ran" } } } })\n');
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', plugin: ['fx-plugin'] });
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'fx', arguments: {} }] }, { type: 'text', text: 'reviewed' });
    const r = await sb.run(['run', '--agent', 'reviewer', 'look'], { env: { PATH: path.dirname(process.execPath) } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('reviewed\n');
    const system = (server.log[0]?.messages ?? []).find((m) => (m as { role: string }).role === 'system') as { content: string } | undefined;
    expect(system?.content).toContain("You are the plugin's reviewer.");
    expect(toolContents(server.log[1]?.messages ?? [])[0]).toBe('fx ran');
  });

  it('a config hook that leaves the config invalid is a warning; the config is used as loaded', async () => {
    sb.write('.opencode/plugin/bad.js', 'export const Bad = async () => ({ config: async (config) => { config.retry = "often" } })\n');
    server.script('m1', { type: 'text', text: 'fine' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('fine\n');
    expect(r.stderr).toMatch(/^warning: The plugins' config hooks left the config invalid: retry: .+; their changes are not used\.$/m);
  });

  it('a plugin\'s $ (Bun\'s shell) and client (OpenCode\'s SDK over the run\'s own core) work from its hooks; output it did not quiet goes to stderr', async () => {
    sb.write(
      '.opencode/plugin/tools.ts',
      `import type { Plugin } from "@opencode-ai/plugin"
import { tool } from "@opencode-ai/plugin"
export const Tools: Plugin = async ({ $, client, serverUrl }) => {
  await client.app.log({ body: { service: "tools", level: "warn", message: "loaded at " + serverUrl.href } })
  return {
    tool: {
      shell: tool({
        description: "Echo through the shell",
        args: { text: tool.schema.string() },
        async execute(args) {
          await $\`echo loud \${args.text}\`
          return (await $\`printf '%s' \${args.text} | tr a-z A-Z\`.text())
        },
      }),
      sessions: tool({
        description: "Count the sessions",
        args: {},
        async execute() {
          const list = await client.session.list()
          return "sessions: " + (list.data ?? []).length + " status " + list.response.status
        },
      }),
    },
  }
}
`,
    );
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'shell', arguments: { text: 'a; rm -rf x $(id)' } }, { name: 'sessions', arguments: {} }] }, { type: 'text', text: 'ok' });
    const r = await sb.run(['run', '--format', 'json', 'go']);
    expect(r.code, r.stderr).toBe(0);
    // stdout stays JSON lines: the unquieted echo went to stderr.
    for (const line of r.stdout.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(r.stderr).toContain('loud a; rm -rf x $(id)');
    expect(r.stderr).toMatch(/tools.*loaded at http:\/\/localhost:4096\//);
    const [shell, sessions] = toolContents(server.log[1]?.messages ?? []);
    expect(shell).toBe('A; RM -RF X $(ID)');
    expect(sessions).toMatch(/^sessions: \d+ status 200$/);
  });

  it('doctor loads them as a run does, without installing an npm plugin, and names what did not load', async () => {
    sb.write('.opencode/tool/greet.ts', GREET_TOOL);
    sb.write('.opencode/plugin/ok.js', 'export const Ok = async () => ({})\n');
    sb.write('.opencode/plugin/boom.js', 'export const Boom = async () => { throw new Error("boom at start") }\n');
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', plugin: ['never-installed-plugin'] });
    const r = await sb.run(['doctor']);
    expect(r.stdout).toMatch(/warn +plugins +plugins: 1 plugin loaded, custom tools greet, greet_loud; 2 did not load:/);
    expect(r.stdout).toContain('The plugin ' + path.join(sb.project, '.opencode/plugin/boom.js') + ' did not load: boom at start.');
    expect(r.stdout).toMatch(/Plugin "never-installed-plugin" is not installed .*; the next opencode run or serve installs it with npm\./);
    expect(existsSync(path.join(sb.cacheHome, 'pantheon', 'plugins'))).toBe(false);
  });

  it('a workflow\'s tasks get the custom tools and the tool hooks too', async () => {
    sb.write('.opencode/tool/greet.ts', GREET_TOOL);
    sb.write('.opencode/plugin/guard.ts', GUARD_PLUGIN);
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', workflow: { hello: { steps: [{ id: 'a', agent: 'explore', prompt: 'greet Ada' }] } } });
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'greet', arguments: { name: 'Ada' } }] }, { type: 'text', text: 'greeted' });
    const r = await sb.run(['workflow', 'run', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(toolContents(server.log[1]?.messages ?? [])[0]).toMatch(/^Hello Ada \(checked\) x1 from explore/);
  });

  it('a plugin that leaves a timer and a socket open does not keep the run alive; its output is all written', async () => {
    sb.write('.opencode/plugin/busy.js', 'import net from "node:net"\nexport const Busy = async () => { setInterval(() => {}, 1000); net.createServer().listen(0, "127.0.0.1"); return {} }\n');
    server.script('m1', { type: 'text', text: 'x'.repeat(200_000) });
    const r = await sb.run(['run', '--format', 'json', 'go']);
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; text?: string })
      .filter((e) => e.type === 'text')
      .map((e) => e.text ?? '')
      .join('');
    expect(text.length).toBe(200_000);
  });

  it('a plugin that does not load is one warning naming it; the run goes on with the others', async () => {
    sb.write('.opencode/plugin/broken.ts', 'export const x = ;\n');
    sb.write('.opencode/plugin/notfn.js', 'export const value = 42;\n');
    sb.write('.opencode/tool/greet.ts', GREET_TOOL);
    server.script('m1', { type: 'text', text: 'still here' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('still here\n');
    expect(r.stderr).toMatch(/^warning: The plugin .*broken\.ts did not load: .+\.$/m);
    expect(r.stderr).toMatch(/^warning: The plugin .*notfn\.js did not load: an export is not a plugin function/m);
    expect(hasStack(r.stderr)).toBe(false);
    expect(((server.log[0]?.tools ?? []) as OfferedTool[]).some((t) => t.function.name === 'greet')).toBe(true);
  });
});
