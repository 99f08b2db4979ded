/**
 * The main job for a newcomer: real multi-agent workflows through the real `opencode` CLI, against
 * a local OpenAI-compatible server scripted like free and cheap tiers — a provider that refuses
 * the key, one that fails, rate-limits and asks for a long Retry-After, and working fallbacks.
 * No network, no API key. Run it with `npm run demo`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { Readable, Writable } from 'node:stream';
import { client as acpClient, ndJsonStream } from '@agentclientprotocol/sdk';
import { createOpencodeClient } from '@opencode-ai/sdk';
import OpenAI from 'openai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { maxStartsInWindow, startScriptedServer } from '../test/support/openai-server.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[22m` : s);
const slow = (text: string, chunkDelayMs = 60) => ({ type: 'slow', text, chunks: text.split(/(?<=\n)/), chunkDelayMs }) as const;

const EXPLORE = 'src/http/server.ts mounts routes; src/http/middleware/session.ts reads a cookie session; users live in src/db/users.ts (bcrypt hashes). No token code yet.\n';
const RESEARCH = 'Short-lived access tokens (15 min) plus rotating refresh tokens; verify alg, iss, aud and exp; keep the signing key out of the repo.\n';
const IMPLEMENT = [
  'Added src/auth/jwt.ts (sign/verify with jose, RS256, 15 min expiry) and src/http/middleware/require-auth.ts.\n',
  'POST /login now returns an access and a refresh token; POST /refresh rotates the refresh token.\n',
  'Tests: test/auth/jwt.test.ts (expiry, wrong audience, tampered signature).\n',
];
const REVIEW = [
  'Verdict: request changes.\n',
  '1. src/auth/jwt.ts: `verify` accepts any algorithm the token names; pin RS256 or a forged HS256 token passes.\n',
  '2. POST /refresh does not revoke the old refresh token on rotation: a stolen one stays valid.\n',
  '3. No test covers a token signed with the wrong key.\n',
];
const ADVICE = [
  'Recommendations, by value for effort:\n',
  '1. Honour Retry-After on every 429 and fall back when the wait is longer than the fallback.\n',
  '2. Pace requests with a sliding-window limiter shared by every process, instead of reacting to 429s.\n',
  '3. Add jitter to exponential backoff, capped at a minute.\n',
];

const server = await startScriptedServer({
  models: {
    // "Moonshot": the key in the config is wrong, so it answers 401 and Pantheon moves on at once.
    'kimi-k2': { apiKey: 'the-right-key' },
    // "NVIDIA NIM" free tier, 4 requests / 4 s. Qwen: a 503 (retried), the implementation, then a 429 asking for 20 s.
    'qwen-397b': {
      apiKey: false,
      rateLimit: { maxRequests: 4, windowMs: 4000 },
      script: [{ type: 'status', status: 503 }, slow(IMPLEMENT.join(''), 250), { type: 'status', status: 429, retryAfter: 20, forever: true }],
    },
    // Llama on the same tier answers the librarian's research.
    // (The feature run's research step gets fixed notes; the research run's topics get echoed ones.)
    'llama-70b': { apiKey: false, rateLimit: { maxRequests: 4, windowMs: 4000 }, script: [slow(RESEARCH, 200)], default: { type: 'echo', prefix: 'notes: ', chunkDelayMs: 40 } },
    // An embedding model on the same tier.
    'nv-embedqa': { apiKey: false, rateLimit: { maxRequests: 4, windowMs: 4000 } },
    // "OpenCode Zen" free models.
    'big-pickle': { apiKey: false, default: slow(EXPLORE, 300) },
    'glm-free': { apiKey: false, default: slow([...REVIEW].join(''), 200) },
    'minimax-free': { apiKey: false, default: slow(ADVICE.join(''), 200) },
    // A coder model on a local server (llama.cpp, Ollama), for editors' autocompletion.
    'qwen-coder': { apiKey: false, default: { type: 'text', chunks: ['return', ' a', ' +', ' b'] } },
    // The same server's agent model: it asks explore where the cookie is read (a sub-task, a child session), makes one edit, then reports.
    'qwen-coder-agent': {
      apiKey: false,
      script: [
        { type: 'tool_calls', calls: [{ name: 'task', arguments: { description: 'Find the session reader', prompt: 'Where is the session cookie read?', subagent_type: 'explore' } }] },
        { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'src/http/session.ts', oldString: '  return req.cookies.session;', newString: '  if (!req.cookies?.session) return undefined;\n  return req.cookies.session;' } }] },
        // The project's own custom tool (.opencode/tool/check.ts, written for OpenCode).
        { type: 'tool_calls', calls: [{ name: 'check', arguments: { filePath: 'src/http/session.ts' } }] },
        { type: 'text', text: 'readSession now returns undefined when there is no session cookie.' },
      ],
    },
    // A planner that interviews the user first: OpenCode's question tool, then its plan.
    'qwen-coder-plan': {
      apiKey: false,
      script: [
        { type: 'tool_calls', calls: [{ name: 'question', arguments: { questions: [{ question: 'How long should an access token live?', header: 'Tokens', options: [{ label: '15 minutes (Recommended)', description: 'with rotating refresh tokens' }, { label: '1 hour', description: 'fewer refreshes' }] }] } }] },
        { type: 'text', text: 'Plan: 15-minute access tokens, refresh tokens rotated on use, RS256 pinned.' },
      ],
    },
  },
});

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-demo-'));
const project = path.join(home, 'project');
fs.mkdirSync(project, { recursive: true });
const config = {
  provider: {
    'moonshot-sim': { name: 'Moonshot (simulated)', options: { baseURL: server.url, apiKey: 'demo-wrong-key' }, models: { 'kimi-k2.5': { id: 'kimi-k2' } } },
    'nim-sim': {
      name: 'NVIDIA NIM free tier (simulated)',
      options: { baseURL: server.url, apiKey: 'demo-key' },
      rateLimit: { maxRequests: 4, windowMs: 4000 },
      models: { 'qwen-3.5-397b': { id: 'qwen-397b' }, 'llama-3.3-70b': { id: 'llama-70b' }, 'nv-embedqa-e5-v5': { id: 'nv-embedqa' } },
    },
    'zen-sim': {
      name: 'OpenCode Zen (simulated)',
      options: { baseURL: server.url, apiKey: 'demo-key' },
      models: { 'big-pickle': { id: 'big-pickle', cost: { input: 0, output: 0 } }, 'glm-free': { id: 'glm-free', cost: { input: 0, output: 0 } }, 'minimax-free': { id: 'minimax-free', cost: { input: 0, output: 0 } } },
    },
    'local-sim': { name: 'A local llama.cpp server (simulated)', options: { baseURL: server.url }, models: { 'qwen2.5-coder': { id: 'qwen-coder' }, 'qwen2.5-coder-agent': { id: 'qwen-coder-agent' }, 'qwen2.5-coder-plan': { id: 'qwen-coder-plan' } } },
  },
  // The team workflows (feature, plan, research) come from the built-in defaults; only the models are ours.
  agent: {
    librarian: { model: 'nim-sim/llama-3.3-70b', fallbacks: [] },
    explore: { model: 'zen-sim/big-pickle', fallbacks: [] },
    sisyphus: { model: 'moonshot-sim/kimi-k2.5', fallbacks: ['nim-sim/qwen-3.5-397b', 'zen-sim/big-pickle'] },
    momus: { model: 'nim-sim/qwen-3.5-397b', fallbacks: ['zen-sim/glm-free'] },
    oracle: { model: 'moonshot-sim/kimi-k2.5', fallbacks: ['zen-sim/minimax-free'] },
    // OpenCode offers `question` to its build and plan agents only: an agent of one's own is given it.
    planner: { mode: 'primary', description: 'Plans with the user', prompt: 'Ask what you need to know, then plan.', model: 'local-sim/qwen2.5-coder-plan', fallbacks: [], permission: { question: 'allow' } },
    fixer: { mode: 'primary', description: 'Makes small fixes', prompt: 'Make the smallest change that fixes it.', model: 'local-sim/qwen2.5-coder-agent', fallbacks: [], permission: { edit: 'ask' } },
  },
  retry: { maxRetries: 2, baseDelay: 300, maxDelay: 5000 },
};
fs.writeFileSync(path.join(project, 'opencode.json'), JSON.stringify(config, null, 2));
fs.mkdirSync(path.join(project, 'src', 'http'), { recursive: true });
fs.writeFileSync(path.join(project, 'src', 'http', 'session.ts'), 'export function readSession(req) {\n  return req.cookies.session;\n}\n');
// A custom tool as OpenCode projects write them (TypeScript, @opencode-ai/plugin's tool(); the package need not be installed).
fs.mkdirSync(path.join(project, '.opencode', 'tool'), { recursive: true });
fs.writeFileSync(
  path.join(project, '.opencode', 'tool', 'check.ts'),
  `import { tool } from "@opencode-ai/plugin"
import { readFileSync } from "node:fs"
import path from "node:path"

export default tool({
  description: "Check that a file guards the session cookie it reads",
  args: { filePath: tool.schema.string().describe("The file, relative to the project") },
  async execute(args, context) {
    const text: string = readFileSync(path.join(context.worktree, args.filePath), "utf8")
    const guarded = text.includes("cookies?.session")
    return { title: "check " + args.filePath, output: args.filePath + (guarded ? ": the session cookie read is guarded" : ": an unguarded session cookie read") }
  },
})
`,
);
// A git checkout with one commit: the server's /vcs routes show what the agents change (a bare `.git` folder marks the root where git is missing).
try {
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=demo', '-c', 'user.email=demo@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: project, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'demo project');
} catch {
  fs.mkdirSync(path.join(project, '.git'), { recursive: true });
}
const env = {
  ...process.env,
  XDG_CONFIG_HOME: path.join(home, 'config'),
  XDG_DATA_HOME: path.join(home, 'data'),
  XDG_CACHE_HOME: path.join(home, 'cache'),
};

function opencode(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: project, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** The CLI with its stdout kept (stderr shown). */
function opencodeOut(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
  });
}

