/**
 * Refreshes data/opencode-tools/ and test/fixtures/opencode-tools.json: OpenCode's built-in tools as
 * a model sees them (MIT, ./LICENSE there), taken by running the released `opencode run` against a
 * scripted OpenAI-compatible provider on 127.0.0.1 (test/support/openai-server.ts) and reading what
 * it sends: the `tools` array of the default agent (`build`) and of `plan`, then, for a scripted
 * call of each tool in a project of fixed files, the tool result it sends back on the next request,
 * and the headers of its requests.
 *
 * What it writes:
 * - data/opencode-tools/<tool>.txt: each tool's description, with the values OpenCode fills in per
 *   machine as `{{NAME}}` placeholders (the shell's OS and name, its temp folder, its bounds; the
 *   task tool's list of agents is cut off, Pantheon adds its own);
 * - data/opencode-tools/index.json: the release, each tool's parameter schema (as sent), the tools
 *   each agent is offered;
 * - test/fixtures/opencode-tools.json: the tools array and every call's result, with the temp paths,
 *   the port and the session id as placeholders, and the request headers' names
 *   (test/tools/opencode-tools-fixture.test.ts compares Pantheon's with them).
 *
 * A placeholder's text not found exactly once stops it (nothing is written): OpenCode's wording
 * changed; update PLACEHOLDERS below by hand.
 *
 * Usage: `npx node scripts/refresh-opencode-tools.ts [--binary PATH]` (default: the pinned release,
 * scripts/lib/opencode-ai.ts). OpenCode's grep and glob run ripgrep: an `rg` must be on PATH (or
 * given with `--rg DIR`, the folder holding it), as OpenCode cannot download one offline.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { ensureOpencode, isolatedEnv, makeHome, OPENCODE_VERSION } from './lib/opencode-ai.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
export const TOOLS_DIR = path.join(repoRoot, 'data', 'opencode-tools');
export const FIXTURE_FILE = path.join(repoRoot, 'test', 'fixtures', 'opencode-tools.json');

/** Per tool: the machine's values in OpenCode's text (as it fills them on Linux with bash) and the placeholder each becomes. */
const PLACEHOLDERS: Record<string, [string, string][]> = {
  bash: [
    ['OS: linux, Shell: bash', 'OS: {{OS}}, Shell: {{SHELL}}'],
    ['Use `/tmp/opencode` for temporary work', 'Use `{{TMPDIR}}` for temporary work'],
    ['commands will time out after 120000ms', 'commands will time out after {{TIMEOUT_MS}}ms'],
    ['If the output exceeds 2000 lines or 51200 bytes', 'If the output exceeds {{MAX_LINES}} lines or {{MAX_BYTES}} bytes'],
  ],
};
/** The task tool's description ends with the agents it may start, one `- name: description` a line: Pantheon lists its own. */
const TASK_AGENTS = '\nAvailable agent types and the tools they have access to:\n';

/** The project every call runs in: small files whose results are stable. */
function makeProject(root: string): string {
  const proj = path.join(root, 'proj');
  fs.mkdirSync(path.join(proj, 'src'), { recursive: true });
  fs.writeFileSync(path.join(proj, 'notes.txt'), 'alpha\nbeta\ngamma\ndelta\nepsilon\n');
  fs.writeFileSync(path.join(proj, 'src', 'a.ts'), 'export const a = 1;\n// TODO: more\nexport function f() {\n  return a;\n}\n');
  fs.writeFileSync(path.join(proj, 'src', 'b.ts'), 'import { a } from "./a";\n// TODO: less\n');
  fs.mkdirSync(path.join(proj, 'src', 'lib'));
  fs.writeFileSync(path.join(proj, 'src', 'lib', 'c.ts'), 'export {};\n');
  fs.writeFileSync(path.join(proj, 'data.bin'), Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 10, 0]));
  fs.writeFileSync(path.join(proj, 'empty.txt'), '');
  fs.writeFileSync(path.join(proj, 'long.txt'), `${'x'.repeat(2100)}\nshort\n`);
  fs.writeFileSync(path.join(proj, 'edit-me.txt'), 'one\ntwo\nthree\n');
  execFileSync('git', ['init', '-q'], { cwd: proj });
  return proj;
}

