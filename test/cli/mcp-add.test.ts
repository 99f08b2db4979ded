import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';

describe('opencode mcp add', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  const globalFile = () => path.join(sb.configHome, 'opencode', 'opencode.json');

  it('writes a local server to the global config, as OpenCode does, and `mcp list` then knows it', async () => {
    const r = await sb.run(['mcp', 'add', 'files', '--env', 'ROOT=.', '--', 'node', 'server.js', '--flag']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`MCP server "files" added to ${globalFile()}\n`);
    expect(JSON.parse(readFileSync(globalFile(), 'utf8'))).toEqual({
      $schema: 'https://opencode.ai/config.json',
      mcp: { files: { type: 'local', command: ['node', 'server.js', '--flag'], environment: { ROOT: '.' } } },
    });
    const shown = await sb.run(['config', 'show', '--json']);
    expect((JSON.parse(shown.stdout) as { mcp: Record<string, unknown> }).mcp.files).toMatchObject({ type: 'local', command: ['node', 'server.js', '--flag'] });
  });

  it('--project edits the project\'s opencode.jsonc in place: comments and other keys kept', async () => {
    const file = sb.write('opencode.jsonc', '{\n  // the team\'s model\n  "model": "p/m", // keep me\n  "mcp": {\n    "old": { "type": "remote", "url": "https://old.example/mcp" }\n  }\n}\n');
    const r = await sb.run(['mcp', 'add', 'docs', '--url', 'https://docs.example/mcp', '--header', 'Authorization=Bearer {env:DOCS_TOKEN}', '--header', 'X-Team=core', '--project']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('// the team\'s model\n  "model": "p/m", // keep me\n');
    // jsonc-parser's edit lays out the object it inserts into (OpenCode's `mcp add` does the same); its entries stay.
    expect(text).toMatch(/"old": \{\s+"type": "remote",\s+"url": "https:\/\/old\.example\/mcp"\s+\}/);
    const show = await sb.run(['config', 'show', '--json']);
    expect((JSON.parse(show.stdout) as { mcp: Record<string, unknown> }).mcp.docs).toMatchObject({ type: 'remote', url: 'https://docs.example/mcp', headers: { 'X-Team': 'core' } });
    expect(text).toContain('"Authorization": "Bearer {env:DOCS_TOKEN}"');
  });

  it('refuses a name already configured (any layer), leaving every file as it was', async () => {
    sb.writeGlobal('opencode.json', { mcp: { docs: { type: 'remote', url: 'https://a.example/mcp' } } });
    const before = await sb.snapshot();
    const r = await sb.run(['mcp', 'add', 'docs', '--url', 'https://b.example/mcp', '--project']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: mcp add: a server named "docs" is configured already (in ${globalFile()}); it was left as it is.\nhint: Pick another name, or edit or remove that entry by hand (OpenCode's \`mcp add\` would replace it).\n`);
    expect(await sb.snapshot()).toEqual(before);
  });

  it('bad input is one sentence and exit 2, nothing written', async () => {
    const before = await sb.snapshot();
    const cases: [string[], string][] = [
      [['mcp', 'add', 'x', '--url', 'notaurl'], 'error: --url: expected an http:// or https:// URL, found "notaurl".'],
      [['mcp', 'add', 'x'], 'error: mcp add: give either --url URL (a remote server) or the command after -- (a local one).'],
      [['mcp', 'add', 'x', '--url', 'https://a.example', '--', 'node'], 'error: mcp add: give either --url URL (a remote server) or the command after -- (a local one).'],
      [['mcp', 'add', 'x', '--url', 'https://a.example', '--env', 'A=1'], 'error: --env is only for a local server (a command after --); a remote one takes --header.'],
      [['mcp', 'add', 'x', '--header', 'A=1', '--', 'node'], 'error: --header is only for a remote server (--url); a local one takes --env.'],
      [['mcp', 'add', 'x', '--url', 'https://a.example', '--header', 'sk-abcdefghijklmnop9Qa'], 'error: --header: expected KEY=VALUE, found "sk-a…p9Qa".'],
      [['mcp', 'add', 'x', '--', '', 'arg'], 'error: mcp add: expected a program after --, found an empty word.'],
      [['mcp', 'add', '--url', 'https://a.example'], 'error: mcp add: a server name is required with --url, --header, --env or a command.'],
      [['mcp', 'add'], 'error: mcp add: name the server and give --url or a command after -- (there is no terminal to ask on).'],
    ];
    for (const [args, sentence] of cases) {
      const r = await sb.run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toBe(sentence);
      expect(hasStack(r.stderr)).toBe(false);
    }
    expect(await sb.snapshot()).toEqual(before);
  });

  it('a config file that does not parse is named, and left as it was', async () => {
    const broken = sb.write('opencode.json', '{ "mcp": { ');
    const p = await sb.run(['mcp', 'add', 'x', '--project', '--url', 'https://a.example']);
    expect(p.code).toBe(2);
    expect(p.stderr.split('\n')[0]).toBe(`error: ${broken}:1:12: expected a "}" closing the object (CloseBraceExpected), found the end of the file.`);
    expect(readFileSync(broken, 'utf8')).toBe('{ "mcp": { ');
  });

  it('--help lists OpenCode\'s flags', async () => {
    const r = await sb.run(['mcp', 'add', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--url', '--header', '--env', '--project']) expect(r.stdout).toContain(flag);
  });
});
