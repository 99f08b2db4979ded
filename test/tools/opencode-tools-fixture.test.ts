/**
 * Pantheon's built-in tools as a model sees them, against what OpenCode 1.18.33 sent a scripted
 * provider for the same calls in the same files (test/fixtures/opencode-tools.json, captured by
 * scripts/refresh-opencode-tools.ts): the tools array (names, descriptions, parameter schemas), the
 * results of `read`, and the session headers. `opencode run` as a subprocess against a scripted
 * OpenAI-compatible server on 127.0.0.1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { FIXTURES, SECRET, sandbox, type Sandbox } from '../cli/cli-helper.ts';

interface FixtureTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}
interface FixtureResult {
  label: string;
  name: string;
  arguments: Record<string, unknown>;
  output: string;
}
const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'opencode-tools.json'), 'utf8')) as {
  tools: FixtureTool[];
  results: FixtureResult[];
  headers: Record<string, string>;
};

/** The files OpenCode's calls ran in (scripts/refresh-opencode-tools.ts makeProject). */
function writeProject(sb: Sandbox): void {
  sb.write('notes.txt', 'alpha\nbeta\ngamma\ndelta\nepsilon\n');
  sb.write('src/a.ts', 'export const a = 1;\n// TODO: more\nexport function f() {\n  return a;\n}\n');
  sb.write('src/b.ts', 'import { a } from "./a";\n// TODO: less\n');
  sb.write('src/lib/c.ts', 'export {};\n');
  fs.writeFileSync(path.join(sb.project, 'data.bin'), Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 10, 0]));
  sb.write('empty.txt', '');
  sb.write('long.txt', `${'x'.repeat(2100)}\nshort\n`);
}

const fill = <T>(value: T, project: string): T => JSON.parse(JSON.stringify(value).split('{{PROJECT}}').join(project)) as T;

const READS = fixture.results.filter((r) => r.name === 'read' && r.label !== 'invalid-arguments');

describe('the built-in tools as OpenCode 1.18.33 offers them', () => {
  let sb: Sandbox;
  let server: ScriptedServer;
  let requests: ScriptedServer['log'];

  beforeAll(async () => {
    sb = await sandbox();
    writeProject(sb);
    server = await startScriptedServer({ apiKey: SECRET });
    server.script('m', ...READS.map((r, i) => ({ type: 'tool_calls' as const, calls: [{ name: r.name, arguments: fill(r.arguments, sb.project), id: `call_${i}` }] })), { type: 'text', text: 'done' });
    sb.write('opencode.json', {
      model: 'local/m',
      provider: { local: { npm: '@ai-sdk/openai-compatible', options: { baseURL: server.url, apiKey: SECRET }, models: { m: {} } } },
      permission: { '*': 'allow' },
      cache: { enabled: false },
    });
    const result = await sb.run(['run', '--agent', 'build', 'Read the files.']);
    expect(result.stderr).not.toMatch(/Error|error:/);
    expect(result.code).toBe(0);
    requests = server.log.filter((e) => e.model === 'm');
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await sb?.remove();
  });

  it("offers OpenCode's names, descriptions and parameter schemas for the tools both have", () => {
    const sent = requests[0]?.tools as FixtureTool[];
    const byName = new Map(sent.map((t) => [t.function.name, t.function]));
    for (const expected of fixture.tools) {
      const { name } = expected.function;
      // `skill` is offered only when there are skills (none here).
      if (name === 'skill') {
        expect(byName.has('skill')).toBe(false);
        continue;
      }
      const got = byName.get(name);
      expect(got, name).toBeDefined();
      if (name === 'task') {
        // OpenCode's parameters, and `background` (on in Pantheon, as OpenCode offers it when its background subagents are on).
        const { properties, required } = expected.function.parameters as { properties: object; required: string[] };
        expect(got?.parameters).toMatchObject({ properties, required });
        // OpenCode's words, then the agents this one may start (Pantheon's roster), as OpenCode lists its own.
        const words = expected.function.description.slice(0, expected.function.description.indexOf('\nAvailable agent types'));
        expect(got?.description.startsWith(words)).toBe(true);
        continue;
      }
      expect(got?.parameters, name).toEqual(expected.function.parameters);
      // bash: OpenCode's words with Pantheon's values (its temp folder, its output bound in bytes).
      const words = name === 'bash' ? expected.function.description.replace('`/tmp/opencode`', `\`${path.join(sb.env.TMPDIR ?? '/tmp', 'opencode')}\``) : expected.function.description;
      expect(got?.description, name).toBe(words);
    }
  });

  it("answers read as OpenCode's read: the file's lines, a folder's entries, OpenCode's notes and errors", () => {
    const last = requests.at(-1)?.messages as { role: string; tool_call_id?: string; content: unknown }[];
    for (const [i, expected] of READS.entries()) {
      const message = last.find((m) => m.role === 'tool' && m.tool_call_id === `call_${i}`);
      expect(message?.content, expected.label).toBe(fill(expected.output, sb.project));
    }
  });

  it('sends the session id as OpenCode sends it to a provider of its own name', () => {
    const headers = requests[0]?.headers ?? {};
    expect(Object.keys(fixture.headers)).toEqual(expect.arrayContaining(['x-session-affinity', 'x-session-id']));
    expect(headers['x-session-affinity']).toMatch(/^ses_/);
    expect(headers['x-session-id']).toBe(headers['x-session-affinity']);
    // Every request of the session carries the same id.
    expect(new Set(requests.map((r) => r.headers['x-session-affinity'])).size).toBe(1);
  });
});