export interface ScriptedCall {
  label: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** The calls made one after another (each one step: its result is in the next request). `{{PROJECT}}` and `{{WEB}}` are filled in. */
export const CALLS: ScriptedCall[] = [
  { label: 'read-file', name: 'read', arguments: { filePath: '{{PROJECT}}/notes.txt' } },
  { label: 'read-offset-limit', name: 'read', arguments: { filePath: '{{PROJECT}}/notes.txt', offset: 2, limit: 2 } },
  { label: 'read-offset-to-end', name: 'read', arguments: { filePath: '{{PROJECT}}/notes.txt', offset: 4 } },
  { label: 'read-relative', name: 'read', arguments: { filePath: 'src/b.ts' } },
  { label: 'read-empty', name: 'read', arguments: { filePath: '{{PROJECT}}/empty.txt' } },
  { label: 'read-long-line', name: 'read', arguments: { filePath: '{{PROJECT}}/long.txt' } },
  { label: 'read-dir', name: 'read', arguments: { filePath: '{{PROJECT}}/src' } },
  { label: 'read-dir-limit', name: 'read', arguments: { filePath: '{{PROJECT}}/src', limit: 1 } },
  { label: 'read-missing', name: 'read', arguments: { filePath: '{{PROJECT}}/nope.txt' } },
  { label: 'read-missing-similar', name: 'read', arguments: { filePath: '{{PROJECT}}/note' } },
  { label: 'read-binary', name: 'read', arguments: { filePath: '{{PROJECT}}/data.bin' } },
  { label: 'read-offset-past-end', name: 'read', arguments: { filePath: '{{PROJECT}}/notes.txt', offset: 50 } },
  { label: 'grep-match', name: 'grep', arguments: { pattern: 'TODO' } },
  { label: 'grep-include', name: 'grep', arguments: { pattern: 'export', path: '{{PROJECT}}/src', include: '*.ts' } },
  { label: 'grep-none', name: 'grep', arguments: { pattern: 'nomatchhere' } },
  { label: 'glob-match', name: 'glob', arguments: { pattern: 'src/**/*.ts' } },
  { label: 'glob-none', name: 'glob', arguments: { pattern: '*.py' } },
  { label: 'bash-output', name: 'bash', arguments: { command: 'echo hello; echo err >&2', description: 'Print hello' } },
  { label: 'bash-no-output', name: 'bash', arguments: { command: 'true', description: 'Nothing' } },
  { label: 'bash-fail', name: 'bash', arguments: { command: 'echo before; exit 3', description: 'Fail with 3' } },
  { label: 'bash-timeout', name: 'bash', arguments: { command: 'echo start; sleep 20', timeout: 1500, description: 'Sleep too long' } },
  { label: 'bash-workdir', name: 'bash', arguments: { command: 'pwd', workdir: '{{PROJECT}}/src', description: 'Print dir' } },
  { label: 'edit', name: 'edit', arguments: { filePath: '{{PROJECT}}/edit-me.txt', oldString: 'two', newString: 'TWO' } },
  { label: 'edit-not-found', name: 'edit', arguments: { filePath: '{{PROJECT}}/edit-me.txt', oldString: 'zzz', newString: 'y' } },
  { label: 'edit-multiple', name: 'edit', arguments: { filePath: '{{PROJECT}}/src/a.ts', oldString: 'export', newString: 'b' } },
  { label: 'edit-replace-all', name: 'edit', arguments: { filePath: '{{PROJECT}}/edit-me.txt', oldString: 'e', newString: 'E', replaceAll: true } },
  { label: 'edit-same', name: 'edit', arguments: { filePath: '{{PROJECT}}/edit-me.txt', oldString: 'one', newString: 'one' } },
  { label: 'edit-missing-file', name: 'edit', arguments: { filePath: '{{PROJECT}}/nope.txt', oldString: 'x', newString: 'y' } },
  { label: 'edit-create', name: 'edit', arguments: { filePath: '{{PROJECT}}/created.txt', oldString: '', newString: 'made\n' } },
  { label: 'write-new', name: 'write', arguments: { filePath: '{{PROJECT}}/new.txt', content: 'fresh\n' } },
  { label: 'write-overwrite', name: 'write', arguments: { filePath: '{{PROJECT}}/notes.txt', content: 'alpha\n' } },
  { label: 'webfetch-text', name: 'webfetch', arguments: { url: '{{WEB}}/page', format: 'text' } },
  { label: 'webfetch-html', name: 'webfetch', arguments: { url: '{{WEB}}/page', format: 'html' } },
  { label: 'todowrite', name: 'todowrite', arguments: { todos: [{ content: 'Do it', status: 'in_progress', priority: 'high' }, { content: 'Then', status: 'pending', priority: 'low' }] } },
  { label: 'invalid-arguments', name: 'read', arguments: { path: 'x' } },
  { label: 'unknown-tool', name: 'nosuchtool', arguments: { a: 1 } },
];

export const WEB_PAGE = '<html><head><title>T</title><style>p{}</style></head><body><h1>Hello</h1><p>Some <b>bold</b> text and a <a href="/x">link</a>.</p><script>var x=1</script></body></html>';

const fill = (value: unknown, vars: Record<string, string>): unknown => JSON.parse(JSON.stringify(value).replace(/\{\{(PROJECT|WEB)\}\}/g, (_, k: string) => vars[k] as string));

interface CapturedRequest {
  model: string;
  headers: Record<string, string>;
  body: { tools?: { type: string; function: { name: string; description: string; parameters: object } }[]; messages: { role: string; content: unknown; tool_call_id?: string }[] };
}

async function capture(bin: string, rgDir: string | undefined): Promise<{ requests: CapturedRequest[]; proj: string; web: string; home: string }> {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'opencode-tools-')));
  const proj = makeProject(root);
  const page = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(WEB_PAGE);
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  const web = `http://127.0.0.1:${(page.address() as { port: number }).port}`;
  const server = await startScriptedServer();
  const vars = { PROJECT: proj, WEB: web };
  server.script('m', ...CALLS.map((c, i) => ({ type: 'tool_calls' as const, calls: [{ name: c.name, arguments: fill(c.arguments, vars) as Record<string, unknown>, id: `call_${i}` }] })), { type: 'text', text: 'done' });
  server.script('p', { type: 'text', text: 'planned' });
  const config = {
    model: 'local/m',
    small_model: 'local/t',
    provider: { local: { npm: '@ai-sdk/openai-compatible', options: { baseURL: server.url, apiKey: 'x' }, models: { m: {}, t: {}, p: {} } } },
    permission: { '*': 'allow', external_directory: 'allow' },
  };
  const home = makeHome();
  const env = { ...isolatedEnv(home), PWD: proj, OPENCODE_CONFIG_CONTENT: JSON.stringify(config), ...(rgDir ? { PATH: `${rgDir}${path.delimiter}${process.env.PATH ?? ''}` } : {}) };
  const run = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(bin, ['run', '--format', 'json', ...args], { cwd: proj, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`opencode ${args.join(' ')} exited ${code}: ${stderr}`))));
    });
  try {
    await run(['--auto', 'Do the things.']);
    await run(['--agent', 'plan', '--model', 'local/p', 'Plan the things.']);
    return { requests: server.log.map((e) => ({ model: e.model, headers: e.headers, body: e.body as CapturedRequest['body'] })), proj, web, home };
  } finally {
    page.close();
    await server.close();
  }
}

