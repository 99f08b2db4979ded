import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const version = (JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('opencode: help, version, completion, usage errors', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox();
  });
  afterAll(async () => {
    await sb.remove();
  });

  it('--help lists the commands and global options on stdout, exit 0', async () => {
    const r = await sb.run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const word of ['opencode run', 'opencode config', 'opencode completion', '--config', '--debug', '--version']) {
      expect(r.stdout).toContain(word);
    }
  });

  it('run --help and config init --help describe their flags', async () => {
    const [run, init] = await Promise.all([sb.run(['run', '--help']), sb.run(['config', 'init', '--help'])]);
    expect(run.code).toBe(0);
    for (const flag of ['--agent', '--model', '--file', '--format', '--no-cache', '--timeout']) expect(run.stdout).toContain(flag);
    expect(init.code).toBe(0);
    for (const flag of ['--preset', '--force', '--out']) expect(init.stdout).toContain(flag);
  });

  it('--version and -v print the package version', async () => {
    const [long, short] = await Promise.all([sb.run(['--version']), sb.run(['-v'])]);
    expect(long).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(short).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('completion prints a shell script, and the completion protocol answers with commands and actions', async () => {
    const [script, top, config] = await Promise.all([
      sb.run(['completion']),
      sb.run(['--get-yargs-completions', 'opencode', '']),
      sb.run(['--get-yargs-completions', 'opencode', 'config', '']),
    ]);
    expect(script.code).toBe(0);
    expect(script.stdout).toMatch(/opencode/);
    expect(script.stdout).toMatch(/complete|compdef/);
    expect(top.stdout.split('\n')).toEqual(expect.arrayContaining(['run', 'config', 'completion']));
    expect(config.stdout.split('\n')).toEqual(expect.arrayContaining(['validate', 'show', 'init']));
  });

  it('completion --help shows help that names completion and its shells, not the script', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await sb.run(['completion', flag]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^ {2}opencode completion +Print a shell completion script: `completion bash` or `completion zsh`/m);
      expect(r.stdout).not.toMatch(/complete -o|compdef/);
    }
  });

  it('completion bash and completion zsh choose the script whatever $SHELL is; another shell is one sentence, exit 2', async () => {
    const [zsh, bash, fish] = await Promise.all([
      sb.run(['completion', 'zsh'], { env: { SHELL: '/bin/bash' } }),
      sb.run(['completion', 'bash'], { env: { SHELL: '/usr/bin/zsh' } }),
      sb.run(['completion', 'fish']),
    ]);
    expect(zsh).toMatchObject({ code: 0, stderr: '' });
    expect(zsh.stdout).toMatch(/^#compdef opencode$/m);
    expect(bash).toMatchObject({ code: 0, stderr: '' });
    expect(bash.stdout).toMatch(/^complete -o bashdefault -o default -F _opencode_yargs_completions opencode$/m);
    expect(bash.stdout).not.toContain('compdef');
    expect(fish).toMatchObject({ code: 2, stdout: '' });
    expect(fish.stderr).toBe('error: completion: expected bash or zsh, found "fish".\nhint: Other shells have no script here; `opencode completion zsh >> ~/.zshrc` installs the zsh one.\n');
  });

  it('an unknown command: exit 2, one sentence naming it, a hint, no stack trace', async () => {
    const r = await sb.run(['bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('error: Unknown command "bogus".');
    expect(lines[1]).toMatch(/^hint: Commands: run, workflow, config, .*completion\. See `opencode --help`/);
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('a misspelt command or action gets "did you mean"', async () => {
    const [cmd, action] = await Promise.all([sb.run(['rnu', 'hello']), sb.run(['config', 'valdate'])]);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('error: Unknown command "rnu"; did you mean "run"?');
    expect(action.code).toBe(2);
    expect(action.stderr).toContain('error: Unknown config action "valdate"; did you mean "validate"?');
  });

  it('no command, a missing action, an unknown option, a bad choice, a missing argument: exit 2 with one sentence each', async () => {
    const [none, noAction, option, choice, required, noName] = await Promise.all([
      sb.run([]),
      sb.run(['config']),
      sb.run(['run', '--bogus', 'hi']),
      sb.run(['run', '--format', 'xml', 'hi']),
      sb.run(['config', 'init']),
      sb.run(['agent', 'show']),
    ]);
    for (const r of [none, noAction, option, choice, required, noName]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: [^\n]+\nhint: [^\n]+\n$/);
      expect(hasStack(r.stderr)).toBe(false);
    }
    expect(noAction.stderr).toContain('validate, show or init');
    expect(option.stderr).toContain('run: unknown option --bogus.');
    expect(choice.stderr).toContain('--format: expected one of default, json, found "xml".');
    expect(required.stderr).toContain('config init: --preset is required.');
    expect(noName.stderr).toBe('error: agent show: expected 1 argument, found none.\nhint: See `opencode agent show --help`.\n');
  });

  it('--json turns a usage error into a JSON object on stdout', async () => {
    const r = await sb.run(['config', 'show', '--json', '--bogus']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'USAGE', message: 'config show: unknown option --bogus.', details: [], hint: 'See `opencode config show --help`.' },
    });
  });

  it('--debug adds the stack trace to an error', async () => {
    const [plain, debug] = await Promise.all([sb.run(['config', 'validate', 'missing.json']), sb.run(['--debug', 'config', 'validate', 'missing.json'])]);
    expect(plain.code).toBe(2);
    expect(debug.code).toBe(2);
    expect(hasStack(plain.stderr)).toBe(false);
    expect(hasStack(debug.stderr)).toBe(true);
    expect(debug.stderr).toContain('missing.json does not exist');
  });
});
