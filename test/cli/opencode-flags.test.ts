/**
 * OpenCode's flags through the real CLI: the global `--print-logs`, `--log-level` and `--pure` on
 * every command, `run --thinking`, `--port` and `-i`, `models --verbose`, `--refresh` and its piped
 * list, `stats --models`, `--tools` and `--project`, `session list -n` and `--format` — each one
 * accepted with a Pantheon meaning, or refused in one sentence with what to do instead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, hasStack, providerConfig, sandbox, type CliResult, type Sandbox } from './cli-helper.ts';
import { startInPty } from './pty-helper.ts';

let server: ScriptedServer;
let sb: Sandbox;
const config = () => ({ ...providerConfig(server, { m: { cost: { input: 1, output: 2 }, limit: { context: 8000, output: 1000 } }, n: {} }), model: 'p/m', cache: { enabled: false }, retry: { maxRetries: 1, baseDelay: 10 } });
beforeAll(async () => {
  server = await startScriptedServer({ apiKey: SECRET, models: { m: {}, n: {}, s: {} } });
  sb = await sandbox();
  sb.write('opencode.json', config());
});
afterAll(async () => {
  await sb.remove();
  await server.close();
});

/** A usage error: exit 2, one sentence and its hint on stderr, nothing on stdout, no stack. */
function usage(r: CliResult, text: string): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toBe(text);
  expect(r.stdout).toBe('');
  expect(hasStack(r.stderr)).toBe(false);
}

/** OpenCode 1.18.33's flags of each command, as its `--help` lists them. */
const OPENCODE_FLAGS: [string[], string[]][] = [
  [[], ['print-logs', 'log-level', 'pure']],
  [['run'], ['print-logs', 'log-level', 'pure', 'command', 'continue', 'session', 'fork', 'share', 'model', 'agent', 'format', 'file', 'title', 'attach', 'password', 'username', 'dir', 'port', 'variant', 'thinking', 'interactive', 'auto']],
  [['attach'], ['print-logs', 'log-level', 'pure', 'dir', 'continue', 'session', 'fork', 'password', 'username', 'mini', 'replay-limit']],
  [['models'], ['print-logs', 'log-level', 'pure', 'verbose', 'refresh']],
  [['stats'], ['print-logs', 'log-level', 'pure', 'days', 'tools', 'models', 'project']],
  [['session', 'list'], ['print-logs', 'log-level', 'pure', 'max-count', 'format']],
];