/** `opencode serve` on a free loopback port; resolves once its readiness line is printed. */
function startServe(): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port=0'], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const m = /^opencode server listening on (http:\/\/\S+)$/.exec(line);
      if (m) resolve({ url: m[1] as string, child, stop });
    });
    child.once('close', (code) => reject(new Error(`opencode serve exited with ${String(code)} before it was ready`)));
  });
}

console.log(bold(`\nA local OpenAI-compatible server plays three providers at ${server.url}; config: ${path.join(project, 'opencode.json')}\n`));
console.log(bold('1) opencode workflow run feature --input task="add JWT auth"'));
console.log('   research (librarian) and explore run in parallel; implement (sisyphus) and review (momus) follow.');
console.log('   sisyphus: moonshot-sim (wrong key) → nim-sim qwen (503, retried); momus: nim-sim qwen (429 for 20 s) → zen-sim\n');
const feature = await opencode(['workflow', 'run', 'feature', '--input', 'task=add JWT auth']);

const topics = ['token bucket vs sliding window', 'Retry-After semantics', 'jittered backoff', 'circuit breakers', 'fallback chains', 'request hedging', 'quota headers', 'idempotency keys'];
console.log(bold(`\n2) opencode workflow run research --input topics="${topics.join(', ')}"`));
console.log("   eight librarian tasks at once on nim-sim, whose limit is 4 requests / 4 s: Pantheon paces them instead of collecting 429s\n");
const started = Date.now();
const research = await opencode(['workflow', 'run', 'research', '--input', `topics=${topics.join(', ')}`]);
const wall = Date.now() - started;

