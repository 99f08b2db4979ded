/**
 * A finished `opencode run` exits at once though the built-in Copilot plugin is still refreshing its
 * model list behind the kept one (copilot-models.ts: a list over an hour old is answered at once and
 * asked again behind it). Against a scripted Copilot API on 127.0.0.1 that holds `/models`
 * unanswered: the run answers, exits 0 while Copilot still holds the request, says (with --debug)
 * that the refresh was abandoned as the command ended — not that it timed out after 5 s — and the
 * kept list file is left whole, as it was.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startFakeCopilot, type FakeCopilot } from '../support/fake-copilot.ts';

const TOKEN = 'gho_CopilotExitToken0123456789abcd';
const HOUR = 60 * 60 * 1000;

let sb: Sandbox | undefined;
let copilot: FakeCopilot | undefined;
let release: (() => void) | undefined;

afterEach(async () => {
  release?.();
  release = undefined;
  await copilot?.close();
  await sb?.remove();
  copilot = undefined;
  sb = undefined;
});

describe('opencode run with a Copilot model list being refreshed behind it', () => {
  it('exits once its answer is written, abandoning the refresh; the kept list stays whole', async () => {
    copilot = await startFakeCopilot({ token: TOKEN, models: [{ id: 'gpt-4.1', endpoints: ['/chat/completions'] }] });
    sb = await sandbox();
    sb.write('opencode.json', { provider: { 'github-copilot': { options: { baseURL: copilot.url } } }, model: 'github-copilot/gpt-4.1', cache: { enabled: false } });
    const dir = path.join(sb.dataHome, 'opencode');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ 'github-copilot': { type: 'oauth', refresh: TOKEN, access: TOKEN, expires: 0 } }), { mode: 0o600 });

    // A first run keeps Copilot's list.
    copilot.reply('gpt-4.1', { text: 'first answer' });
    const first = await sb.run(['run', 'hi']);
    expect(first.code, first.stderr).toBe(0);
    expect(copilot.listed()).toBe(1);
    // Two hours later (the kept list made older): it is used at once and asked again behind the run.
    const listFile = path.join(sb.dataHome, 'pantheon', 'copilot-models.json');
    const kept = JSON.parse(readFileSync(listFile, 'utf8')) as { version: number; lists: Record<string, { at: number; models: unknown[] }> };
    for (const list of Object.values(kept.lists)) list.at -= 2 * HOUR;
    const aged = `${JSON.stringify(kept)}\n`;
    writeFileSync(listFile, aged, { mode: 0o600 });

    release = copilot.holdList();
    copilot.reply('gpt-4.1', { text: 'second answer' });
    const second = await sb.run(['--debug', 'run', 'hi again']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('second answer');
    // Exited while Copilot still held the refresh (it never answered it).
    expect(copilot.listed()).toBe(2);
    expect(copilot.heldLists()).toBe(1);
    expect(second.stderr).toContain("github-copilot: Copilot's model list was not read (abandoned: the command ended)");
    expect(second.stderr).not.toMatch(/timeout|timed out/i);
    expect(second.stdout + second.stderr).not.toContain(TOKEN);
    // The kept list as it was: whole, not rewritten.
    expect(readFileSync(listFile, 'utf8')).toBe(aged);
  }, 60_000);
});