describe("OpenCode's global flags", () => {
  it('every command takes --print-logs, --log-level and --pure', async () => {
    const run = await sb.run(['run', '--print-logs', '--log-level', 'DEBUG', '--pure', 'hi']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('echo: hi\n');
    for (const command of [['models'], ['stats'], ['session', 'list'], ['agent', 'list'], ['config', 'validate'], ['mcp', 'list']]) {
      const r = await sb.run([...command, '--print-logs', '--log-level=ERROR', '--pure']);
      expect(r.code, `${command.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it('--log-level DEBUG (any case) prints the debug notes; WARN leaves them out', async () => {
    const bad = { type: 'status' as const, status: 429 as const, retryAfter: 'soon', headers: { 'x-ratelimit-remaining-requests': '-3' } };
    server.script('m', bad);
    const loud = await sb.run(['run', '--log-level', 'debug', 'x']);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/^debug: rate-limit headers from p\/m: ignored x-ratelimit-\* requests remaining: "-3" is not a whole number/m);
    server.script('m', bad);
    const quiet = await sb.run(['run', '--log-level', 'WARN', '--print-logs', 'y']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/debug:/);
  });

  it('a bad --log-level is one sentence, exit 2; an unknown flag is named as typed (no camelCase copy)', async () => {
    usage(await sb.run(['models', '--log-level', 'trace']), 'error: --log-level: expected one of DEBUG, INFO, WARN, ERROR, found "trace".\nhint: For example --log-level DEBUG (lower case works too).\n');
    usage(await sb.run(['serve', '--log-level']), 'error: --log-level: expected one of DEBUG, INFO, WARN, ERROR, found nothing.\nhint: For example --log-level DEBUG (lower case works too).\n');
    usage(await sb.run(['run', '--print-log-file', '--max-turns', '3', 'hi']), 'error: run: unknown options --print-log-file, --max-turns.\nhint: See `opencode run --help`.\n');
    usage(await sb.run(['session', 'list', '-x']), 'error: session list: unknown option -x.\nhint: See `opencode session list --help`.\n');
  });

  it("`opencode` alone (OpenCode's TUI, with its flags or not), OpenCode not installed: says so and what to run instead", async () => {
    // No OpenCode on this PATH nor in the sandbox's ~/.opencode/bin (test/cli/tui.test.ts runs one).
    const env = { PATH: path.dirname(process.execPath) };
    for (const args of [[], ['-c'], ['--port', '4096'], ['--print-logs']]) {
      usage(
        await sb.run(args, { env }),
        'error: `opencode` alone starts OpenCode\'s terminal UI, and OpenCode is not installed here (Pantheon has no TUI of its own).\nhint: Install OpenCode (https://opencode.ai; it need not come first on the PATH) or set PANTHEON_OPENCODE_BIN to its binary: Pantheon then runs its TUI (`opencode` on a Pantheon server started for it, `opencode attach URL` on a running one). `opencode run "…"` sends one message; `opencode --help` lists the commands.\n',
      );
    }
  });

  it("--help lists every flag OpenCode's --help lists, for the top level, run, models, stats and session list", async () => {
    for (const [command, flags] of OPENCODE_FLAGS) {
      const r = await sb.run([...command, '--help']);
      expect(r.code, r.stderr).toBe(0);
      for (const flag of flags) expect(r.stdout, `${command.join(' ')} --${flag}`).toMatch(new RegExp(`--${flag}\\b`));
    }
  });
});

describe('run', () => {
  it('--thinking prints the reasoning blocks as OpenCode does; without it they stay hidden (text and JSON)', async () => {
    const step = { type: 'text' as const, reasoning: 'Greet back.\u001b[2J Briefly.', text: 'Hello.' };
    server.script('m', step, step, step, step);
    const plain = await sb.run(['run', 'hi']);
    expect(plain.stdout).toBe('Hello.\n');
    const shown = await sb.run(['run', '--thinking', 'hi']);
    expect(shown.code, shown.stderr).toBe(0);
    // Escaped as the answer is: a terminal never gets the model's control characters.
    expect(shown.stdout).toBe('Thinking: Greet back.\\x1b[2J Briefly.\nHello.\n');
    const types = (r: CliResult) => r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; text?: string });
    const json = await sb.run(['run', '--format', 'json', 'hi']);
    expect(types(json).map((e) => e.type)).not.toContain('reasoning');
    const thinking = await sb.run(['run', '--format', 'json', '--thinking', 'hi']);
    expect(types(thinking).filter((e) => e.type === 'reasoning')).toEqual([expect.objectContaining({ type: 'reasoning', text: 'Greet back.\u001b[2J Briefly.' })]);
    expect(thinking.stdout).not.toContain('\u001b');
  });

  it('--thinking on a terminal: the block, then a blank line before the answer (as OpenCode draws it)', async () => {
    server.script('m', { type: 'text', reasoning: 'Greet.', text: 'Hello.' });
    const { code, screen } = await startInPty(sb, ['run', '--thinking', 'hi']).exited;
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/^Thinking: Greet\.\n\nHello\.$/m);
  });

  it('--thinking shows the reasoning of a model that answers whole (supports.streaming: false) too', async () => {
    sb.write('whole.json', { provider: { p: { models: { s: { supports: { streaming: false } } } } } });
    server.script('s', { type: 'text', reasoning: 'Think once.', text: 'Whole.' });
    const r = await sb.run(['run', '--config', 'whole.json', '-m', 'p/s', '--thinking', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log.at(-1)).toMatchObject({ model: 's', stream: false });
    expect(r.stdout).toBe('Thinking: Think once.\nWhole.\n');
  });

  it('--thinking: an answer the response cache replays shows its reasoning as the first answer did', async () => {
    sb.write('cached-sqlite.json', { cache: { enabled: true } });
    server.script('n', { type: 'text', reasoning: 'Think it through.', text: 'Cached.' });
    const first = await sb.run(['run', '--config', 'cached-sqlite.json', '-m', 'p/n', '--thinking', '--format', 'json', 'the same question']);
    expect(first.code, first.stderr).toBe(0);
    const asked = server.log.length;
    const again = await sb.run(['run', '--config', 'cached-sqlite.json', '-m', 'p/n', '--thinking', '--format', 'json', 'the same question']);
    expect(again.code, again.stderr).toBe(0);
    // Nothing was asked of the provider: the cache answered, reasoning and all.
    expect(server.log.length).toBe(asked);
    const events = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; text?: string });
    expect(events.map((e) => e.type)).toContain('cache_hit');
    expect(events.filter((e) => e.type === 'reasoning')).toEqual([expect.objectContaining({ text: 'Think it through.' })]);
    expect(events.filter((e) => e.type === 'text').map((e) => e.text).join('')).toBe('Cached.');
  });

  it('--port and -i/--interactive are refused with what to do instead; -p/-u without --attach are not used', async () => {
    usage(await sb.run(['run', '--port', '4096', 'hi']), 'error: --port: Pantheon\'s `opencode run` starts no server of its own, so there is no port to choose.\nhint: Start one with `opencode serve --port 4096`, then send the run to it with `opencode run --attach http://127.0.0.1:4096 "…"`.\n');
    usage(await sb.run(['run', '-i', 'hi']), 'error: --interactive: Pantheon has no interactive terminal mode; `opencode run` sends one message and prints the answer.\nhint: Go on with `opencode run -c "…"`, or run OpenCode\'s TUI against `opencode serve` (`<opencode> attach http://127.0.0.1:4096`).\n');
    const local = await sb.run(['run', '-u', 'ops', '-p', 's3cret-pass', 'hi']);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout + local.stderr).not.toContain('s3cret-pass');
  });
});

describe('models', () => {
  it('piped: one provider/model a line, as OpenCode prints them; --table: the table', async () => {
    const piped = await sb.run(['models']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toBe('p/m\np/n\n');
    const table = await sb.run(['models', '--table']);
    expect(table.stdout).toMatch(/^MODEL\s+CONTEXT\s+OUTPUT\s+RATE LIMITS\s+COST \$\/1M IN\/OUT\s+USED BY$/m);
    expect(table.stdout).toMatch(/^p\/m\s+8000\s+1000\s/m);
  });

  it("--verbose: each model's line, then its metadata as OpenCode's JSON (costs, limits, capabilities)", async () => {
    const r = await sb.run(['models', 'p', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    const [, first, second] = /^p\/m\n(\{\n[\s\S]*?\n\})\np\/n\n(\{\n[\s\S]*?\n\})\n$/.exec(r.stdout) ?? [];
    expect(JSON.parse(first as string)).toMatchObject({
      id: 'm',
      providerID: 'p',
      api: { id: 'm', npm: '@ai-sdk/openai-compatible' },
      name: 'm',
      status: 'active',
      capabilities: { toolcall: true, input: { text: true }, output: { text: true } },
      cost: { input: 1, output: 2, cache: { read: 0, write: 0 } },
      limit: { context: 8000, output: 1000 },
      variants: {},
    });
    expect(JSON.parse(second as string)).toMatchObject({ id: 'n', cost: { input: 0, output: 0 }, limit: { context: 0, output: 0 } });
    expect(r.stdout).not.toContain(SECRET);
  });

  it('--refresh: said on stderr (the catalogue ships with Pantheon), and the list printed', async () => {
    const r = await sb.run(['models', '--refresh']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('p/m\np/n\n');
    expect(r.stderr).toBe('note: --refresh: Pantheon\'s models.dev catalogue is a snapshot that ships with the package, so there is nothing to download; updating Pantheon (`npm install -g pantheon@latest`) brings a newer one\n');
  });
});

describe('stats and session list over runs in two projects', () => {
  let other: string;
  beforeAll(async () => {
    other = path.join(sb.root, 'other');
    mkdirSync(path.join(other, '.git'), { recursive: true });
    writeFileSync(path.join(other, 'opencode.json'), JSON.stringify(config()));
    // Here: two runs on p/m, the first reading a file twice; there: one run on p/n.
    sb.write('notes.txt', 'notes\n');
    const read = { name: 'read', arguments: { filePath: 'notes.txt' } };
    server.script('m', { type: 'tool_calls', calls: [read, read] }, { type: 'text', text: 'Read it.' });
    for (const args of [['run', '--title', 'first here', 'read the notes'], ['run', '--title', 'second here', 'again']]) {
      const r = await sb.run(args);
      expect(r.code, r.stderr).toBe(0);
    }
    const there = await sb.run(['run', '-m', 'p/n', '--title', 'over there', 'elsewhere'], { cwd: other });
    expect(there.code, there.stderr).toBe(0);
  });

  it('stats --project: this project (empty), another by folder or by its projectId', async () => {
    interface Report {
      filters: { project?: string };
      totals: { requests: number };
      byModel: Record<string, unknown>;
      notes: string[];
    }
    const report = async (args: string[], cwd?: string): Promise<Report> => {
      const r = await sb.run(['stats', '--json', ...args], cwd ? { cwd } : {});
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Report;
    };
    const all = await report([]);
    const here = await report(['--project', '']);
    expect(here.filters.project).toBe(sb.project);
    const there = await report(['--project', other]);
    expect(there).toMatchObject({ filters: { project: other }, totals: { requests: 1 } });
    expect(Object.keys(there.byModel)).toEqual(['p/n']);
    expect(here.totals.requests + there.totals.requests).toBe(all.totals.requests);
    const listed = JSON.parse((await sb.run(['session', 'list', '--format', 'json'], { cwd: other })).stdout) as { projectId: string }[];
    expect((await report(['--project', listed[0]?.projectId as string])).totals.requests).toBe(1);
    const nowhere = await report(['--project', path.join(sb.root, 'nowhere')]);
    expect(nowhere.totals.requests).toBe(0);
    expect(nowhere.notes).toContain(`No saved sessions in ${path.join(sb.root, 'nowhere')}; \`opencode session list --all\` shows the projects that have some.`);
  });

  it('stats --tools [N]: a TOOL table counted from the saved sessions; --models N: the N busiest models', async () => {
    const json = await sb.run(['stats', '--json', '--tools']);
    expect((JSON.parse(json.stdout) as { tools: unknown }).tools).toEqual([{ name: 'read', calls: 2 }]);
    const noTools = JSON.parse((await sb.run(['stats', '--json'])).stdout) as Record<string, unknown>;
    expect(noTools).not.toHaveProperty('tools');
    const text = await sb.run(['stats', '--tools', '1', '--models', '1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^TOOL\s+CALLS\s+SHARE\s+BAR\nread\s+2\s+100\.0%\s+█+$/m);
    const models = text.stdout.slice(text.stdout.indexOf('\nMODEL '));
    expect(models).toMatch(/^p\/m\s/m);
    expect(models).not.toMatch(/^p\/n\s/m);
    const both = await sb.run(['stats', '--models']);
    expect(both.stdout.slice(both.stdout.indexOf('\nMODEL '))).toMatch(/^p\/n\s/m);
    const elsewhere = await sb.run(['stats', '--json', '--tools', '--project', other]);
    expect((JSON.parse(elsewhere.stdout) as { tools: unknown }).tools).toEqual([]);
  });

  it('stats: bad --models, --tools are one sentence, exit 2', async () => {
    usage(await sb.run(['stats', '--tools', '0']), 'error: --tools: expected a whole number of tools from 1 on (or nothing, for all), found "0".\nhint: For example --tools 5 (the 5 most used tools).\n');
    usage(await sb.run(['stats', '--models', 'top']), 'error: --models: expected a whole number of models from 1 on (or nothing, for all), found "top".\nhint: For example --models 5 (the 5 busiest models).\n');
  });

  it("session list --format json: OpenCode's list (its fields, then Pantheon's); -n N the newest N; --json stays Pantheon's document", async () => {
    const r = await sb.run(['session', 'list', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    // The runs of this project, newest first (the other project's is not listed).
    expect(list.map((s) => s.title).slice(0, 2)).toEqual(['second here', 'first here']);
    expect(list.map((s) => s.title)).not.toContain('over there');
    expect(Object.keys(list[0] as object).slice(0, 6)).toEqual(['id', 'title', 'updated', 'created', 'projectId', 'directory']);
    expect(list[0]).toMatchObject({ id: expect.stringMatching(/^ses_/), directory: sb.project, projectId: expect.stringMatching(/^[0-9a-f]{16}$/), agent: expect.any(String) });
    expect(list[0]?.updated).toBeGreaterThanOrEqual(list[0]?.created as number);
    const one = JSON.parse((await sb.run(['session', 'list', '-n', '1', '--format=json'])).stdout) as { id: string }[];
    expect(one.map((s) => s.id)).toEqual([list[0]?.id]);
    const all = JSON.parse((await sb.run(['session', 'list', '--max-count', '0', '--format', 'json'])).stdout) as unknown[];
    expect(all).toHaveLength(list.length);
    const doc = JSON.parse((await sb.run(['session', 'list', '--json', '-n', '1'])).stdout) as { sessions: { id: string }[]; projectRoot: string };
    expect(doc).toMatchObject({ projectRoot: sb.project, sessions: [{ id: list[0]?.id }] });
    const table = await sb.run(['session', 'list', '-n', '1', '--format', 'table']);
    expect(table.stdout.trim().split('\n')).toHaveLength(2);
    expect(table.stdout).toContain('second here');
  });

  it('session list: a bad -n or --format is one sentence, exit 2', async () => {
    usage(await sb.run(['session', 'list', '-n', 'ten']), 'error: --max-count: expected a whole number of sessions, found "ten".\nhint: For example -n 10 (the 10 most recent; 0 lists them all).\n');
    usage(await sb.run(['session', 'list', '-n', '-1']), 'error: --max-count: expected a whole number of sessions, found "-1".\nhint: For example -n 10 (the 10 most recent; 0 lists them all).\n');
    usage(await sb.run(['session', 'list', '--format', 'yaml']), 'error: --format: expected one of table, json, found "yaml".\nhint: See `opencode session list --help`.\n');
  });
});