/** A description with the machine's values as placeholders; throws when one is not there exactly once. */
export function withPlaceholders(name: string, text: string): string {
  let out = text;
  for (const [value, placeholder] of PLACEHOLDERS[name] ?? []) {
    const parts = out.split(value);
    if (parts.length !== 2) throw new Error(`OpenCode's ${name} description has "${value}" ${parts.length - 1} times (expected once): update PLACEHOLDERS in scripts/refresh-opencode-tools.ts by hand.`);
    out = parts.join(placeholder);
  }
  if (name === 'task') {
    const at = out.indexOf(TASK_AGENTS);
    if (at < 0) throw new Error(`OpenCode's task description no longer lists agents after "${TASK_AGENTS.trim()}": update scripts/refresh-opencode-tools.ts by hand.`);
    out = out.slice(0, at);
  }
  return out;
}

/** Every occurrence of the run's temp paths, port and session as a placeholder. */
function scrub(value: unknown, vars: { proj: string; web: string; home: string; session: string }): unknown {
  const text = JSON.stringify(value).split(vars.proj).join('{{PROJECT}}').split(vars.web).join('{{WEB}}').split(vars.home).join('{{HOME}}').split(vars.session).join('{{SESSION}}');
  return JSON.parse(text);
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const bin = value('--binary') ?? (await ensureOpencode((line) => console.error(line)));
  const versionHome = makeHome();
  const version = value('--binary') ? execFileSync(bin, ['--version'], { env: isolatedEnv(versionHome), encoding: 'utf8' }).trim() : OPENCODE_VERSION;
  fs.rmSync(versionHome, { recursive: true, force: true });
  const source = `opencode-ai@${version}`;
  const { requests, proj, web, home } = await capture(bin, value('--rg'));
  const main = requests.filter((r) => r.model === 'm');
  const plan = requests.find((r) => r.model === 'p');
  const first = main[0];
  const last = main.at(-1);
  if (!first?.body.tools || !last || !plan?.body.tools) throw new Error(`OpenCode made ${requests.length} requests, not the ones scripted: read its run with --print-logs.`);
  const session = first.headers['x-session-affinity'] ?? first.headers['x-session-id'] ?? 'no-session';
  const vars = { proj, web, home, session };

  const tools: Record<string, { description: string; parameters: object }> = {};
  const texts = new Map<string, string>();
  for (const t of first.body.tools) {
    texts.set(`${t.function.name}.txt`, withPlaceholders(t.function.name, t.function.description));
    tools[t.function.name] = { description: `${t.function.name}.txt`, parameters: t.function.parameters };
  }
  const results = CALLS.map((call, i) => {
    const message = last.body.messages.find((m) => m.role === 'tool' && m.tool_call_id === `call_${i}`);
    if (!message) throw new Error(`no tool result for ${call.label} (call_${i}) in OpenCode's last request`);
    return { ...call, output: scrub(message.content, vars) };
  });
  const index = {
    about:
      "OpenCode's built-in tools as a model sees them: each tool's description (the .txt file named; {{NAME}} placeholders are filled in by Pantheon with its own values) and parameter schema, and the tools each agent is offered. Taken from the release by scripts/refresh-opencode-tools.ts; do not edit by hand.",
    source,
    tools,
    offered: { build: first.body.tools.map((t) => t.function.name), plan: plan.body.tools.map((t) => t.function.name) },
  };
  const fixture = {
    about: 'What OpenCode sent to a scripted provider (scripts/refresh-opencode-tools.ts): its tools array for build, and the result of each scripted call; {{PROJECT}} is the project folder, {{WEB}} a local page server, {{SESSION}} the session id.',
    source,
    webPage: WEB_PAGE,
    tools: scrub(first.body.tools, vars),
    results,
    headers: Object.fromEntries(Object.entries(scrub(first.headers, vars) as Record<string, string>).filter(([k]) => ['x-session-affinity', 'x-session-id', 'user-agent'].includes(k))),
  };
  fs.rmSync(TOOLS_DIR, { recursive: true, force: true });
  fs.mkdirSync(TOOLS_DIR, { recursive: true });
  // OpenCode's licence, as data/opencode-prompts/ keeps it, with this folder's own first paragraph.
  const licence = fs.readFileSync(path.join(repoRoot, 'data', 'opencode-prompts', 'LICENSE'), 'utf8');
  const mit = licence.indexOf('MIT License');
  if (mit < 0) throw new Error('data/opencode-prompts/LICENSE has no "MIT License": copy OpenCode\'s licence there first.');
  const about = "The texts in this folder are OpenCode's built-in tool descriptions and parameter schemas (https://github.com/anomalyco/opencode),\ntaken from its released binary's requests by scripts/refresh-opencode-tools.ts, under this licence:\n\n";
  fs.writeFileSync(path.join(TOOLS_DIR, 'LICENSE'), about + licence.slice(mit));
  for (const [file, text] of texts) fs.writeFileSync(path.join(TOOLS_DIR, file), text);
  fs.writeFileSync(path.join(TOOLS_DIR, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  fs.writeFileSync(FIXTURE_FILE, `${JSON.stringify(fixture, null, 2)}\n`);
  fs.rmSync(path.dirname(proj), { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
  console.error(`wrote ${texts.size} tool descriptions from ${source} to ${path.relative(repoRoot, TOOLS_DIR)}/ and ${results.length} results to ${path.relative(repoRoot, FIXTURE_FILE)}`);
}