console.log(bold('\n3) opencode workflow list   (the workflows, and the runs the journal keeps)\n'));
const list = await opencode(['workflow', 'list']);

console.log(bold('\n4) opencode serve   (one long-lived server: OpenCode\'s own API, the same scheduler and ledger)\n'));
const served = await startServe();
const page = await fetch(`${served.url}/`);
console.log(`   ${served.url}`);
console.log(`   live dashboard: ${served.url}/   (${page.status === 200 ? 'queues, rate windows, fallbacks and spend, updated as they happen' : `answered ${page.status}`}; \`opencode dashboard\` opens one)`);
const client = createOpencodeClient({ baseUrl: served.url, directory: project });
const session = await client.session.create({ body: { title: 'demo: review over HTTP' } });
const sessionID = session.data?.id ?? '';
console.log(`   @opencode-ai/sdk (OpenCode's own client): session ${sessionID}, prompt to oracle (moonshot-sim refuses the key → zen-sim):`);
const reply = await client.session.prompt({ path: { id: sessionID }, body: { agent: 'oracle', parts: [{ type: 'text', text: 'How should a CLI survive free-tier rate limits?' }] } });
const replyText = (reply.data?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('').trim();
console.log(replyText.split('\n').map((l) => `     ${l}`).join('\n'));
console.log(`   served by ${reply.data?.info.providerID ?? '?'}/${reply.data?.info.modelID ?? '?'}`);
const fixSession = (await client.session.create({ body: { title: 'demo: a fix over HTTP' } })).data?.id ?? '';
console.log(`   another session, agent fixer (local-sim): it asks explore first (the task tool: a child session), and its edit asks first (permission edit: ask), as OpenCode's TUI would show them;`);
// A client listening to the project's events is asked, and answers as OpenCode's TUI does ("Allow once").
const listening = new AbortController();
const events = await client.event.subscribe({ signal: listening.signal, sseMaxRetryAttempts: 0 });
const answered = (async () => {
  for await (const raw of events.stream as AsyncIterable<{ type: string; properties: { id?: string; permission?: string; patterns?: string[] } }>) {
    if (raw.type !== 'permission.asked') continue;
    const { id, permission, patterns } = raw.properties;
    console.log(`   permission.asked: ${permission} ${(patterns ?? []).join(' ')} → POST /permission/${id}/reply {"reply":"once"}`);
    await fetch(`${served.url}/permission/${id}/reply?directory=${encodeURIComponent(project)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'once' }) });
    return;
  }
})();
const fix = await client.session.prompt({ path: { id: fixSession }, body: { agent: 'fixer', parts: [{ type: 'text', text: 'readSession should not throw without a session cookie.' }] } });
await answered;
listening.abort();
const children = (await client.session.children({ path: { id: fixSession } })).data ?? [];
console.log(`   GET /session/{id}/children (the TUI's "view subagents"): ${children.map((c) => `${c.title} · ${c.id}`).join(', ') || 'none'}`);
console.log(`   the edit's diff, as OpenCode's TUI draws it under the call:`);
const editPart = fix.data?.parts.find((p) => p.type === 'tool' && p.tool === 'edit');
const patch = editPart?.type === 'tool' && editPart.state.status === 'completed' ? String((editPart.state.metadata as { diff?: string }).diff ?? '') : '';
console.log(patch.trimEnd().split('\n').map((l) => `     ${l}`).join('\n'));
const checkPart = fix.data?.parts.find((p) => p.type === 'tool' && p.tool === 'check');
console.log(`   then the project's custom tool .opencode/tool/check.ts (written for OpenCode: TypeScript, @opencode-ai/plugin's tool()): ${checkPart?.type === 'tool' && checkPart.state.status === 'completed' ? checkPart.state.output : 'not run'}`);
const changed = (await client.session.diff({ path: { id: fixSession } })).data ?? [];
console.log(`   GET /session/{id}/diff (its "Modified Files"): ${changed.map((d) => `${d.file} +${d.additions} -${d.deletions}`).join(', ') || 'nothing'}`);
// The project as OpenCode's web and desktop apps browse it: text search (ripgrep's shape) and a file's content.
const found = (await client.find.text({ query: { pattern: 'session\\.cookie|cookies' } })).data ?? [];
console.log(`   GET /find?pattern=… (OpenCode's search, in ripgrep's shape): ${found.map((m) => `${m.path.text}:${m.line_number}`).join(', ') || 'no match'}`);
const content = (await client.file.read({ query: { path: 'src/http/session.ts' } })).data;
console.log(`   GET /file/content?path=src/http/session.ts: ${content?.type ?? '?'}, ${content?.content.split('\n').length ?? 0} lines (after the fix)`);
const vcs = (await (await fetch(`${served.url}/vcs/status?directory=${encodeURIComponent(project)}`)).json()) as { file: string; additions: number; deletions: number; status: string }[];
console.log(`   GET /vcs/status (the apps' review panel, against the last commit): ${vcs.map((f) => `${f.file} ${f.status} +${f.additions} -${f.deletions}`).join(', ') || 'no change'}`);
const planSession = (await client.session.create({ body: { title: 'demo: a plan with questions' } })).data?.id ?? '';
console.log(`   a third session, agent planner: it asks the user first (OpenCode's question tool), as OpenCode's TUI would show it;`);
const listeningForQuestions = new AbortController();
const questionEvents = await client.event.subscribe({ signal: listeningForQuestions.signal, sseMaxRetryAttempts: 0 });
const chosen = (async () => {
  for await (const raw of questionEvents.stream as AsyncIterable<{ type: string; properties: { id?: string; questions?: { question: string; options: { label: string }[] }[] } }>) {
    if (raw.type !== 'question.asked') continue;
    const { id, questions = [] } = raw.properties;
    const answers = questions.map((q) => [q.options[0]?.label ?? '']);
    console.log(`   question.asked: ${questions.map((q) => `"${q.question}" (${q.options.map((o) => o.label).join(' / ')})`).join(', ')} → POST /question/${id}/reply ${JSON.stringify({ answers })}`);
    await fetch(`${served.url}/question/${id}/reply?directory=${encodeURIComponent(project)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answers }) });
    return;
  }
})();
const plan = await client.session.prompt({ path: { id: planSession }, body: { agent: 'planner', parts: [{ type: 'text', text: 'Plan JWT auth for this service.' }] } });
await chosen;
listeningForQuestions.abort();
console.log(`     ${(plan.data?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('').trim()}`);
console.log(bold(`\n   opencode run -s ${sessionID} "And for cost?"   (the CLI continues the server's session)\n`));
const continued = await opencode(['run', '-s', sessionID, 'And for cost?']);
console.log(bold('\n   opencode session list\n'));
const sessions = await opencode(['session', 'list']);
console.log(bold(`\n   opencode export ${sessionID} > session.json   (OpenCode's export format: OpenCode's own \`opencode import\` takes it, and Pantheon's takes OpenCode's)\n`));
const exported = await opencodeOut(['export', sessionID]);
const exportDoc = JSON.parse(exported.stdout || '{}') as { info?: { title?: string }; messages?: { info: { role: string }; parts: { type: string }[] }[] };
fs.writeFileSync(path.join(home, 'session.json'), exported.stdout);
console.log(`     "${exportDoc.info?.title ?? ''}": ${exportDoc.messages?.length ?? 0} messages, ${(exportDoc.messages ?? []).flatMap((m) => m.parts).filter((p) => p.type === 'tool').length} tool calls, ${exported.stdout.length} bytes`);
console.log(bold(`\n   opencode run --attach ${served.url} --agent explore "Where is the session cookie read?"   (the run goes to the server, rendered like a local one)\n`));
const attached = await opencode(['run', '--attach', served.url, '--agent', 'explore', 'Where is the session cookie read?']);
console.log(bold(`\n   POST ${served.url}/v1/chat/completions   (the OpenAI-compatible gateway, with the official \`openai\` client; model "agent/oracle")\n`));
const openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0 });
const { data: completion, response: gatewayResponse } = await openai.chat.completions
  .create({ model: 'agent/oracle', messages: [{ role: 'user', content: 'One line: what makes a fallback worth taking?' }] })
  .withResponse();
const gatewayText = completion.choices[0]?.message.content ?? '';
console.log(`     ${gatewayText.split('\n')[0] ?? ''} …`);
console.log(`     x-pantheon-model: ${gatewayResponse.headers.get('x-pantheon-model') ?? '?'} · ${completion.usage?.total_tokens ?? 0} tokens (moonshot-sim is cooling down after its refused key, so the chain skips it)`);
console.log(bold(`\n   POST ${served.url}/v1/responses   (OpenAI's Responses API, as Codex and the Agents SDK speak it; the same chain)\n`));
const response = await openai.responses.create({ model: 'zen-sim/big-pickle', instructions: 'Answer in one line.', input: 'Where does the session cookie get read?' });
console.log(`     ${response.output_text.split('\n')[0] ?? ''} …`);
console.log(`     status ${response.status} · ${response.usage?.total_tokens ?? 0} tokens · model ${response.model}`);
const followUp = await openai.responses.create({ model: 'zen-sim/big-pickle', previous_response_id: response.id, input: 'And where is it written?' });
const followUpSent = server.log.findLast((e) => e.endpoint === 'chat' && e.model === 'big-pickle');
const stored = await openai.responses.retrieve(followUp.id);
console.log(`     previous_response_id continues it (the response was stored): ${followUpSent?.messages.length ?? 0} messages went up (the stored question and answer, then the new one); GET /v1/responses/{id} reads it back: ${stored.status}`);
// A background response: accepted at once, run through the scheduler, polled until it ends (bounded).
let background = await openai.responses.create({ model: 'zen-sim/big-pickle', input: 'One line: what does the auth middleware check?', background: true });
const acceptedAs = background.status;
for (const until = Date.now() + 30_000; (background.status === 'queued' || background.status === 'in_progress') && Date.now() < until; ) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  background = await openai.responses.retrieve(background.id);
}
console.log(`     background: true → "${acceptedAs}" at once; polled with GET /v1/responses/{id} until "${background.status}": ${background.output_text.split('\n')[0] ?? ''} …`);
console.log(bold(`\n   POST ${served.url}/v1/embeddings   (model "nim-sim/nv-embedqa-e5-v5": counted in nim-sim's 4 requests / 4 s with its chat models; NIM's input_type passed through)\n`));
const { data: embedded, response: embedResponse } = await openai.embeddings
  .create({ model: 'nim-sim/nv-embedqa-e5-v5', input: ['token bucket', 'sliding window log'], input_type: 'passage' } as OpenAI.EmbeddingCreateParams)
  .withResponse();
console.log(`     ${embedded.data.length} vectors of ${embedded.data[0]?.embedding.length ?? 0} dimensions · x-pantheon-model: ${embedResponse.headers.get('x-pantheon-model') ?? '?'} · ${embedded.usage.prompt_tokens} tokens`);
console.log(bold(`\n   POST ${served.url}/v1/completions   (legacy text completions, as editors' autocompletion sends them: fill-in-the-middle on "local-sim/qwen2.5-coder", streamed)\n`));
const fim = await openai.completions.create({ model: 'local-sim/qwen2.5-coder', prompt: 'def add(a, b):\n    ', suffix: '\n\nprint(add(1, 2))', max_tokens: 32, stop: ['\n\n'], stream: true });
let fimText = '';
for await (const chunk of fim) fimText += chunk.choices[0]?.text ?? '';
const fimSent = server.log.findLast((e) => e.endpoint === 'completions');
console.log(`     ${JSON.stringify(fimText)} · sent to local-sim's /completions as it was (suffix ${JSON.stringify((fimSent?.body as { suffix?: string } | undefined)?.suffix ?? '')})`);
console.log(bold(`\n   GET ${served.url}/metrics   (Prometheus text; a few of the series)\n`));
const metrics = await (await fetch(`${served.url}/metrics`)).text();
for (const line of metrics.split('\n').filter((l) => /^pantheon_(model_requests_total|fallbacks_total|turns_total)\{|^pantheon_http_requests_total\{method="POST",[^}]*status="2|^pantheon_gateway_overhead_seconds_(sum|count)/.test(l))) console.log(`     ${line}`);
await served.stop();

console.log(bold('\n   opencode acp   (the Agent Client Protocol, as Zed\'s agent panel and other editors run it: JSON-RPC on stdin and stdout, the same core and scheduler)\n'));
const acp = spawn(process.execPath, [bin, 'acp'], { cwd: project, env, stdio: ['pipe', 'pipe', 'inherit'] });
const acpExited = new Promise<number>((resolve) => acp.on('close', (code) => resolve(code ?? 1)));
let acpText = '';
const acpKinds = new Set<string>();
const editor = acpClient({ name: 'demo-editor' })
  .onNotification('session/update', ({ params }) => {
    acpKinds.add(params.update.sessionUpdate);
    if (params.update.sessionUpdate === 'agent_message_chunk' && params.update.content.type === 'text') acpText += params.update.content.text;
  })
  .onRequest('session/request_permission', async () => ({ outcome: { outcome: 'selected' as const, optionId: 'once' } }))
  .connect(ndJsonStream(Writable.toWeb(acp.stdin as Writable) as WritableStream<Uint8Array>, Readable.toWeb(acp.stdout as Readable) as unknown as ReadableStream<Uint8Array>));
const acpInit = await editor.agent.request('initialize', { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: true, writeTextFile: true } } });
const acpSession = await editor.agent.request('session/new', { cwd: project, mcpServers: [] });
console.log(`   initialize: protocol ${acpInit.protocolVersion}; session/new: ${acpSession.sessionId}, ${acpSession.modes?.availableModes.length ?? 0} modes (the agents), mode ${acpSession.modes?.currentModeId ?? '?'}`);
const acpAnswer = await editor.agent.request('session/prompt', { sessionId: acpSession.sessionId, prompt: [{ type: 'text', text: 'Where is the session cookie read?' }] });
console.log(`   session/prompt: ${acpAnswer.stopReason}; updates ${[...acpKinds].join(', ')}`);
console.log(`     ${acpText.split('\n')[0] ?? ''} …`);
acp.stdin?.end();
const acpCode = await acpExited;

console.log(bold('\n5) opencode stats --days 1   (everything above, from the shared ledger: requests, tokens, cost, retries, fallbacks, waits)\n'));
const stats = await opencode(['stats', '--days', '1']);

const nim = server.log.filter((e) => ['qwen-397b', 'llama-70b', 'nv-embedqa'].includes(e.model) && e.outcome === 'ok');
console.log(bold('\nWhat the server saw'));
console.log(`  requests: ${server.log.length} (${server.log.filter((e) => e.status === 401).length} refused key, ${server.log.filter((e) => e.status === 503).length} × 503, ${server.log.filter((e) => e.status === 429 && e.outcome === 'status').length} scripted 429)`);
console.log(`  rate-limit violations the server had to refuse: ${server.log.filter((e) => e.outcome === 'rate_limited').length}`);
console.log(`  most nim-sim starts in any 4 s window: ${maxStartsInWindow(nim, 4000)} (limit 4); the research run took ${(wall / 1000).toFixed(1)} s`);
console.log(`  exit codes: ${[feature, research, list, continued, sessions, exported.code, attached, acpCode, stats].join(' ')}`);
console.log(`\nSame command line against a real provider: see README ("Against a real provider").`);
await server.close();
fs.rmSync(home, { recursive: true, force: true });
process.exitCode = [feature, research, list, continued, sessions, exported.code, attached, acpCode, stats].every((c) => c === 0) && acpAnswer.stopReason === 'end_turn' && acpText && replyText && patch && changed.length === 1 && gatewayText && response.status === 'completed' && background.status === 'completed' && embedded.data.length === 2 && page.ok && checkPart?.type === 'tool' && checkPart.state.status === 'completed' ? 0 : 1;
