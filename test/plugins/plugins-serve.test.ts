/**
 * OpenCode's plugins and custom tools under `opencode serve`, driven through `@opencode-ai/sdk`:
 * a custom tool listed by `/experimental/tool/ids` and called in a turn (its title from the
 * answer), a plugin's `event` hook seeing the session's events as OpenCode's stream carries them,
 * and its `dispose` called when the instance is disposed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alive } from '../support/proc-children.ts';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { getJson, serve } from '../server/serve-helper.ts';
import { idleOf, watchedSession } from '../server/sdk-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', cache: { enabled: false } });
  sb.write(
    '.opencode/tool/stamp.ts',
    `import { tool } from "@opencode-ai/plugin"
export default tool({
  description: "Stamp a word",
  args: { word: tool.schema.string().describe("The word") },
  async execute(args, context) {
    context.metadata({ title: "stamping " + args.word })
    return { title: "stamped " + args.word, output: "[" + args.word + "]" }
  },
})
`,
  );
  sb.write(
    '.opencode/plugins/watch.js',
    `import { appendFileSync, writeFileSync } from "node:fs"
export const Watch = async ({ directory }) => ({
  event: async ({ event }) => {
    if (typeof event.id !== "string" || !event.properties) throw new Error("not OpenCode's event shape")
    appendFileSync(directory + "/events.txt", event.type + " " + (event.properties.sessionID ?? event.properties.info?.sessionID ?? "") + "\\n")
  },
  dispose: async () => { writeFileSync(directory + "/disposed.txt", "yes") },
})
`,
  );
});

afterAll(async () => {
  await server?.close();
  await sb?.remove();
});

describe('plugins under opencode serve', () => {
  it('a custom tool is listed and runs in a turn; the event hook sees the turn; dispose runs with the instance', async () => {
    const served = await serve(sb);
    try {
      const ids = await getJson(`${served.url}/experimental/tool/ids?directory=${encodeURIComponent(sb.project)}`);
      expect(ids.status).toBe(200);
      expect(ids.body).toContain('stamp');
      const { client, id, stream, close } = await watchedSession(served.url, sb.project);
      server.script('m', { type: 'tool_calls', calls: [{ id: 'c_stamp', name: 'stamp', arguments: { word: 'ok' } }] }, { type: 'text', text: 'Stamped.' });
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'stamp ok' }] } });
      await stream.until(idleOf(id));
      close();
      const messages = (await client.session.messages({ path: { id } })).data ?? [];
      const part = messages.flatMap((m) => m.parts).find((p) => p.type === 'tool') as { tool: string; state: { status: string; output?: string; title?: string } } | undefined;
      expect(part?.tool).toBe('stamp');
      expect(part?.state).toMatchObject({ status: 'completed', output: '[ok]', title: 'stamped ok' });

      const events = readFileSync(path.join(sb.project, 'events.txt'), 'utf8').trim().split('\n');
      expect(events).toContain(`session.status ${id}`);
      expect(events).toContain(`session.idle ${id}`);
      expect(events.some((e) => e.startsWith('message.part.updated'))).toBe(true);

      expect(existsSync(path.join(sb.project, 'disposed.txt'))).toBe(false);
      const disposed = await getJson(`${served.url}/instance/dispose?directory=${encodeURIComponent(sb.project)}`, { method: 'POST' });
      expect(disposed.status).toBe(200);
      expect(readFileSync(path.join(sb.project, 'disposed.txt'), 'utf8')).toBe('yes');
    } finally {
      await served.stop();
    }
  });

  it('Ctrl-C while the server starts and a plugin function waits on a $ command ends both', { timeout: 20_000 }, async () => {
    const other = await sandbox();
    try {
      other.write('.opencode/plugin/slow.js', 'export const Slow = async ({ $, directory }) => { await $`sh -c \'echo $$ > ${directory}/pid.txt; exec sleep 300\'`; return {} }\n');
      const p = other.start(['serve', '--port=0']);
      const pidFile = path.join(other.project, 'pid.txt');
      await vi.waitFor(() => expect(readFileSync(pidFile, 'utf8')).toMatch(/^\d+\n$/), { timeout: 10_000, interval: 20 });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(alive(pid)).toBe(true);
      p.child.kill('SIGINT');
      const r = await p.exited;
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/^error: Interrupted \(SIGINT\) while the server was starting\.$/m);
      await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 5000, interval: 20 });
    } finally {
      await other.remove();
    }
  });

  it('a plugin that leaves a timer running does not keep the server alive after SIGTERM', { timeout: 20_000 }, async () => {
    sb.write('.opencode/plugins/poller.js', 'export const Poller = async () => { setInterval(() => {}, 1000); return {} }\n');
    const served = await serve(sb);
    const ids = await getJson(`${served.url}/experimental/tool/ids?directory=${encodeURIComponent(sb.project)}`);
    expect(ids.status).toBe(200);
    const stopped = await served.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
  });
});
