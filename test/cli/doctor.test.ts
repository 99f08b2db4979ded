import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { closedPort, hangingServer, MEMORY_SERVER } from '../doctor/helper.ts';
import { SECRET, hasStack, providerConfig, sandbox, type CliResult, type Sandbox } from './cli-helper.ts';

interface JsonReport {
  ok: boolean;
  checks: { group: string; name: string; status: string; message: string; hint?: string; ms?: number }[];
  fixed: string[];
}

/** The line of a check in the plain-text report: `  <status>  <name>  <message>`. */
function line(stdout: string, status: string, name: string): string | undefined {
  return stdout.split('\n').find((l) => new RegExp(`^  ${status} +${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\S`).test(l));
}

/** The lines of one group of the plain-text report. */
function section(stdout: string, group: string): string {
  const lines = stdout.split('\n');
  const start = lines.indexOf(group);
  if (start < 0) return '';
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

function noSecret(r: CliResult): void {
  expect(r.stdout).not.toContain(SECRET);
  expect(r.stderr).not.toContain(SECRET);
  expect(hasStack(r.stderr)).toBe(false);
}

describe('opencode doctor', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET, models: { m1: {} } });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  // Probes and MCP starts that must succeed get a deadline a loaded 2-core machine can always meet;
  // the default deadlines are tested where a check is meant to miss them.
  const memoryServer = () => ({ type: 'local', timeout: 30_000, command: [MEMORY_SERVER], environment: { MEMORY_FILE_PATH: path.join(sb.root, 'memory.jsonl') } });

  it('passes against a provider with its key and a real MCP server (exit 0)', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', mcp: { memory: memoryServer() } });
    const r = await sb.run(['doctor', '--timeout', '30000']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(line(section(r.stdout, 'models'), 'ok', 'p')).toMatch(/answered in \d+(\.\d)? m?s, 1 model listed$/);
    expect(line(section(r.stdout, 'auth'), 'ok', 'p')).toMatch(/key set in the config \(provider\.p\.options\.apiKey\); used by 15 agents/);
    expect(line(section(r.stdout, 'models'), 'ok', 'p ids')).toMatch(/1 configured model listed$/);
    expect(line(r.stdout, 'ok', 'memory')).toMatch(/ [1-9]\d* tools, ready in .+ \(stdio\)$/);
    expect(line(r.stdout, 'ok', 'node')).toContain(`Node ${process.versions.node}`);
    expect(r.stdout).toMatch(/^config\n/);
    for (const group of ['auth', 'models', 'mcp', 'cache', 'runtime']) expect(r.stdout).toContain(`\n\n${group}\n`);
    expect(r.stdout).toMatch(/\n\d+ ok, \d+ warnings?, 0 failures\n$/);
    noSecret(r);
  });

  it('fails with exit 1 when the key is refused (401)', async () => {
    sb.write('opencode.json', { provider: { p: { options: { baseURL: server.url, apiKey: 'sk-wrong-key-0000000000' } } }, model: 'p/m1' });
    const r = await sb.run(['doctor', '--timeout', '30000', '--check', 'models']);
    expect(r.code).toBe(1);
    expect(line(section(r.stdout, 'models'), 'fail', 'p')).toMatch(/the key was refused \(401\)$/);
    expect(r.stdout).toContain('hint: Run `opencode auth login p`, or set P_API_KEY.');
    expect(r.stdout).toMatch(/\n0 ok, 0 warnings, 1 failure\n$/);
    expect(r.stdout).not.toContain('sk-wrong-key-0000000000');
  });

  it('reports an unreachable provider', async () => {
    const port = await closedPort();
    sb.write('opencode.json', { provider: { p: { options: { baseURL: `http://127.0.0.1:${port}/v1`, apiKey: SECRET } } }, model: 'p/m1' });
    const r = await sb.run(['doctor', '--check', 'models']);
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'fail', 'p')).toContain(`unreachable: connection refused (http://127.0.0.1:${port}/v1)`);
    noSecret(r);
  });

  it('reports a provider that never answers after 3 s, and finishes within its bound', async () => {
    const hang = await hangingServer();
    try {
      sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), provider: { p: { options: { baseURL: server.url, apiKey: SECRET } }, slow: { options: { baseURL: hang.url, apiKey: SECRET } } }, model: 'slow/m1', fallbacks: ['p/m1'] });
      // The hanging server never answers: finishing at all shows the probe is bounded (3 s by default).
      const r = await sb.run(['doctor']);
      expect(r.code).toBe(1);
      expect(line(r.stdout, 'fail', 'slow')).toContain(`no answer in 3 s (${hang.url})`);
      noSecret(r);
    } finally {
      await hang.close();
    }
  });

  it('fails a broken MCP server with the reason', async () => {
    sb.write('opencode.json', { mcp: { broken: { type: 'local', command: [path.join(sb.root, 'missing-server')] } } });
    const r = await sb.run(['doctor', '--check', 'mcp']);
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'fail', 'broken')).toMatch(/did not start: command not found: ".*missing-server" \(ENOENT\)$/);
  });

  it('warns about an unset variable but exits 0', async () => {
    sb.write('opencode.json', {
      provider: { p: { options: { baseURL: server.url, apiKey: SECRET, headers: { 'x-team': '{env:DOCTOR_TEAM}' } } } },
      model: 'p/m1',
    });
    const r = await sb.run(['doctor', '--check', 'config']);
    expect(r.code, r.stdout).toBe(0);
    expect(line(r.stdout, 'warn', 'variables')).toMatch(/1 variable is not set \(used as empty\): \{env:DOCTOR_TEAM\}$/);
    expect(r.stdout).toContain('provider.p.options.headers.x-team');
  });

  it('fails an invalid config with the problem listed, without crashing', async () => {
    sb.write('opencode.json', '{\n  "model": "p/m1",\n  "retry": { "maxRetires": 2 }\n}\n');
    const r = await sb.run(['doctor', '--check', 'config', '--check', 'runtime']);
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'fail', 'valid')).toMatch(/Invalid config: 1 problem in 1 file\.$/);
    expect(r.stdout).toMatch(/opencode\.json:3:\d+ retry\.maxRetires: .*did you mean "maxRetries"/);
    expect(line(r.stdout, 'ok', 'node')).toBeDefined();
    expect(r.stderr).toBe('');
  });

  it('warns about auth.json 0644 and --fix makes it 0600', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1' });
    const dir = path.join(sb.dataHome, 'opencode');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'auth.json');
    fs.writeFileSync(file, JSON.stringify({ groq: { type: 'api', key: SECRET } }), { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const before = await sb.run(['doctor', '--check', 'auth']);
    expect(before.code).toBe(0);
    expect(line(before.stdout, 'warn', 'store')).toContain(`${file} is 0644: others may read your keys`);
    expect(before.stdout).toContain(`hint: chmod 600 ${file}, or run \`opencode doctor --fix\`.`);

    const fixed = await sb.run(['doctor', '--check', 'auth', '--fix']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(new RegExp(`^fixed: credential store ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: mode 0644 → 0600\n`));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(line(fixed.stdout, 'ok', 'store')).toBeDefined();
    noSecret(before);
    noSecret(fixed);
  });

  it('--check config runs only that group', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1' });
    const r = await sb.run(['doctor', '--check', 'config']);
    expect(r.code).toBe(0);
    const groups = r.stdout.split('\n').filter((l) => /^[a-z]+$/.test(l));
    expect(groups).toEqual(['config']);
    expect(server.log).toHaveLength(0);
  });

  it('refuses an unknown --check with exit 2 and the list', async () => {
    const r = await sb.run(['doctor', '--check', 'modles']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: --check: unknown check "modles"; did you mean "models"?\nhint: Checks: config, auth, models, mcp, cache, runtime.\n');
  });

  it('--json prints one JSON document', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', fallbacks: ['nvidia-nim/x'] });
    const r = await sb.run(['doctor', '--json', '--timeout', '30000', '--check', 'config', '--check', 'models']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(Object.keys(report).sort()).toEqual(['checks', 'fixed', 'ok']);
    expect(report.ok).toBe(true);
    expect(report.fixed).toEqual([]);
    expect(new Set(report.checks.map((c) => c.group))).toEqual(new Set(['config', 'models']));
    const probe = report.checks.find((c) => c.group === 'models' && c.name === 'p');
    expect(probe).toMatchObject({ status: 'ok' });
    expect(probe?.ms).toEqual(expect.any(Number));
    expect(report.checks.find((c) => c.name === 'nvidia-nim')).toMatchObject({ status: 'skip', message: 'not probed: no key (see auth)' });
    noSecret(r);
  });
});
