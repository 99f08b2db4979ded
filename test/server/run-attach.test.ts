/**
 * `opencode run --attach URL`: the real CLI against a real `opencode serve` and the scripted
 * provider, its output compared with a local `opencode run` of the same prompt — text and NDJSON,
 * retries, failures, usage errors, exit codes, Ctrl-C, sessions both ways, files and stdin, the
 * password, and a server that is not there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hasStack, providerConfig, sandbox, SECRET, userText, type CliResult, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer, type Step } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
afterEach(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
  s = undefined;
  model = undefined;
  sb = undefined;
});

async function setup(steps: Step[] = [], config: object = {}, env: Record<string, string> = {}, models: Record<string, object> = { m: { cost: { input: 1, output: 2 } }, f: {} }): Promise<{ sb: Sandbox; s: Served; model: ScriptedServer }> {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: { script: steps }, f: {} } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, models), model: 'p/m', cache: { enabled: false }, retry: { maxRetries: 1, baseDelay: 50, maxDelay: 100 }, ...config });
  s = await serve(sb, [], env);
  return { sb, s, model };
}

/** What differs between two runs of the same prompt: times, ids, backoff jitter. */
function normalize(text: string): string {
  return text
    .replace(/"delayMs":\d+/g, '"delayMs":D')
    .replace(/(retry \d+ on \S+ in )\d+\.\d s/g, '$1D s')
    .replace(/ses_[A-Za-z0-9]+/g, 'SES')
    .replace(/\b(done|failed|cancelled) in \d+\.\d s/g, '$1 in T s')
    .replace(/"timestamp":\d+/g, '"timestamp":T')
    .replace(/"taskID":"[^"]+"/g, '"taskID":"TASK"');
}

function same(local: CliResult, attached: CliResult): void {
  expect(attached.code, attached.stderr).toBe(local.code);
  expect(normalize(attached.stdout)).toBe(normalize(local.stdout));
  expect(normalize(attached.stderr)).toBe(normalize(local.stderr));
}

