import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { SECRET, check, closedPort, doctorTree, hangingServer, type DoctorTree } from './helper.ts';

describe('doctor config', () => {
  let tree: DoctorTree;

  beforeEach(async () => {
    tree = await doctorTree();
  });
  afterEach(async () => {
    await tree.remove();
  });

  const withKey = { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRET } };

  it('lists the files read, lowest precedence first', async () => {
    const file = tree.write('opencode.json', { extends: ['free-tier'], provider: { p: withKey }, model: 'p/m', fallbacks: ['nvidia-nim/x'] });
    const report = await tree.doctor({ groups: ['config'] });
    const files = check(report, 'config', 'files');
    expect(files.status).toBe('ok');
    expect(files.details?.[0]).toMatch(/^1\. .*presets\/default\.json \(built-in defaults\)$/);
    expect(files.details?.at(-1)).toBe(`${files.details?.length}. ${file}`);
    expect(files.details?.some((d) => d.includes('free-tier'))).toBe(true);
    expect(check(report, 'config', 'valid').status).toBe('ok');
  });

  it('lsp: which servers can run (Pantheon downloads none); a given command not found is a warning', async () => {
    tree.write('opencode.json', { lsp: { marker: { command: [process.execPath, 'server.mjs'], extensions: ['.txt'] }, gopls: { disabled: true } } });
    const ok = check(await tree.doctor({ groups: ['config'] }), 'config', 'lsp');
    expect(ok.status).toBe('ok');
    expect(ok.message).toMatch(/^language servers: .*marker.* can run; \d+ built-ins not found \(Pantheon downloads none: put a server’s program on the PATH or in node_modules\/\.bin\)$/);
    expect(ok.message).not.toContain('gopls');
    tree.write('opencode.json', { lsp: { mine: { command: ['no-such-lsp-program'], extensions: ['.x'] } } });
    const warn = check(await tree.doctor({ groups: ['config'] }), 'config', 'lsp');
    expect(warn).toMatchObject({ status: 'warn', hint: 'Fix lsp.<name>.command, or install the program.' });
    expect(warn.message).toMatch(/; mine: the program of its "command" is not found, so it does not run$/);
    tree.write('opencode.json', {});
    expect((await tree.doctor({ groups: ['config'] })).checks.filter((c) => c.name === 'lsp')).toEqual([]);
  });

  it('warns when no config file is found', async () => {
    const report = await tree.doctor({ groups: ['config'] });
    expect(check(report, 'config', 'files')).toMatchObject({ status: 'warn', message: 'no config file found; 1 built-in layer only' });
    expect(check(report, 'config', 'agents').message).toMatch(/^\d+ agents have no model: /);
  });

  it('turns an invalid config into a failure listing every problem', async () => {
    tree.write('opencode.json', { retyr: {}, retry: { maxRetries: 'three' } });
    const report = await tree.doctor({ groups: ['config'] });
    const valid = check(report, 'config', 'valid');
    expect(valid.status).toBe('fail');
    expect(valid.message).toMatch(/^Invalid config: 2 problems in 1 file\.$/);
    expect(valid.details?.join('\n')).toMatch(/retyr[\s\S]*did you mean "retry"/);
    expect(valid.details?.join('\n')).toContain('retry.maxRetries');
    expect(report.ok).toBe(false);
  });

  it('warns about unset {env:} and ${} variables, naming where they are used', async () => {
    tree.write('opencode.json', {
      provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: '{env:DOCTOR_UNSET_KEY}', headers: { 'x-team': '${DOCTOR_UNSET_TEAM}' } } } },
      model: 'p/m',
    });
    const report = await tree.doctor({ groups: ['config'] });
    const vars = check(report, 'config', 'variables');
    expect(vars.status).toBe('warn');
    expect(vars.message).toBe('2 variables are not set (used as empty): {env:DOCTOR_UNSET_KEY}, ${DOCTOR_UNSET_TEAM}');
    expect(vars.details?.join('\n')).toContain('provider.p.options.apiKey');
    expect(report.ok).toBe(true);
  });

  it('fails agents whose whole chain has no provider with a key, and names the fix', async () => {
    tree.write('opencode.json', { model: 'nvidia-nim/qwen', fallbacks: ['groq/llama'], agent: { oracle: { model: 'p/m' } }, provider: { p: withKey } });
    const report = await tree.doctor({ groups: ['config'] });
    const creds = report.checks.filter((c) => c.name === 'credentials');
    expect(creds).toHaveLength(1);
    expect(creds[0]?.status).toBe('fail');
    expect(creds[0]?.message).toMatch(/^\d+ agents \(.*\): no key for any provider in the chain \(nvidia-nim, groq\)$/);
    expect(creds[0]?.message).not.toContain('oracle');
    expect(creds[0]?.hint).toBe('Run `opencode auth login nvidia-nim`, or set NVIDIA_API_KEY.');
  });

  it('counts a key from the environment or auth.json', async () => {
    tree.write('opencode.json', { model: 'nvidia-nim/qwen', fallbacks: ['groq/llama'] });
    tree.writeAuth({ groq: { type: 'api', key: SECRET } });
    const report = await tree.doctor({ groups: ['config'] });
    expect(check(report, 'config', 'credentials').status).toBe('ok');
  });

  it('warns about chains that never leave one provider', async () => {
    tree.env.NVIDIA_API_KEY = SECRET;
    tree.write('opencode.json', { model: 'nvidia-nim/a', fallbacks: ['nvidia-nim/b'], agent: { oracle: { model: 'p/m', fallbacks: ['nvidia-nim/a'] } }, provider: { p: withKey } });
    const report = await tree.doctor({ groups: ['config'] });
    const fallbacks = check(report, 'config', 'fallbacks');
    expect(fallbacks.status).toBe('warn');
    expect(fallbacks.message).toMatch(/^a 429 on nvidia-nim leaves nowhere to go: the whole chain of \d+ agents \(/);
    expect(fallbacks.message).not.toContain('oracle');
  });

  it('is quiet about chains that reach a second provider', async () => {
    tree.env.NVIDIA_API_KEY = SECRET;
    tree.write('opencode.json', { model: 'nvidia-nim/a', fallbacks: ['p/m'], provider: { p: withKey } });
    const report = await tree.doctor({ groups: ['config'] });
    expect(check(report, 'config', 'fallbacks')).toMatchObject({ status: 'ok', message: 'every chain reaches a second provider' });
    expect(report.checks.every((c) => c.status === 'ok')).toBe(true);
  });

  it('reads --config on top of the discovered files', async () => {
    tree.write('opencode.json', { provider: { p: withKey }, model: 'p/m' });
    const extra = tree.write('other/extra.json', { model: 'p/other' });
    const report = await tree.doctor({ groups: ['config'], configPath: 'other/extra.json' });
    expect(check(report, 'config', 'files').details?.at(-1)).toBe(`3. ${extra}`);
  });

  it('skills.urls: each registry’s index read, its skills named, skipped entries and unreadable registries said in one line each, credentials masked', async () => {
    const index = { skills: [{ name: 'deploy', files: ['SKILL.md'] }, { name: 'review', files: ['SKILL.md', 'notes.md'] }, { name: '../evil', files: ['SKILL.md'] }] };
    const authorizations: (string | undefined)[] = [];
    const registry = createServer((req, res) => {
      if (req.url === '/reg/index.json') authorizations.push(req.headers.authorization);
      if (req.url === '/reg/index.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(index));
      else if (req.url === '/clean/index.json') res.writeHead(200).end(JSON.stringify({ skills: [{ name: 'one', files: ['SKILL.md'] }] }));
      else if (req.url === '/html/index.json') res.writeHead(200).end('<html></html>');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(registry.address() as { port: number }).port}`;
    const hanging = await hangingServer();
    const closed = await closedPort();
    try {
      tree.write('opencode.json', { provider: { p: withKey }, model: 'p/m', skills: { urls: [`${base}/clean`, `http://user:hunter2@127.0.0.1:${(registry.address() as { port: number }).port}/reg`, `${base}/html`, `${base}/missing`, hanging.url, `http://127.0.0.1:${closed}/x`, 'file:///etc'] } });
      // Long enough for the registries that answer to do so on a loaded machine (a CI run once saw
      // three of them miss 300 ms); the one that never answers takes all of it.
      const report = await tree.doctor({ groups: ['config'], probeTimeoutMs: 5_000 });
      const skills = report.checks.filter((c) => c.group === 'config' && c.name === 'skills');
      expect(skills.map((c) => [c.status, c.message])).toEqual([
        ['ok', `${base}/clean: 1 skill (one)`],
        ['warn', `http://***@127.0.0.1:${(registry.address() as { port: number }).port}/reg: 2 skills (deploy, review); 1 entry skipped (a name or file that is not a plain relative path, no SKILL.md, a name given twice, or over 100 files)`],
        ['warn', `${base}/html: its index could not be read (the index is not JSON); the skills kept from before, if any, are used`],
        ['warn', `${base}/missing: its index could not be read (HTTP 404); the skills kept from before, if any, are used`],
        ['warn', `${hanging.url}: its index could not be read (no answer in 5 s); the skills kept from before, if any, are used`],
        ['warn', `http://127.0.0.1:${closed}/x: its index could not be read (ECONNREFUSED); the skills kept from before, if any, are used`],
        ['warn', 'skills.urls[6] is not an http(s) URL; it is left out'],
      ]);
      expect(JSON.stringify(report)).not.toContain('hunter2');
      // The URL's credentials went as HTTP Basic (fetch takes none in a URL).
      expect(authorizations).toEqual([`Basic ${Buffer.from('user:hunter2').toString('base64')}`]);
    } finally {
      registry.close();
      await hanging.close();
    }
  });
});
