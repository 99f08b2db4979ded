import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createBunShell, MAX_BUFFER, ShellError, type BunShellOptions } from '../../src/plugins/bun-shell.ts';
import type { BunShell } from '../../src/plugins/bun-shell-types.ts';
import { alive } from '../support/proc-children.ts';

let dir: string;
let chunks: { chunk: string; stream: 'stdout' | 'stderr' }[];

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'bun-shell-')));
  chunks = [];
});

function shell(extra: Partial<BunShellOptions> = {}): BunShell {
  return createBunShell({
    cwd: dir,
    env: { PATH: process.env.PATH, FOO: 'from-options' },
    output: (chunk, stream) => chunks.push({ chunk, stream }),
    ...extra,
  });
}

/** The arguments a command got, exactly (NUL-separated by printf). */
function args(text: string): string[] {
  return text.split('\0').slice(0, -1);
}

describe('$ of the plugins (Bun shell on Node)', () => {
  it("runs a command and gives Bun's output shape", async () => {
    const $ = shell();
    const out = await $`echo hello; echo oops >&2`;
    expect(Buffer.isBuffer(out.stdout)).toBe(true);
    expect(out.stdout.toString()).toBe('hello\n');
    expect(out.stderr.toString()).toBe('oops\n');
    expect(out.exitCode).toBe(0);
    expect(out.text()).toBe('hello\n');
    expect(new TextDecoder().decode(out.bytes())).toBe('hello\n');
    expect(out.arrayBuffer().byteLength).toBe(6);
    expect(await out.blob().text()).toBe('hello\n');
  });

  it('passes each interpolated value as one argument, never as shell syntax', async () => {
    const $ = shell();
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    const hostile = ['a; touch pwned1', '$(touch pwned2)', '`touch pwned3`', `it's "quoted"`, 'two\nlines', '*', '$FOO', '~', '', ' spaced  ', 'x=y', '{a,b}', '\\n', '-n'];
    for (const value of hostile) expect(args(await $`printf '%s\0' ${value}`.text())).toEqual([value]);
    expect(args(await $`printf '%s\0' ${hostile}`.text())).toEqual(hostile);
    expect(fs.readdirSync(dir).sort()).toEqual(['a-file']);
    // A value is not an assignment or a command name's syntax either.
    expect(await $`${'echo'} ${'a|b'}`.text()).toBe('a|b\n');
    expect(() => $`echo ${'a\0b'}`).toThrow(/NUL character/);
  });

  // What Bun 1.3.14's own `$` prints for each (OpenCode's binary run as Bun).
  it('puts a value inside quotes of the template as text of those quotes, as Bun does', async () => {
    const $ = shell();
    const value = `a "b" 'c' $HOME \`x\` \\ * $(touch pwned)`;
    expect(await $`printf '<%s>' "${value}"`.text()).toBe(`<${value}>`);
    expect(await $`printf '<%s>' "pre ${value} post"`.text()).toBe(`<pre ${value} post>`);
    expect(await $`printf '<%s>' '${value}'`.text()).toBe(`<${value}>`);
    expect(await $`printf '<%s>' 'pre ${value} post'`.text()).toBe(`<pre ${value} post>`);
    expect(await $`printf '<%s>' --x=${value}`.text()).toBe(`<--x=${value}>`);
    expect(await $`printf '<%s>' "${['a', 'b c']}"`.text()).toBe('<a b c>');
    expect(await $`printf '<%s>' "${{ raw: '$FOO' }}" '${{ raw: '$FOO x' }}'`.text()).toBe('<from-options><$FOO x>');
    expect(await $`printf '<%s>' "say \"${'hi'}\""`.text()).toBe('<say "hi">');
    expect(await $`printf '<%s>' 'a"' "${'b'}" \'${'c d'}`.text()).toBe(`<a"><b><'c d>`);
    expect(await $`printf '<%s>' ${''} "${''}" x`.text()).toBe('<><><x>');
    expect(await $`printf '<%s>' "$(echo "${'in ner'}")" $(printf '%s' ${'a b'} | wc -c) "(${'x'})"`.text()).toBe('<in ner><3><(x)>');
    // A quote in a comment opens nothing; a value in a comment is left out (its newline would end the comment).
    const comment = await $`printf '<%s>' a # it's ${'x\ntouch pwned4 #'}
      printf '<%s>' ${'b; touch pwned5'} ${'c'}#${'d'} $#`.text();
    expect(comment).toBe('<a><b; touch pwned5><c#d><0>');
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(() => $`cat "< ${Buffer.from('x')}"`).toThrow(/only as its input after `<`/);
    expect(() => $`cat <<EOF\n${'$(touch pwned6)'}\nEOF`).toThrow(/here-document/);
  });

  it('keeps any text a value holds, outside quotes, in either quotes and through $.escape (property)', async () => {
    const $ = shell();
    const unit = fc.constantFrom(...`'"\\$\`()#\n *?~{},;&|<>!\t=%[]^-aZ9\u00e9\u20ac`);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit, maxLength: 24 }), async (value) => {
        const out = await $`printf '%s\0' ${value} "${value}" '${value}' x${value}y ${{ raw: $.escape(value) }}`.text();
        // $.escape of '' is '' (Bun's), which is no argument at all.
        expect(args(out)).toEqual(value === '' ? ['', '', '', 'xy'] : [value, value, value, `x${value}y`, value]);
      }),
      { numRuns: 40, seed: 39 },
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('spreads arrays, inserts {raw} as written, and stringifies other values', async () => {
    const $ = shell();
    expect(args(await $`printf '%s\0' ${['a b', 'c', ['d;e']]}`.text())).toEqual(['a b', 'c', 'd;e']);
    expect(args(await $`printf '%s\0' x ${[]} y`.text())).toEqual(['x', 'y']);
    expect(await $`${{ raw: 'echo abc | tr a-c x-z' }}`.text()).toBe('xyz\n');
    expect(args(await $`printf '%s\0' ${42} ${{ toString: () => 'obj; ls' }}`.text())).toEqual(['42', 'obj; ls']);
    expect(() => $`echo ${Promise.resolve('x')}`).toThrow(/await it first/);
  });

  it("runs the template's own shell syntax: pipes, && || ;, redirects, env prefixes, globs, braces", async () => {
    const $ = shell();
    fs.writeFileSync(path.join(dir, 'one.txt'), '1');
    fs.writeFileSync(path.join(dir, 'two.txt'), '2');
    expect(await $`printf 'b\na\n' | sort | head -n 1`.text()).toBe('a\n');
    expect(await $`false && echo no || echo yes; echo after`.text()).toBe('yes\nafter\n');
    await $`echo saved > out.log && echo more >> out.log`;
    expect(fs.readFileSync(path.join(dir, 'out.log'), 'utf8')).toBe('saved\nmore\n');
    expect(await $`BAR=set sh -c 'echo $BAR'`.text()).toBe('set\n');
    expect(await $`echo *.txt`.text()).toBe('one.txt two.txt\n');
    expect(await $`echo x{1,2}`.text()).toBe('x1 x2\n');
    expect(await $`sh -c 'echo err >&2' 2>&1`.text()).toBe('err\n');
  });

  it("takes a Buffer, Response or stream after `<` as the command's input, and .stdin", async () => {
    const $ = shell();
    expect(await $`cat < ${Buffer.from('from a buffer; $(x)')}`.text()).toBe('from a buffer; $(x)');
    expect(await $`cat < ${new Response('from a response')} | tr a-z A-Z`.text()).toBe('FROM A RESPONSE');
    expect(await $`cat <${new Blob(['a blob'])}`.text()).toBe('a blob');
    expect(await $`cat - < ${new TextEncoder().encode('x')} && cat < ${Buffer.from('y')}`.text()).toBe('xy');
    expect(() => $`echo ${Buffer.from('x')}`).toThrow(/only as its input after `<`/);

    // bash with a socket for stdin reads ~/.bashrc unless told not to (Bun's shell reads none).
    fs.writeFileSync(path.join(dir, '.bashrc'), 'echo read-bashrc >&2\n');
    const promise = $`cat`.env({ HOME: dir, PATH: process.env.PATH ?? '' }).quiet();
    const writer = promise.stdin.getWriter();
    const ended = promise.then((out) => out);
    await writer.write(new TextEncoder().encode('typed in'));
    await writer.close();
    const out = await ended;
    expect(out.stdout.toString()).toBe('typed in');
    expect(out.stderr.toString()).toBe('');
    // Without .stdin, a command reads nothing (not Pantheon's own stdin).
    expect(await $`cat`.text()).toBe('');
  });

  it('sets the working directory per command and per shell', async () => {
    const $ = shell();
    fs.mkdirSync(path.join(dir, 'sub'));
    expect(await $`pwd`.text()).toBe(`${dir}\n`);
    expect(await $`pwd`.cwd(path.join(dir, 'sub')).text()).toBe(`${dir}/sub\n`);
    expect(await $`pwd`.cwd('sub').text()).toBe(`${dir}/sub\n`);
    expect(await $`pwd`.text()).toBe(`${dir}\n`);
    expect($.cwd('sub')).toBe($);
    expect(await $`pwd`.text()).toBe(`${dir}/sub\n`);
    expect(await $`pwd`.cwd('.').text()).toBe(`${dir}\n`);
    $.cwd();
    expect(await $`pwd`.text()).toBe(`${dir}\n`);
    // Each createBunShell is its own: another plugin's $ is not moved.
    const other = shell();
    $.cwd('sub');
    expect(await other`pwd`.text()).toBe(`${dir}\n`);

    const error = await $`pwd`.cwd('missing\u001b[31m').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShellError);
    expect((error as Error).message).toMatch(/^\$: the working directory ".*missing\\u001b\[31m" does not exist or is not a folder; give \.cwd\(\) a folder that exists\.$/);
  });

  it('sets the environment per command and per shell (replacing it, as Bun does)', async () => {
    const $ = shell();
    expect(await $`echo "$FOO"`.text()).toBe('from-options\n');
    expect(await $`echo "$FOO/$BAR"`.env({ BAR: 'call', PATH: process.env.PATH ?? '' }).text()).toBe('/call\n');
    expect(await $`echo "$FOO"`.text()).toBe('from-options\n');
    $.env({ BAR: 'shell', PATH: process.env.PATH, GONE: undefined });
    expect(await $`echo "$FOO/$BAR/${{ raw: '${GONE-unset}' }}"`.text()).toBe('/shell/unset\n');
    $.env();
    expect(await $`echo "$FOO/$BAR"`.text()).toBe('from-options/\n');
    expect(() => $.env(5 as unknown as Record<string, string>)).toThrow('env must be an object or undefined');
    // The default environment is read when a command starts: a plugin that sets a variable sees it (as with Bun's `process.env`).
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    const live = createBunShell({ cwd: dir, env });
    env.LATER = 'set after';
    expect(await live`echo "$LATER"`.text()).toBe('set after\n');
  });

  it("rejects a non-zero exit with Bun's ShellError unless nothrow", async () => {
    const $ = shell();
    const error = await $`echo partial; echo broken >&2; sh -c 'exit 3'`.quiet().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShellError);
    expect(error).toBeInstanceOf(Error);
    const shellError = error as ShellError;
    expect(shellError.name).toBe('ShellError');
    expect(shellError.message).toBe('Failed with exit code 3');
    expect(shellError.exitCode).toBe(3);
    expect(shellError.stdout.toString()).toBe('partial\n');
    expect(shellError.stderr.toString()).toBe('broken\n');
    expect(shellError.text()).toBe('partial\n');
    expect((shellError as unknown as { info: { exitCode: number } }).info.exitCode).toBe(3);
    expect(Object.keys(shellError)).not.toContain('info');
    expect((error as { ShellError?: unknown }).ShellError).toBeUndefined();
    expect(($ as unknown as { ShellError: unknown }).ShellError).toBe(ShellError);

    expect((await $`exit 4`.nothrow()).exitCode).toBe(4);
    expect((await $`exit 4`.throws(false)).exitCode).toBe(4);
    await expect($`exit 4`.nothrow().throws(true)).rejects.toThrow('Failed with exit code 4');
    expect($.nothrow()).toBe($);
    expect((await $`exit 5`).exitCode).toBe(5);
    await expect($`exit 5`.throws(true)).rejects.toThrow('Failed with exit code 5');
    $.throws(true);
    await expect($`exit 6`).rejects.toThrow('Failed with exit code 6');
    expect(await $`false`.text().catch((e: ShellError) => e.exitCode)).toBe(1);
    // A command killed by a signal: 128 + its number, as shells say it.
    expect((await $`kill -TERM $$`.nothrow()).exitCode).toBe(128 + 15);
  });

  it('reads stdout as text, JSON, lines, bytes and a blob', async () => {
    const $ = shell();
    // The template's text reaches the shell as written (raw, as in Bun): `\x` is printf's escape here.
    expect(await $`printf 'caf\xc3\xa9'`.text()).toBe('caf\u00e9');
    expect(await $`printf 'caf\xc3\xa9'`.text('latin1')).toBe('caf\u00c3\u00a9');
    expect(await $`echo '{"a":[1,2]}'`.json()).toEqual({ a: [1, 2] });
    await expect($`echo 'not json'`.json()).rejects.toThrow(SyntaxError);
    const lines: string[] = [];
    for await (const line of $`printf 'one\ntwo\n'`.lines()) lines.push(line);
    expect(lines).toEqual(['one', 'two', '']);
    const buffer = await $`printf abc`.arrayBuffer();
    expect(buffer.byteLength).toBe(3);
    expect([...(await $`printf abc`.bytes())]).toEqual([97, 98, 99]);
    expect(await (await $`printf abc`.blob()).text()).toBe('abc');
  });

  it('runs a command only when awaited, and its settings are fixed from then on', async () => {
    const $ = shell();
    const pending = $`touch made`;
    pending.cwd('.');
    expect(fs.existsSync(path.join(dir, 'made'))).toBe(false);
    await pending;
    expect(fs.existsSync(path.join(dir, 'made'))).toBe(true);
    expect(() => pending.cwd('.')).toThrow('Shell is already running');
    expect(() => pending.quiet()).toThrow('Shell is already running');
    expect((await pending).exitCode).toBe(0);
    expect(() => ($ as unknown as (s: string) => unknown)('echo')).toThrow("Please use '$' as a tagged template function");
    // catch, finally and Promise.all run it too.
    expect(await $`exit 2`.catch((e: ShellError) => e.exitCode)).toBe(2);
    let finished = false;
    await $`true`.finally(() => (finished = true));
    expect(finished).toBe(true);
    expect((await Promise.all([$`echo a`.quiet(), $`echo b`.quiet()])).map((out) => out.text())).toEqual(['a\n', 'b\n']);
  });

  it('sends output not made quiet to the output callback, and none otherwise', async () => {
    await shell()`echo out; echo err >&2`;
    expect(chunks.filter((c) => c.stream === 'stdout').map((c) => c.chunk).join('')).toBe('out\n');
    expect(chunks.filter((c) => c.stream === 'stderr').map((c) => c.chunk).join('')).toBe('err\n');
    chunks = [];
    await shell()`echo out; echo err >&2`.quiet();
    await shell()`echo out`.text();
    await shell()`echo out`.quiet(false).quiet();
    expect(chunks).toEqual([]);
    await shell()`echo again`.quiet(true).quiet(false);
    expect(chunks).toEqual([{ chunk: 'again\n', stream: 'stdout' }]);
    // A multi-byte character split across reads arrives whole.
    chunks = [];
    await shell()`printf '\xe2'; sleep 0.05; printf '\x82\xac\n'`;
    expect(chunks.map((c) => c.chunk).join('')).toBe('\u20ac\n');
    // A callback that throws does not break the command.
    const throwing = createBunShell({ cwd: dir, env: { PATH: process.env.PATH }, output: () => { throw new Error('callback failed'); } });
    expect((await throwing`echo still`).stdout.toString()).toBe('still\n');
    // Without a callback the output goes nowhere (and is still kept for the promise).
    const silent = createBunShell({ cwd: dir, env: { PATH: process.env.PATH } });
    expect((await silent`echo kept`).stdout.toString()).toBe('kept\n');
  });

  it('stops a command whose output passes the bound, and says so', async () => {
    expect(MAX_BUFFER).toBe(16 * 1024 * 1024);
    const $ = shell({ maxBuffer: 1024 * 1024 });
    // `yes` never ends by itself: the promise settles only because the command was stopped.
    const error = (await $`yes`.nothrow().quiet().catch((e: unknown) => e)) as ShellError;
    expect(error).toBeInstanceOf(ShellError);
    expect(error.message).toBe("$: the command's stdout passed 1 MiB, the most Pantheon keeps of one stream, and it was stopped; send large output to a file instead (`> out.txt`).");
    expect(error.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(error.exitCode).toBe(128 + 9);
    await expect($`head -c 2000000 /dev/zero >&2`).rejects.toThrow("the command's stderr passed 1 MiB");
    expect((await $`head -c 1048576 /dev/zero`.quiet()).stdout.length).toBe(1024 * 1024);
  });

  it('kills running commands and their children when the plugins stop, and runs none after', async () => {
    const controller = new AbortController();
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const pids: number[] = [];
    const $ = createBunShell({
      cwd: dir,
      env: { PATH: process.env.PATH },
      signal: controller.signal,
      output: (chunk) => {
        pids.push(...chunk.trim().split(/\s+/).map(Number));
        if (pids.length >= 2) started();
      },
    });
    const running = $`sleep 30 & echo $$ $!; wait`;
    const settled = running.catch((e: unknown) => e);
    await ready;
    expect(pids.every((pid) => alive(pid))).toBe(true);
    controller.abort();
    const error = (await settled) as ShellError;
    expect(error).toBeInstanceOf(ShellError);
    expect(error.message).toBe("$: the command was stopped: the project's plugins were stopped.");
    // SIGKILL is sent; the kernel ends the processes a moment later.
    await vi.waitFor(() => expect(pids.filter((pid) => alive(pid))).toEqual([]), { timeout: 5000, interval: 20 });
    await expect($`echo late`.nothrow()).rejects.toThrow("$: the project's plugins were stopped; no command runs after that.");
  });

  it('settles when the shell exits though something it left in the background holds the output open', async () => {
    const $ = shell();
    const out = await $`sleep 30 & echo $!`.quiet();
    const pid = Number(out.stdout.toString().trim());
    try {
      expect(out.exitCode).toBe(0);
      expect(alive(pid)).toBe(true);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  // The expected values are what Bun 1.3.14's own `$` gives (OpenCode's binary run as Bun).
  it('escapes as Bun does, in a form the shell reads back as the same text', async () => {
    const $ = shell();
    expect($.escape('plain-name_x.txt')).toBe('plain-name_x.txt');
    expect($.escape('$(foo) `bar` "baz"')).toBe('"\\$(foo) \\`bar\\` \\"baz\\""');
    expect($.escape('a@b:c/d.e+f%g^h!')).toBe('a@b:c/d.e+f%g^h!');
    expect($.escape('caf\u00e9')).toBe('caf\u00e9');
    expect($.escape('')).toBe('');
    for (const special of [' ', '\n', '"', '#', '$', '&', "'", '(', ')', '*', ',', '0', '9', ';', '<', '=', '>', '[', '\\', ']', '`', '{', '|', '}', '~']) {
      expect($.escape(`x${special}y`)).toMatch(/^"x.+y"$/s);
    }
    // Not special to Bun, but to bash: quoted.
    expect($.escape('x?y')).toBe('"x?y"');
    expect($.escape('x\ty')).toBe('"x\ty"');
    const hostile = `a'b "c" $(touch pwned) \`x\` \\ ; * ? [a] {b,c} ~ 12 \t\n end`;
    expect(await $`printf %s ${{ raw: $.escape(hostile) }}`.text()).toBe(hostile);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('expands braces as Bun does', () => {
    const $ = shell();
    expect($.braces('index.{js,jsx,ts}')).toEqual(['index.js', 'index.jsx', 'index.ts']);
    expect($.braces('x{a,b}y{c,d}z')).toEqual(['xaycz', 'xaydz', 'xbycz', 'xbydz']);
    expect($.braces('{a,{b,c}}d')).toEqual(['ad', 'bd', 'cd']);
    expect($.braces('{{a,b}}')).toEqual(['a', 'b']);
    expect($.braces('{,a}')).toEqual(['', 'a']);
    expect($.braces('{a,}')).toEqual(['a', '']);
    expect($.braces('a{b}c{d,e}')).toEqual(['abcd', 'abce']);
    expect($.braces('{a,b}c}')).toEqual(['ac}', 'bc}']);
    expect($.braces('{a,b}{1..3}')).toEqual(['a1..3', 'b1..3']);
    expect($.braces('{}')).toEqual(['']);
    for (const text of ['none', 'a{b', 'a}b', '{a,b', 'a\\{b,c}', '']) expect($.braces(text)).toEqual([text]);
  });
});