describe('opencode run --attach', () => {
  it('renders a run like a local one: the answer, a retry on stderr, the summary; exit 0 — and the server ran it', async () => {
    const retry: Step = { type: 'status', status: 429, retryAfterMs: 60 };
    const { sb, s, model } = await setup([retry, { type: 'text', text: 'Hello from the model.' }, retry, { type: 'text', text: 'Hello from the model.' }]);
    const local = await sb.run(['run', 'hello']);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).toMatch(/retry 1 on p\/m/);
    const attached = await sb.run(['run', '--attach', s.url, 'hello']);
    same(local, attached);
    expect(attached.stdout).toBe('Hello from the model.\n');
    expect(model.log.map((e) => e.status)).toEqual([429, 200, 429, 200]);
    // The attached run's session is on the server's (shared) store with its turn.
    const id = /session (ses_\w+)/.exec(attached.stderr)?.[1] as string;
    const shown = await sb.run(['session', 'show', id, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('Hello from the model.');
  });

  it('--format json: the same NDJSON events as a local run, in order', async () => {
    const { sb, s } = await setup([{ type: 'status', status: 503 }, { type: 'text', text: 'one' }, { type: 'status', status: 503 }, { type: 'text', text: 'one' }]);
    const local = await sb.run(['run', '--format', 'json', 'events']);
    const attached = await sb.run(['run', '--format=json', '--attach', s.url, 'events']);
    same(local, attached);
    const types = attached.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).toEqual(['step_start', 'retry', 'text', 'step_finish', 'done']);
  });

  it('a failed turn: the same error, attempts and summary, exit 1 (text) and the same error/done events (json)', async () => {
    const fail: Step = { type: 'status', status: 500, repeat: 2 };
    const { sb, s } = await setup([fail, fail, fail, fail], { fallbacks: [] });
    const local = await sb.run(['run', 'doomed']);
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(/^error: Every model in the chain failed/m);
    same(local, await sb.run(['run', '--attach', s.url, 'doomed']));
    const localJson = await sb.run(['run', '--format', 'json', 'doomed']);
    same(localJson, await sb.run(['run', '--format', 'json', '--attach', s.url, 'doomed']));
    expect(localJson.stdout).toMatch(/"type":"error","code":"ALL_FALLBACKS_FAILED"/);
  });

  it('usage errors as a local run reports them: an unknown agent (exit 2), an unknown session (exit 2), a missing message', async () => {
    const { sb, s } = await setup();
    same(await sb.run(['run', '--agent', 'nobody', 'hi']), await sb.run(['run', '--attach', s.url, '--agent', 'nobody', 'hi']));
    same(await sb.run(['run', '--format', 'json', '--agent', 'nobody', 'hi']), await sb.run(['run', '--format', 'json', '--attach', s.url, '--agent', 'nobody', 'hi']));
    const unknown = await sb.run(['run', '--attach', s.url, '-s', 'ses_doesnotexist', 'hi']);
    same(await sb.run(['run', '-s', 'ses_doesnotexist', 'hi']), unknown);
    expect(unknown.code).toBe(2);
    const empty = await sb.run(['run', '--attach', s.url]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^error: run: no message given\.$/m);
    const config = await sb.run(['run', '--attach', s.url, '--config', 'x.json', 'hi']);
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/^error: --config cannot be used with --attach: the server runs with its own config\.$/m);
  });

  it('sessions: -s continues a local session on the server and the reverse; -c takes the latest; --file and stdin reach the model as locally', async () => {
    const { sb, s, model } = await setup();
    sb.write('notes.txt', 'the notes\n');
    const first = await sb.run(['run', 'first']);
    const id = /session (ses_\w+)/.exec(first.stderr)?.[1] as string;
    const second = await sb.run(['run', '--attach', s.url, '-s', id, 'second']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`session ${id}`);
    const third = await sb.run(['run', '-c', 'third']);
    expect(third.stderr).toContain(`session ${id}`);
    // The model saw the whole conversation each time: 1, 3, then 5 messages besides the system prompt.
    const conversation = (i: number) => (model.log[i]?.messages as { role: string }[]).filter((m) => m.role !== 'system').length;
    expect([0, 1, 2].map(conversation)).toEqual([1, 3, 5]);
    const fourth = await sb.run(['run', '--attach', s.url, '-c', 'fourth']);
    expect(fourth.stderr).toContain(`session ${id}`);

    const withFile = ['run', '-f', 'notes.txt', 'read this'];
    await sb.run(withFile, { stdin: 'piped text' });
    await sb.run(['run', '--attach', s.url, ...withFile.slice(1)], { stdin: 'piped text' });
    const [localSent, remoteSent] = model.log.slice(-2).map(userText);
    expect(remoteSent).toBe(localSent);
    expect(remoteSent).toContain('<file path="notes.txt">\nthe notes\n');
    expect(remoteSent).toContain('piped text');
    const missing = await sb.run(['run', '--attach', s.url, '-f', 'nope.txt', 'x']);
    same(await sb.run(['run', '-f', 'nope.txt', 'x']), missing);
  });

  it('Ctrl-C cancels the turn on the server: exit 130, the same lines as a local Ctrl-C, the provider request closed', async () => {
    const { sb, s, model } = await setup([{ type: 'hang' }, { type: 'hang' }]);
    const interrupt = async (args: string[]) => {
      const child = sb.start(args);
      const before = model.log.length;
      await model.waitForRequests(before + 1, 'm');
      child.child.kill('SIGINT');
      const r = await child.exited;
      const entry = model.log[before];
      await model.waitFor(() => entry?.endedAt !== null);
      expect(entry?.clientAborted).toBe(true);
      return r;
    };
    const local = await interrupt(['run', 'hang on']);
    const attached = await interrupt(['run', '--attach', s.url, 'hang on']);
    expect(local.code).toBe(130);
    same(local, attached);
    expect(hasStack(attached.stderr)).toBe(false);
    // The server is still serving, and the cancelled turn's session is idle.
    const after = await sb.run(['run', '--attach', s.url, 'still there?']);
    expect(after.code, after.stderr).toBe(0);
  });

  it('the password: none → 401 in a sentence (exit 2), a wrong one the same, the right one runs', async () => {
    const { sb, s } = await setup([], {}, { OPENCODE_SERVER_PASSWORD: 'letmein' });
    const none = await sb.run(['run', '--attach', s.url, 'hi']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`error: The server at ${s.url} needs a password (401).\nhint: Give the password the server was started with: -p/--password (and -u/--username if it is not "opencode"), or OPENCODE_SERVER_PASSWORD (and OPENCODE_SERVER_USERNAME).\n`);
    const wrong = await sb.run(['run', '--attach', s.url, 'hi'], { env: { OPENCODE_SERVER_PASSWORD: 'nope' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^error: The server at \S+ refused the password \(401\)\.$/m);
    expect(wrong.stderr).not.toContain('nope');
    const right = await sb.run(['run', '--attach', s.url, 'hi'], { env: { OPENCODE_SERVER_PASSWORD: 'letmein' } });
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toBe('echo: hi\n');
    // A password in the URL with a stray % (written as it is): a usage error that does not show it.
    const stray = await sb.run(['run', '--attach', s.url.replace('://', '://opencode:let%me@'), 'hi']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/^error: --attach: the user name or password in the URL is not valid percent-encoding\.\nhint: Write a % in them as %25/);
    expect(stray.stderr).not.toContain('let%me');
  });

  it("OpenCode's -p/--password and -u/--username: they stand in for the environment's, a wrong one is refused, neither is printed", async () => {
    const { sb, s } = await setup([], {}, { OPENCODE_SERVER_PASSWORD: 'letmein', OPENCODE_SERVER_USERNAME: 'ops' });
    const right = await sb.run(['run', '--attach', s.url, '-u', 'ops', '-p', 'letmein', 'hi']);
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toBe('echo: hi\n');
    // The flags come before the environment, as OpenCode reads them.
    const long = await sb.run(['run', '--attach', s.url, '--username=ops', '--password', 'letmein', 'hi'], { env: { OPENCODE_SERVER_PASSWORD: 'stale', OPENCODE_SERVER_USERNAME: 'nobody' } });
    expect(long.code, long.stderr).toBe(0);
    // The user defaults to OPENCODE_SERVER_USERNAME, else "opencode" (not this server's user).
    const user = await sb.run(['run', '--attach', s.url, '-p', 'letmein', 'hi']);
    expect(user.code).toBe(2);
    expect(user.stderr).toMatch(/^error: The server at \S+ refused the password \(401\)\.$/m);
    const wrong = await sb.run(['run', '--attach', s.url, '-u', 'ops', '-p', 'hunter2-wrong', 'hi']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/refused the password \(401\)/);
    for (const r of [right, long, user, wrong]) expect(r.stdout + r.stderr).not.toMatch(/letmein|hunter2/);
    const empty = await sb.run(['run', '--attach', s.url, '-p', '', 'hi']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('error: --password: expected a password, found nothing.\nhint: For example -p "$OPENCODE_SERVER_PASSWORD".\n');
  });

  it('--thinking: the reasoning blocks come back from the server as a local run prints them', async () => {
    const thought: Step = { type: 'text', reasoning: 'The user says hi.', text: 'Hello.' };
    const { sb, s } = await setup([thought, thought, thought]);
    const local = await sb.run(['run', '--thinking', 'hi']);
    const attached = await sb.run(['run', '--thinking', '--attach', s.url, 'hi']);
    same(local, attached);
    expect(attached.stdout).toBe('Thinking: The user says hi.\nHello.\n');
    const json = await sb.run(['run', '--thinking', '--format', 'json', '--attach', s.url, 'hi']);
    expect(json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; text?: string }).find((e) => e.type === 'reasoning')).toMatchObject({ text: 'The user says hi.' });
  });

  it('--variant and --title reach the server as a local run takes them', async () => {
    const { sb: box, s: server, model: upstream } = await setup([], {}, {}, { m: { variants: { deep: { reasoningEffort: 'high' } } }, f: {} });
    const r = await box.run(['run', '--attach', server.url, '--variant', 'deep', '--title', 'Attached thoughts', '--format', 'json', 'think']);
    expect(r.code, r.stderr).toBe(0);
    expect(upstream.log[0]?.body).toMatchObject({ model: 'm', reasoning_effort: 'high' });
    const sessionID = (JSON.parse(r.stdout.split('\n')[0] as string) as { sessionID: string }).sessionID;
    const listed = (JSON.parse((await box.run(['session', 'list', '--json'])).stdout) as { sessions: { id: string; title: string }[] }).sessions;
    expect(listed.find((x) => x.id === sessionID)?.title).toBe('Attached thoughts');
    // --fork: the server continues a copy.
    const forked = await box.run(['run', '--attach', server.url, '-s', sessionID, '--fork', '--format', 'json', 'again']);
    expect(forked.code, forked.stderr).toBe(0);
    const forkID = (JSON.parse(forked.stdout.split('\n')[0] as string) as { sessionID: string }).sessionID;
    expect(forkID).not.toBe(sessionID);
    const after = (JSON.parse((await box.run(['session', 'list', '--json'])).stdout) as { sessions: { id: string; title: string; messageCount: number }[] }).sessions;
    expect(after.find((x) => x.id === sessionID)?.messageCount).toBe(2);
    expect(after.find((x) => x.id === forkID)).toMatchObject({ title: 'Attached thoughts (fork)', messageCount: 4 });
  });

  it('--command expands on the server as a local run expands it', async () => {
    const { sb: box, s: server, model: upstream } = await setup([], { command: { greet: { description: 'Greet', template: 'Say hello to $ARGUMENTS from !`echo the-server`.' } } });
    const local = await box.run(['run', '--command', 'greet', 'Ada']);
    const attached = await box.run(['run', '--attach', server.url, '--command', 'greet', 'Ada']);
    same(local, attached);
    // The output as the shell gave it, its newline included (as OpenCode puts it in).
    expect(upstream.log.map((e) => userText(e))).toEqual(['Say hello to Ada from the-server\n.', 'Say hello to Ada from the-server\n.']);
    const unknown = await box.run(['run', '--attach', server.url, '--command', 'nope', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no command named "nope"/);
    // Resolved as a local run resolves it: OpenCode's built-ins are known, a near miss gets a did-you-mean under the flag's name.
    const typo = await box.run(['run', '--attach', server.url, '--command', 'gret', 'x']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^error: --command: no command named "gret"; did you mean "greet"\?\nhint: Commands: init, review, greet\./m);
    const init = await box.run(['run', '--attach', server.url, '--command', 'init']);
    expect(init.code, init.stderr).toBe(0);
    expect(userText(upstream.log.at(-1))).toMatch(/^Create or update `AGENTS.md` for this repository\./);
  });

  it('a bad URL is exit 2, a server that is not there exit 1, each in one sentence', async () => {
    sb = await sandbox();
    const bad = await sb.run(['run', '--attach', 'ftp://example.com', 'hi']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --attach: expected a server URL like http:\/\/127\.0\.0\.1:4096, found "ftp:\/\/example\.com"\.$/m);
    const { createServer } = await import('node:net');
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    const down = await sb.run(['run', '--attach', `http://127.0.0.1:${port}`, 'hi']);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`error: Cannot reach the server at http://127.0.0.1:${port} (connection refused).\nhint: Start it with \`opencode serve\` (it prints its URL), or check the URL and port.\n`);
    const json = await sb.run(['run', '--format', 'json', '--attach', `http://127.0.0.1:${port}`, 'hi']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'SERVER_UNREACHABLE' } });
  });
});
