import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { promptKey, promptProvider, type PromptContext } from '../../src/auth/prompts.ts';
import { loginChoices } from '../../src/auth/login.ts';
import { providerInfo } from '../../src/auth/providers.ts';
import { isPantheonError } from '../../src/errors.ts';

const KEY = 'nvapi-abcdefghijklmnopx9Qa';
const nim = providerInfo({}, 'nvidia-nim');
if (!nim) throw new Error('nvidia-nim is in the catalogue');

/** A fake terminal: keystrokes go in through `type`; `drawn(pattern)` resolves once the screen shows it. */
function terminal(): PromptContext & { type(text: string): void; screen(): string; drawn(pattern: RegExp | string): Promise<void> } {
  const input = new PassThrough();
  let screen = '';
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  const output = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      screen += chunk.toString();
      for (const w of waiters.filter((x) => x.test(screen))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      done();
    },
  });
  const drawn = (pattern: RegExp | string): Promise<void> => {
    const test = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
    return test(screen) ? Promise.resolve() : new Promise((resolve) => waiters.push({ test, resolve }));
  };
  return { input, output, type: (text) => input.write(text), screen: () => screen, drawn };
}

describe('auth prompts with injected streams', () => {
  it('promptKey: masks every character with *, trims, and the key never reaches the screen', async () => {
    const term = terminal();
    const answer = promptKey(nim, term);
    await term.drawn('API key for');
    term.type(`  ${KEY} \r`);
    expect(await answer).toBe(KEY);
    const screen = term.screen();
    expect(screen).toContain('Create a key for NVIDIA NIM at https://build.nvidia.com');
    expect(screen).toContain('API key for NVIDIA NIM (nvidia-nim):');
    expect(screen).toContain('*'.repeat(KEY.length));
    expect(screen).not.toContain('abcdefgh');
    expect(screen).not.toMatch(/toggle/);
  });

  it('promptKey: whitespace inside the key is refused on the spot; the corrected key is taken', async () => {
    const term = terminal();
    const answer = promptKey(nim, term);
    await term.drawn('API key for');
    term.type('nvapi-abc defghijk\r');
    await term.drawn('whitespace inside it');
    // Clear the line (Ctrl-U is not assumed: backspace over it) and type the right key.
    term.type('\x7f'.repeat(20));
    term.type(KEY);
    term.type('\r');
    expect(await answer).toBe(KEY);
    expect(term.screen()).not.toContain('defghijk');
  });

  it('promptKey: an aborted prompt ends as CANCELLED (exit 130), nothing returned', async () => {
    const term = terminal();
    const controller = new AbortController();
    const answer = promptKey(nim, { ...term, signal: controller.signal }).catch((error: unknown) => error);
    controller.abort();
    const error = await answer;
    expect(isPantheonError(error) && { code: error.code, exitCode: error.exitCode, message: error.message }).toEqual({
      code: 'CANCELLED',
      exitCode: 130,
      message: 'Login cancelled; nothing was saved.',
    });
  });

  it('promptProvider: shows name, env var and where keys are made; arrow keys pick', async () => {
    const choices = loginChoices({ provider: { acme: { options: { baseURL: 'https://a.test/v1' } } } }, { NVIDIA_API_KEY: 'x'.repeat(20) }, {});
    expect(choices[0]?.provider.id).toBe('acme');
    const term = terminal();
    const answer = promptProvider(choices, term);
    await term.drawn('Log in to which provider?');
    term.type('\x1b[B');
    await term.drawn('keys: https://build.nvidia.com · env: NVIDIA_NIM_API_KEY, NVIDIA_API_KEY');
    term.type('\r');
    expect(await answer).toBe('nvidia-nim');
    const screen = term.screen();
    expect(screen).toContain('acme — acme (ACME_API_KEY) [configured]');
    expect(screen).toContain('nvidia-nim — NVIDIA NIM (NVIDIA_API_KEY) [key from env NVIDIA_API_KEY]');
    expect(screen).toContain('keys: see the provider · env: ACME_API_KEY');
    expect(screen).not.toContain('x'.repeat(20));
    // Local servers that take any key are not offered unless configured.
    expect(choices.map((c) => c.provider.id)).not.toContain('ollama');
  });
});
