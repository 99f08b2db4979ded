import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES, SECRET, hasStack, sandbox, type CliResult, type Sandbox } from './cli-helper.ts';

/** Exit 2, nothing on stdout, `error: <one sentence>` first, no stack trace; returns stderr. */
function expectConfigError(r: CliResult): string {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^error: [^\n]+[.?]\n/);
  expect(r.stderr).toMatch(/\nhint: [^\n]+\n$/);
  expect(hasStack(r.stderr)).toBe(false);
  return r.stderr;
}

describe('opencode config validate', () => {
  let sb: Sandbox;
  let before: Record<string, string>;

  beforeEach(async () => {
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  /** Writes the file, snapshots the sandbox, validates, and checks that nothing was written. */
  async function validate(name: string, content: string | object, extra: string[] = [], env?: Record<string, string>): Promise<CliResult> {
    const file = sb.write(name, content);
    before = await sb.snapshot();
    const r = await sb.run(['config', 'validate', file, ...extra], env ? { env } : {});
    expect(await sb.snapshot()).toEqual(before);
    return r;
  }

  it.each(['section-11.json', 'section-14.json'])('accepts the seed config %s (exit 0)', async (name) => {
    const file = path.join(FIXTURES, 'seed', name);
    const r = await sb.run(['config', 'validate', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^valid: \d+ files checked\n/);
    expect(r.stdout).toContain(file);
  });

  it('broken JSON: exit 2 with file:line:col', async () => {
    const r = await validate('broken.json', '{\n  "model": "ollama/llama3"\n  "small_model": "ollama/llama3"\n}\n');
    const err = expectConfigError(r);
    expect(err).toContain(`${path.join(sb.project, 'broken.json')}:3:3`);
    expect(err).toMatch(/expected a ","/);
  });

  it('accepts JSONC comments and trailing commas', async () => {
    const r = await validate('opencode.jsonc', '// top\n{\n  /* block */ "model": "ollama/llama3", // line\n  "agent": { "a": { "temperature": 1, }, },\n}\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('an unknown key: did you mean (an error for a typo of Pantheon\'s keys, a warning where OpenCode ignores it)', async () => {
    const err = expectConfigError(await validate('unknown.json', '{\n  "retyr": { "maxRetries": 1 }\n}\n'));
    expect(err).toContain(`${path.join(sb.project, 'unknown.json')}:2:3 retyr: unknown key; did you mean "retry"?`);
    const r = await validate('ignored.json', '{\n  "modle": "ollama/llama3"\n}\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: ${path.join(sb.project, 'ignored.json')}:2:3 modle: unknown key, ignored (OpenCode ignores it too); did you mean "model"?`);
  });

  it('a wrong type names the field, what was expected and what was found', async () => {
    const err = expectConfigError(await validate('type.json', { agent: { a: { temperature: 'hot' } } }));
    expect(err).toMatch(/type\.json:\d+:\d+ agent\.a\.temperature: expected a number[^\n]*, found "hot"/);
  });

  it('an out-of-range value names the range', async () => {
    const err = expectConfigError(await validate('range.json', { retry: { maxRetries: 50 } }));
    expect(err).toMatch(/range\.json:\d+:\d+ retry\.maxRetries: expected an integer from 0 to 20, found 50/);
  });

  it('several errors are all listed at once', async () => {
    const text = '{\n  "retyr": {},\n  "agent": { "a": { "temperature": "5", "top_p": "x" } },\n  "retry": { "maxRetries": -1 }\n}\n';
    const err = expectConfigError(await validate('many.json', text));
    expect(err.split('\n')[0]).toBe('error: Invalid config: 4 problems in 1 file.');
    expect(err).toContain('many.json:2:3 retyr');
    expect(err).toMatch(/many\.json:3:\d+ agent\.a\.temperature/);
    expect(err).toMatch(/many\.json:3:\d+ agent\.a\.top_p/);
    expect(err).toMatch(/many\.json:4:\d+ retry\.maxRetries/);
  });

  it('a missing --config file', async () => {
    before = await sb.snapshot();
    const err = expectConfigError(await sb.run(['config', 'validate', '--config', 'nothere.json']));
    expect(err).toContain(`--config names ${path.join(sb.project, 'nothere.json')}, which does not exist.`);
    expect(await sb.snapshot()).toEqual(before);
  });

  it('a missing FILE argument', async () => {
    const err = expectConfigError(await sb.run(['config', 'validate', 'nothere.json']));
    expect(err).toContain('nothere.json does not exist');
  });

  it('a missing {file:} target names the field and the file looked for', async () => {
    const err = expectConfigError(await validate('fileref.json', { agent: { a: { prompt: '{file:./prompts/nope.md}' } } }));
    expect(err).toContain('agent.a.prompt');
    expect(err).toContain(path.join(sb.project, 'prompts', 'nope.md'));
  });

  it('an extends cycle names its links', async () => {
    sb.write('b.json', { extends: ['./a.json'] });
    const err = expectConfigError(await validate('a.json', { extends: ['./b.json'] }));
    expect(err).toMatch(/extends cycle: a\.json → b\.json → a\.json/);
  });

  it('an unknown preset: did you mean', async () => {
    const err = expectConfigError(await validate('preset.json', { extends: ['oh-my-opencod'] }));
    expect(err).toContain('unknown preset "oh-my-opencod"');
    expect(err).toContain('did you mean "oh-my-opencode"?');
  });

  it('an unset env var is a warning on stderr, exit 0', async () => {
    const config = { provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: '{env:PANTHEON_TEST_UNSET}' } } } };
    const r = await validate('env.json', config);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: .*env\.json provider\.p\.options\.apiKey: .*PANTHEON_TEST_UNSET.*not set/);
    expect(r.stdout).toMatch(/^valid:/);
  });

  it('a set env var is substituted without a warning', async () => {
    const config = { provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: '${PANTHEON_TEST_SET}' } } } };
    const r = await validate('env.json', config, [], { PANTHEON_TEST_SET: SECRET });
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });

  it('an agent whose model names a provider neither declared nor catalogued: a warning (a run that needs it fails)', async () => {
    const r = await validate('provider.json', { agent: { a: { model: 'nosuch/m1' } } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: \S*provider\.json:\d+:\d+ agent\.a\.model: provider "nosuch" is neither declared nor in the models\.dev catalogue/);
    const known = await validate('catalogued.json', { agent: { a: { model: 'github-copilot/gpt-4.1' } } });
    expect(known).toMatchObject({ code: 0, stderr: '' });
  });

  it('validates the merged configuration when no FILE is given', async () => {
    sb.write('opencode.json', { retyr: 'ollama/x' });
    const r = await sb.run(['config', 'validate']);
    expect(expectConfigError(r)).toContain(`${path.join(sb.project, 'opencode.json')}:2:3 retyr`);
    sb.write('opencode.json', { model: 'ollama/x' });
    const ok = await sb.run(['config', 'validate']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(path.join(sb.project, 'opencode.json'));
  });

  it('--json: {valid, files, warnings} on success, {error:{code, message, details, hint}} on failure', async () => {
    const good = await validate('good.json', { provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: '{env:PANTHEON_TEST_UNSET}' } } } }, ['--json']);
    expect(good.code).toBe(0);
    expect(good.stderr).toBe('');
    const body = JSON.parse(good.stdout) as { valid: boolean; files: string[]; warnings: { code: string; file: string; path: string; message: string }[] };
    expect(body.valid).toBe(true);
    expect(body.files).toContain(path.join(sb.project, 'good.json'));
    expect(body.warnings).toEqual([expect.objectContaining({ code: 'ENV_UNSET', file: path.join(sb.project, 'good.json'), path: 'provider.p.options.apiKey' })]);

    const bad = await validate('bad.json', { retyr: 1, agent: { a: { temperature: '9' } } }, ['--json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('');
    const error = (JSON.parse(bad.stdout) as { error: { code: string; message: string; details: string[]; hint: string } }).error;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('Invalid config: 2 problems in 1 file.');
    expect(error.details).toHaveLength(2);
    expect(error.hint).toEqual(expect.any(String));
  });

  it('never echoes an API key, even in the code frame of a parse error', async () => {
    const text = `{\n  "provider": { "p": { "options": { "apiKey": "${SECRET}" "baseURL": "http://127.0.0.1:9/v1" } } }\n}\n`;
    const r = await validate('secret.json', text);
    expectConfigError(r);
    expect(r.stderr).toContain('secret.json:2:');
    expect(r.stderr).not.toContain(SECRET);
  });

  it('never echoes an API key of the wrong type', async () => {
    const r = await validate('secret.json', { provider: { p: { options: { apiKey: [SECRET], baseURL: 'http://127.0.0.1:9/v1' } } } });
    expectConfigError(r);
    expect(r.stderr).not.toContain(SECRET);
  });
});
