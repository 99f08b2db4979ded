/**
 * How `opencode run` starts and ends with plugins that misbehave, against the scripted provider: a
 * plugin that leaves a timer running does not keep the run alive (OpenCode's run exits); a run that
 * fails before its turn still disposes its plugins; Ctrl-C while the plugins load stops their `$`
 * commands; a returned hooks object whose getters throw is one warning, not an internal error; the
 * `.opencode/package.json` OpenCode writes (no "type") draws no Node warning.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { alive } from '../support/proc-children.ts';
import { SECRET, hasStack, providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';

/** Holds the event loop for good, as a plugin's poller or watcher would; its dispose leaves a mark. */
const LINGERING_PLUGIN = `import type { Plugin } from "@opencode-ai/plugin"
import { writeFileSync } from "node:fs"

export const Poller: Plugin = async ({ directory }) => {
  setInterval(() => {}, 1000)
  return {
    dispose: async () => {
      writeFileSync(directory + "/disposed.txt", "yes")
    },
  }
}
`;

describe('a run\'s plugins that misbehave', () => {
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
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', cache: { enabled: false } });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('a plugin that leaves a timer running does not keep the run alive once it is over', { timeout: 20_000 }, async () => {
    sb.write('.opencode/plugin/poller.ts', LINGERING_PLUGIN);
    server.script('m1', { type: 'text', text: 'answered' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('answered\n');
    expect(readFileSync(path.join(sb.project, 'disposed.txt'), 'utf8')).toBe('yes');
  });

  it('OpenCode\'s notification example: the $ command an event hook runs on session.idle finishes before the run ends', { timeout: 20_000 }, async () => {
    sb.write(
      '.opencode/plugin/notify.js',
      `export const Notify = async ({ $, directory }) => ({
  event: async ({ event }) => {
    if (event.type === "session.idle") await $\`sh -c 'sleep 0.3; echo shown > \${directory}/notified.txt'\`
  },
})
`,
    );
    server.script('m1', { type: 'text', text: 'answered' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(sb.project, 'notified.txt'), 'utf8')).toBe('shown\n');
  });

  it('Ctrl-C while a command.execute.before hook takes its time ends run --command', { timeout: 20_000 }, async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', cache: { enabled: false }, command: { hello: { template: 'Say hello to $ARGUMENTS' } } });
    sb.write(
      '.opencode/plugin/slow.js',
      `export const Slow = async ({ directory }) => ({
  "command.execute.before": async () => {
    (await import("node:fs")).writeFileSync(directory + "/waiting.txt", "yes")
    await new Promise((resolve) => setTimeout(resolve, 3_600_000))
  },
})
`,
    );
    const p = sb.start(['run', '--command', 'hello', 'world']);
    await vi.waitFor(() => expect(existsSync(path.join(sb.project, 'waiting.txt'))).toBe(true), { timeout: 10_000, interval: 20 });
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/plugin hook command\.execute\.before failed/);
    expect(server.log).toHaveLength(0);
  });

  it('a dispose or an event hook whose promise never settles does not change the run\'s exit code', { timeout: 20_000 }, async () => {
    sb.write('.opencode/plugin/stuck.js', 'export const Stuck = async () => ({ event: async () => { await new Promise(() => {}) }, dispose: async () => { await new Promise(() => {}) } })\n');
    server.script('m1', { type: 'text', text: 'answered' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('answered\n');
  });

  it('a config hook whose promise never settles is a warning; the run goes on with the config as loaded', { timeout: 20_000 }, async () => {
    sb.write('.opencode/plugin/stuck.js', 'export const Stuck = async () => ({ config: async () => { await new Promise(() => {}) } })\n');
    server.script('m1', { type: 'text', text: 'answered' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: A plugin's config hook failed: it never finished \(nothing left could settle its promise\); the config is used as that hook left it\.$/m);
    expect(r.stdout).toBe('answered\n');
  });

  it('doctor, which loads the plugins to check them, ends after its report even if one leaves a timer running', { timeout: 30_000 }, async () => {
    sb.write('.opencode/plugin/poller.ts', LINGERING_PLUGIN);
    const r = await sb.run(['doctor', '--check', 'config']);
    expect(r.stdout).toMatch(/ok +plugins +plugins: 1 plugin loaded/);
    expect(readFileSync(path.join(sb.project, 'disposed.txt'), 'utf8')).toBe('yes');
  });

  it('a run that fails before its turn (a session that is not there) disposes its plugins and ends', { timeout: 20_000 }, async () => {
    sb.write('.opencode/plugin/poller.ts', LINGERING_PLUGIN);
    const r = await sb.run(['run', '--session', 'ses_notthere', 'go']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: session ses_notthere does not exist\./m);
    expect(existsSync(path.join(sb.project, 'disposed.txt'))).toBe(true);
    expect(server.log).toHaveLength(0);
  });

  it('Ctrl-C while a plugin function waits on a $ command ends the run and that command', { timeout: 20_000 }, async () => {
    sb.write(
      '.opencode/plugin/slow.ts',
      `export const Slow = async ({ $, directory }) => {
  await $\`sh -c 'echo $$ > \${directory}/pid.txt; exec sleep 300'\`
  return {}
}
`,
    );
    const p = sb.start(['run', 'go']);
    const pidFile = path.join(sb.project, 'pid.txt');
    await vi.waitFor(() => expect(readFileSync(pidFile, 'utf8')).toMatch(/^\d+\n$/), { timeout: 10_000, interval: 20 });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^error: Interrupted \(SIGINT\) while the project's plugins were loading\.$/m);
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 5000, interval: 20 });
    expect(server.log).toHaveLength(0);
  });

  it('Ctrl-C while a tool.execute.before or shell.env hook (or a custom tool) takes its time ends the run', { timeout: 40_000 }, async () => {
    for (const [where, plugin] of [
      ['hook', `export const Slow = async ({ directory }) => ({
  "tool.execute.before": async () => {
    (await import("node:fs")).writeFileSync(directory + "/waiting.txt", "yes")
    await new Promise((resolve) => setTimeout(resolve, 3_600_000))
  },
})
`],
      ['shell.env', `export const Slow = async ({ directory }) => ({
  "shell.env": async () => {
    (await import("node:fs")).writeFileSync(directory + "/waiting.txt", "yes")
    await new Promise((resolve) => setTimeout(resolve, 3_600_000))
  },
})
`],
      ['tool', `export const Slow = async ({ directory }) => ({
  tool: {
    slow: {
      description: "Takes an hour, whatever the signal says",
      args: {},
      async execute() {
        (await import("node:fs")).writeFileSync(directory + "/waiting.txt", "yes")
        await new Promise((resolve) => setTimeout(resolve, 3_600_000))
        return "late"
      },
    },
  },
})
`],
    ] as const) {
      server.reset();
      sb.write('.opencode/plugin/slow.js', plugin);
      rmSync(path.join(sb.project, 'waiting.txt'), { force: true });
      server.script('m1', { type: 'tool_calls', calls: [where !== 'tool' ? { name: 'bash', arguments: { command: 'echo hi', description: 'say hi' } } : { name: 'slow', arguments: {} }] }, { type: 'text', text: 'never asked' });
      const p = sb.start(['run', '--auto', 'go']);
      await vi.waitFor(() => expect(existsSync(path.join(sb.project, 'waiting.txt'))).toBe(true), { timeout: 10_000, interval: 20 });
      p.child.kill('SIGINT');
      const r = await p.exited;
      expect(r.code, `${where}: ${r.stderr}`).toBe(130);
      expect(hasStack(r.stderr)).toBe(false);
      expect(server.log, where).toHaveLength(1);
    }
  });

  it('Ctrl-C while a chat.params hook takes its time ends the run before the model is called', { timeout: 20_000 }, async () => {
    sb.write(
      '.opencode/plugin/slow.js',
      `export const Slow = async ({ directory }) => ({
  "chat.params": async () => {
    (await import("node:fs")).writeFileSync(directory + "/waiting.txt", "yes")
    await new Promise((resolve) => setTimeout(resolve, 3_600_000))
  },
})
`,
    );
    const p = sb.start(['run', 'go']);
    await vi.waitFor(() => expect(existsSync(path.join(sb.project, 'waiting.txt'))).toBe(true), { timeout: 10_000, interval: 20 });
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/plugin hook chat\.params failed/);
    expect(server.log).toHaveLength(0);
  });

  it('a hook, a plugin function or a custom tool whose promise can never settle fails with a sentence (Node would end the run, exit 13)', { timeout: 30_000 }, async () => {
    sb.write(
      '.opencode/plugin/stuck.js',
      `export const Stuck = async () => ({
  "tool.execute.before": async (input) => { if (input.tool === "bash") await new Promise(() => {}) },
  tool: { wait: { description: "Waits on nothing", args: {}, async execute() { await new Promise(() => {}) } } },
})
`,
    );
    sb.write('.opencode/plugin/never.js', 'export const Never = async () => { await new Promise(() => {}) }\n');
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'echo hi', description: 'say hi' } }, { name: 'wait', arguments: {} }] }, { type: 'text', text: 'went on' });
    const r = await sb.run(['run', '--auto', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: The plugin .*never\.js did not load: its plugin function never finished \(nothing left could settle its promise\)\.$/m);
    expect(r.stderr).not.toMatch(/unsettled top-level await/);
    const tools = ((server.log[1]?.messages ?? []) as { role: string; content: unknown }[]).filter((m) => m.role === 'tool').map((m) => String(m.content));
    expect(tools).toEqual([expect.stringContaining('the tool.execute.before hook never finished'), expect.stringContaining('the custom tool wait never finished')]);
    expect(r.stdout).toContain('went on');
  });

  it('hooks whose getter throws, or a Proxy that throws, are one warning naming the plugin; the run goes on', async () => {
    sb.write('.opencode/plugin/getter.ts', 'export const Getter = async () => ({ get tool() { throw new Error("no tools today") } })\n');
    sb.write('.opencode/plugin/proxy.js', 'export const Trap = async () => new Proxy({ then: undefined }, { get(_t, key) { if (key === "then") return undefined; throw new Error("trapped " + String(key)) } })\n');
    server.script('m1', { type: 'text', text: 'still here' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('still here\n');
    expect(r.stderr).toMatch(/^warning: The plugin .*getter\.ts did not load: no tools today\.$/m);
    expect(r.stderr).toMatch(/^warning: The plugin .*proxy\.js did not load: trapped .+\.$/m);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('what a failing event hook or a broken custom tool says reaches --debug\'s notes with its control characters escaped', async () => {
    sb.write(
      '.opencode/plugin/noisy.js',
      `export const Noisy = async () => ({
  event: async () => { throw new Error("bad \\u001b]0;owned\\u0007 news") },
  tool: {
    broken: { description: "broken", get args() { throw new Error("args \\u001b[2J gone") }, async execute() { return "" } },
  },
})
`,
    );
    server.script('m1', { type: 'text', text: 'fine' });
    const r = await sb.run(['run', '--debug', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('plugins: an event hook failed on session.status: bad \\x1b]0;owned\\x07 news');
    expect(r.stderr).toContain('plugins: the custom tool broken is left out: args \\x1b[2J gone');
    expect(r.stderr.includes("\u001b") || r.stderr.includes("\u0007")).toBe(false);
  });

  it('the .opencode/package.json OpenCode writes (no "type") draws no Node warning about the plugin files', async () => {
    sb.write('.opencode/package.json', { dependencies: { '@opencode-ai/plugin': '1.18.33' } });
    sb.write('.opencode/plugin/quiet.ts', 'export const Quiet = async () => ({})\n');
    sb.write('.opencode/plugin/plain.js', 'export const Plain = async () => ({})\n');
    server.script('m1', { type: 'text', text: 'fine' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/MODULE_TYPELESS_PACKAGE_JSON|Reparsing as ES module|trace-warnings/);
  });
});
