import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { freePort } from '../support/redis-server.ts';
import { SECRET, userText, filesContaining, hasStack, providerConfig, sandbox, type CliResult, type Sandbox } from './cli-helper.ts';

interface JsonEvent {
  type: string;
  timestamp: number;
  sessionID: string;
  [key: string]: unknown;
}

describe('opencode run against the scripted server', () => {
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
    // Fast backoff so retry tests stay quick; a fallback chain m1 → m2.
    sb.write('opencode.json', {
      ...providerConfig(server, { m1: {}, m2: {}, m3: {} }),
      model: 'p/m1',
      fallbacks: ['p/m2'],
      retry: { maxRetries: 1, baseDelay: 10, maxDelay: 100 },
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('streams the answer to stdout and prints a summary on stderr', async () => {
    server.script('m1', { type: 'text', text: 'Hello from the scripted model.' });
    const r = await sb.run(['run', 'say', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Hello from the scripted model.\n');
    expect(r.stderr).toMatch(/^done in \d+\.\d s · by p\/m1 · \d+ in \/ \d+ out tokens · session ses_[a-z0-9]+\n$/);
    expect(server.log).toHaveLength(1);
    expect(server.log[0]).toMatchObject({ model: 'm1', stream: true, status: 200 });
    expect(userText(server.log[0])).toBe('say hi');
  });

  it('writes text to stdout while the response is still arriving', async () => {
    server.script('m1', { type: 'hang', text: 'first part ' });
    const child = sb.start(['run', 'stream please']);
    await child.stdoutMatches(/first part/);
    expect(server.log[0]?.endedAt).toBeNull();
    child.child.kill('SIGINT');
    const r = await child.exited;
    expect(r.code).toBe(130);
  });

  it('--format json: one event per line with type, timestamp and sessionID', async () => {
    server.script('m1', { type: 'text', text: 'json answer' });
    const r = await sb.run(['run', '--format', 'json', 'events please']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as JsonEvent);
    for (const e of events) {
      expect(e.type).toEqual(expect.any(String));
      expect(e.timestamp).toEqual(expect.any(Number));
      expect(e.sessionID).toBe(events[0]?.sessionID);
    }
    const types = events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['step_start', 'text', 'step_finish', 'done']));
    expect(types.indexOf('step_start')).toBeLessThan(types.indexOf('text'));
    expect(types.at(-1)).toBe('done');
    expect(events.filter((e) => e.type === 'text').map((e) => e.text).join('')).toBe('json answer');
    expect(events.find((e) => e.type === 'step_finish')).toMatchObject({ model: 'p/m1', usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) }, reason: 'stop' });
    expect(events.at(-1)).toMatchObject({ type: 'done', status: 'success' });
  });

  it('--format json: step_finish says why the step ended (the output limit: `length`; tool calls: `tool-calls`)', async () => {
    sb.write('a.txt', 'alpha\n');
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }] }, { type: 'text', text: 'It says alp', finishReason: 'length' });
    const r = await sb.run(['run', '--format', 'json', 'read a.txt']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as JsonEvent);
    expect(events.filter((e) => e.type === 'step_finish').map((e) => e.reason)).toEqual(['tool-calls', 'length']);
  });

  it('--format json on failure: error and done events, exit 1', async () => {
    server.script('m1', { type: 'status', status: 400, message: 'bad request body' });
    const r = await sb.run(['run', '--format', 'json', 'fail please']);
    expect(r.code).toBe(1);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as JsonEvent);
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: expect.any(String), message: expect.stringContaining('400') });
    expect(events.at(-1)).toMatchObject({ type: 'done', status: 'failed' });
  });

  it('appends piped stdin to the message', async () => {
    const r = await sb.run(['run', 'review this'], { stdin: 'piped context\nline two\n' });
    expect(r.code, r.stderr).toBe(0);
    const text = userText(server.log[0]);
    expect(text.indexOf('review this')).toBe(0);
    expect(text).toContain('piped context\nline two');
    expect(r.stdout).toContain('piped context');
  });

  it('reads stdin redirected from a file (`< file`), after the arguments', async () => {
    const file = sb.write('question.txt', 'from a file\nsecond line\n');
    const r = await sb.run(['run', 'answer this'], { stdinFile: file });
    expect(r.code, r.stderr).toBe(0);
    expect(userText(server.log[0])).toBe('answer this\n\nfrom a file\nsecond line\n');
  });

  it('refuses standard input over the 8 MiB limit, piped or from a file, before any request', async () => {
    const big = 'x'.repeat(8 * 1024 * 1024 + 1);
    const piped = await sb.run(['run', 'summarise'], { stdin: big });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/^error: run: standard input is over the 8 MiB limit for a message\.\nhint: Pipe only the part/);
    const file = sb.write('big.log', big);
    const fromFile = await sb.run(['run', 'summarise'], { stdinFile: file });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain('over the 8 MiB limit');
    expect(server.log).toHaveLength(0);
  });

  it('takes the message from stdin alone', async () => {
    const r = await sb.run(['run'], { stdin: 'only stdin' });
    expect(r.code, r.stderr).toBe(0);
    expect(userText(server.log[0])).toBe('only stdin');
  });

  it('what follows -- is message text, even when it looks like a flag', async () => {
    const r = await sb.run(['run', 'explain', '--', '--agent', 'and', '-x']);
    expect(r.code, r.stderr).toBe(0);
    expect(userText(server.log[0])).toBe('explain --agent and -x');
  });

  it('--file puts a text file inline', async () => {
    sb.write('notes.txt', 'the body of the notes file');
    const r = await sb.run(['run', '--file', 'notes.txt', 'summarise']);
    expect(r.code, r.stderr).toBe(0);
    const text = userText(server.log[0]);
    expect(text).toMatch(/^summarise/);
    expect(text).toContain('notes.txt');
    expect(text).toContain('the body of the notes file');
  });

  it('--file that does not exist, a device, a FIFO or a file over the limit: exit 2, refused before it is read', async () => {
    const r = await sb.run(['run', '--file', 'missing.txt', 'summarise']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --file missing\.txt: it does not exist\.$/m);
    const device = await sb.run(['run', '--file', '/dev/zero', 'summarise']);
    expect(device.code).toBe(2);
    expect(device.stderr).toMatch(/^error: --file \/dev\/zero: it is a character device, not a regular file\.$/m);
    execFileSync('mkfifo', [path.join(sb.project, 'pipe')]);
    const fifo = await sb.run(['run', '--file', 'pipe', 'summarise']);
    expect(fifo.stderr).toMatch(/^error: --file pipe: it is a FIFO \(named pipe\), not a regular file\.$/m);
    sb.write('big.txt', 'x'.repeat(1024 * 1024 + 1));
    const big = await sb.run(['run', '--file', 'big.txt', 'summarise']);
    expect(big.stderr).toMatch(/^error: --file big\.txt: it is larger than the 1 MiB limit \(1,048,577 bytes\)\.$/m);
    expect([fifo.code, big.code]).toEqual([2, 2]);
    expect(server.log).toHaveLength(0);
  });

  it('--model replaces the head of the chain and keeps the fallbacks', async () => {
    server.script('m3', { type: 'status', status: 401 });
    const r = await sb.run(['run', '--model', 'p/m3', 'which model']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log.map((e) => e.model)).toEqual(['m3', 'm2']);
  });

  it('an unknown agent: exit 2 listing the agents, no request', async () => {
    const r = await sb.run(['run', '--agent', 'nobody', 'hi']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: --agent: no agent named "nobody"\.\nhint: Available agents: .*oracle.*\n$/);
    expect(server.log).toHaveLength(0);
  });

  it('an unknown model: exit 2 listing the models, no request', async () => {
    const r = await sb.run(['run', '--model', 'p/nope', 'hi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: [^\n]*"nope"[^\n]*\nhint: [^\n]*m1, m2, m3/);
    expect(hasStack(r.stderr)).toBe(false);
    expect(server.log).toHaveLength(0);
  });

  it('no message: exit 2', async () => {
    const r = await sb.run(['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: run: no message given\.\nhint: /);
  });

  it('a bad --timeout: exit 2', async () => {
    const results = await Promise.all([sb.run(['run', '--timeout', 'soon', 'hi']), sb.run(['run', '--timeout', '0', 'hi'])]);
    for (const r of results) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: --timeout: expected a whole number of milliseconds from 1 to 86,400,000 \(24 h\), found "(soon|0)"\.\nhint: /);
    }
    expect(server.log).toHaveLength(0);
  });

  it('--timeout ends a silent attempt: retried, then exit 1', async () => {
    server.script('m1', { type: 'hang', repeat: 2 });
    server.script('m2', { type: 'hang', repeat: 2 });
    const r = await sb.run(['run', '--timeout', '150', 'slow']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/timeout/i);
    expect(server.log.length).toBeGreaterThanOrEqual(2);
    await server.waitFor((log) => log.every((e) => e.endedAt !== null));
    expect(server.log.every((e) => e.clientAborted)).toBe(true);
  });

  it('a 429 with Retry-After, then success: a retry line on stderr, the wait honoured, exit 0', async () => {
    // a backoff far longer than Retry-After shows that the header, not the backoff, set the wait
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', retry: { maxRetries: 2, baseDelay: 20_000, maxDelay: 20_000 } });
    server.script('m1', { type: 'status', status: 429, retryAfter: 1 }, { type: 'text', text: 'after the wait' });
    const r = await sb.run(['run', 'limited']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('after the wait\n');
    expect(r.stderr).toMatch(/retry 1 on p\/m1 in 1\.0 s \(429/);
    expect(r.stderr).toMatch(/· 1 retry/);
    const [first, second] = server.log;
    expect(server.log).toHaveLength(2);
    const gap = (second?.startedAt ?? 0) - (first?.startedAt ?? 0);
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(10_000); // its own backoff would be 10-20 s
  });

  it('a 401 on the head model moves to the fallback at once', async () => {
    server.script('m1', { type: 'status', status: 401 });
    server.script('m2', { type: 'text', text: 'from the fallback' });
    const r = await sb.run(['run', 'auth trouble']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from the fallback\n');
    expect(r.stderr).toMatch(/fallback p\/m1 → p\/m2 \([^)]*\)\n/);
    expect(r.stderr).toMatch(/by p\/m2/);
    expect(server.log.map((e) => [e.model, e.status])).toEqual([
      ['m1', 401],
      ['m2', 200],
    ]);
  });

  it('every model failing: exit 1 with every attempt listed', async () => {
    server.script('m1', { type: 'status', status: 500, forever: true });
    server.script('m2', { type: 'status', status: 503, forever: true });
    const r = await sb.run(['run', 'doomed']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(hasStack(r.stderr)).toBe(false);
    // maxRetries 1: two attempts per model
    expect(server.log.map((e) => e.model)).toEqual(['m1', 'm1', 'm2', 'm2']);
    const error = r.stderr.slice(r.stderr.indexOf('error: '));
    expect(error).toMatch(/^error: [^\n]+\n/);
    const attempts = error.split('\n').filter((l) => /^\s+\S/.test(l));
    expect(attempts.filter((l) => l.includes('p/m1') && l.includes('500'))).toHaveLength(2);
    expect(attempts.filter((l) => l.includes('p/m2') && l.includes('503'))).toHaveLength(2);
  });

  it('a provider nothing listens on: its attempts never reached it, so the retry does not wait on its window; exit 1 with each attempt listed', async () => {
    const port = await freePort();
    // One start per 5 s: were the refused attempt's start counted, the retry would wait for it.
    sb.write('opencode.json', {
      provider: { down: { options: { baseURL: `http://127.0.0.1:${port}/v1`, apiKey: SECRET }, models: { m: { rateLimit: { maxRequests: 1, windowMs: 5000 } } } } },
      model: 'down/m',
      retry: { maxRetries: 1, baseDelay: 10, maxDelay: 100 },
    });
    const r = await sb.run(['run', '--format', 'json', 'hello?']);
    expect(r.code).toBe(1);
    const events = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonEvent);
    expect(events.filter((e) => e.type === 'rate_limited')).toEqual([]);
    expect(events.filter((e) => e.type === 'retry')).toEqual([expect.objectContaining({ status: 'network', model: 'down/m' })]);
    const error = events.find((e) => e.type === 'error') as JsonEvent & { message: string };
    expect(error.message).toBe('Every model in the chain failed (down/m).');
    expect(error.hint).toBe("No provider answered: check the network connection and each provider's baseURL (`opencode doctor` tries them).");
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('every model refused its key: the hint says so and names the command that sets it', async () => {
    server.script('m1', { type: 'status', status: 401 });
    server.script('m2', { type: 'status', status: 403 });
    const r = await sb.run(['run', '--format', 'json', 'hello?']);
    expect(r.code).toBe(1);
    const error = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonEvent).find((e) => e.type === 'error') as JsonEvent & { hint: string };
    expect(error.hint).toBe('The provider refused the API key: check it with `opencode auth list`, or set it again with `opencode auth login p`.');
  });

  it('a provider that asks for a key none was set for: the hint says so, not that a key was refused', async () => {
    sb.write('opencode.json', { provider: { p: { options: { baseURL: server.url }, models: { m1: {} } } }, model: 'p/m1' });
    const r = await sb.run(['run', '--format', 'json', 'hello?']);
    expect(r.code).toBe(1);
    expect(server.log.map((e) => e.status)).toEqual([401]);
    const error = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonEvent).find((e) => e.type === 'error') as JsonEvent & { hint: string };
    expect(error.hint).toBe('No API key is set for p, and the provider asks for one: set it with `opencode auth login p` (or `provider.<id>.options.apiKey` in the config).');
  });

  it('a 400 fails at once: exit 1, no retry, no fallback', async () => {
    server.script('m1', { type: 'status', status: 400, message: 'max_tokens is too large' });
    const r = await sb.run(['run', 'bad request']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/400/);
    expect(r.stderr).toContain('max_tokens is too large');
    expect(hasStack(r.stderr)).toBe(false);
    expect(server.log).toHaveLength(1);
  });

  it('--model in a project whose config sets no model: a 400 is the provider\'s error, exit 1, and the session is saved', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), retry: { maxRetries: 0 } });
    server.script('m1', { type: 'status', status: 400, message: 'unsupported parameter' });
    const r = await sb.run(['run', '--model', 'p/m1', '--format', 'json', 'bad request']);
    expect(r.code, r.stderr).toBe(1);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; message?: string; sessionID: string });
    expect(events.find((e) => e.type === 'error')?.message).toContain('unsupported parameter');
    expect(r.stdout + r.stderr).not.toContain('No model configured');
    const listed = await sb.run(['session', 'list', '--json']);
    expect(listed.stdout).toContain(events[0]?.sessionID);
  });

  it('SIGINT during a hung request: exit 130 and the server sees the connection closed', async () => {
    server.script('m1', { type: 'hang' });
    const child = sb.start(['run', 'hang on']);
    const [entry] = await server.waitForRequests(1, 'm1');
    child.child.kill('SIGINT');
    const r = await child.exited;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^error: [^\n]*[Ii]nterrupted/m);
    expect(hasStack(r.stderr)).toBe(false);
    await server.waitFor(() => entry?.endedAt !== null);
    expect(entry?.clientAborted).toBe(true);
    expect(server.log).toHaveLength(1);
  });

  it('caches across processes: the second identical run makes no request; --no-cache makes one', async () => {
    server.script('m1', { type: 'text', text: 'cached answer' }, { type: 'text', text: 'fresh answer' });
    const first = await sb.run(['run', 'cache me']);
    const second = await sb.run(['run', 'cache me']);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe('cached answer\n');
    expect(second.stderr).toMatch(/cache hit/);
    expect(server.log).toHaveLength(1);
    const third = await sb.run(['run', '--no-cache', 'cache me']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toBe('fresh answer\n');
    expect(server.log).toHaveLength(2);
  });

  it('the API key never appears in output or in any file under the data and cache folders', async () => {
    const outputs: CliResult[] = [];
    server.script('m1', { type: 'status', status: 401 });
    outputs.push(await sb.run(['run', 'secret check one']));
    outputs.push(await sb.run(['run', '--format', 'json', 'secret check one']));
    server.script('m1', { type: 'status', status: 401 });
    server.script('m2', { type: 'status', status: 403 });
    outputs.push(await sb.run(['--debug', 'run', 'secret check two']));
    server.script('m1', { type: 'status', status: 400 });
    outputs.push(await sb.run(['--debug', 'run', '--format', 'json', 'secret check three']));
    outputs.push(await sb.run(['config', 'show']));
    outputs.push(await sb.run(['config', 'show', '--json']));
    expect(outputs.map((o) => o.code)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(outputs[1]?.stdout).toContain('"cache_hit"');
    for (const o of outputs) expect(o.stdout + o.stderr).not.toContain(SECRET);
    // the key did reach the server, so it was really in play
    expect(server.log.length).toBeGreaterThan(0);
    expect(server.log.every((e) => e.headers.authorization === `Bearer ${SECRET}`)).toBe(true);
    expect(await filesContaining(sb.dataHome, 'SQLite format')).not.toEqual([]);
    expect(await filesContaining(sb.cacheHome, 'SQLite format')).not.toEqual([]);
    expect(await filesContaining(sb.dataHome, SECRET)).toEqual([]);
    expect(await filesContaining(sb.cacheHome, SECRET)).toEqual([]);
  });

  it('the API key is masked even when a provider echoes it in an error body', async () => {
    const echoKey = () => {
      server.script('m1', { type: 'status', status: 401, message: `Incorrect API key provided: ${SECRET}.` });
      server.script('m2', { type: 'status', status: 400, message: `Key ${SECRET} may not use this model.` });
    };
    echoKey();
    const text = await sb.run(['run', 'echo trouble']);
    echoKey();
    const json = await sb.run(['run', '--format', 'json', 'echo trouble']);
    expect([text.code, json.code]).toEqual([1, 1]);
    expect(text.stderr).toContain('Incorrect API key provided');
    expect(server.log.map((e) => e.status)).toEqual([401, 400, 401, 400]);
    for (const o of [text, json]) expect(o.stdout + o.stderr).not.toContain(SECRET);
    expect(await filesContaining(sb.dataHome, SECRET)).toEqual([]);
    expect(await filesContaining(sb.cacheHome, SECRET)).toEqual([]);
  });

  it('no piece of a key or a header secret shows when an error is cut short in the middle of it', async () => {
    const HEADER = 'hk-0123456789abcdefXY';
    sb.write('opencode.json', { provider: { p: { options: { baseURL: server.url, apiKey: SECRET, headers: { 'X-Custom-Key': HEADER, 'X-Title': 'pantheon' } }, models: { m1: {}, m2: {} } } }, model: 'p/m1', fallbacks: ['p/m2'], retry: { maxRetries: 0 } });
    // The provider's message is cut at 197 characters: here, inside the key and inside the header's value.
    server.script('m1', { type: 'status', status: 500, message: `${'A'.repeat(180)} Key ${SECRET} was refused.` });
    server.script('m2', { type: 'status', status: 400, message: `${'B'.repeat(160)} headers: {"x-custom-key":"${HEADER}"}` });
    const r = await sb.run(['run', '--format', 'json', 'echo trouble']);
    expect(r.code).toBe(1);
    expect(server.log.map((e) => e.status)).toEqual([500, 400]);
    const shown = r.stdout + r.stderr;
    expect(shown).toContain('AAAA Key ****');
    expect(shown).toContain('x-custom-key\\":\\"****'); // inside a JSON event's string
    for (const piece of [SECRET.slice(0, 8), SECRET.slice(3, 11), HEADER.slice(0, 8), HEADER.slice(3, 11)]) expect(shown).not.toContain(piece);
    for (const dir of [sb.dataHome, sb.cacheHome]) expect(await filesContaining(dir, SECRET.slice(3, 11))).toEqual([]);
  });
});
