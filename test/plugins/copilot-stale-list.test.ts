/**
 * GitHub Copilot's model list once it is over an hour old (copilot-models.ts), against a scripted
 * Copilot API on 127.0.0.1 that turns slow (its `/models` held unanswered) or down (503), the hour
 * passed on a fake clock (vitest's, faking Date only), never by sleeping:
 * - the lists the server answers (loginOffers, as `/provider` and the others call it) give the kept
 *   list at once and ask Copilot behind it, one refresh at a time; the new list is used once it
 *   came; a refresh that fails keeps the old list, is said once, and is tried again after five
 *   minutes, not at each request;
 * - `opencode models` (waitForModelLists) waits for the new list, and shows the kept one if Copilot fails.
 * The lists are asked of the built-in Copilot plugin's `provider` hook, as a run's model check asks it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { setDebugSink } from '../../src/debug-note.ts';
import type { Config } from '../../src/config/schema-types.ts';
import { loginOffers } from '../../src/plugins/builtin/copilot-offered.ts';
import { FAILED_MS, MAX_AGE_MS, waitForModelLists } from '../../src/plugins/builtin/copilot-models.ts';
import { startFakeCopilot, type FakeCopilot } from '../support/fake-copilot.ts';

const TOKEN = 'gho_StaleListToken0123456789abcdef';
const MINUTE = 60_000;

let sb: Sandbox;
const fakes: FakeCopilot[] = [];
const notes: string[] = [];

beforeAll(async () => {
  sb = await sandbox();
  const dir = path.join(sb.dataHome, 'opencode');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ 'github-copilot': { type: 'oauth', refresh: TOKEN, access: TOKEN, expires: 0 } }), { mode: 0o600 });
  setDebugSink((text) => notes.push(text));
  vi.useFakeTimers({ toFake: ['Date'] });
});

afterEach(() => {
  notes.length = 0;
});

afterAll(async () => {
  vi.useRealTimers();
  setDebugSink(undefined);
  await Promise.all(fakes.map((f) => f.close()));
  await sb?.remove();
});

async function copilotAt(): Promise<{ copilot: FakeCopilot; config: Config }> {
  const copilot = await startFakeCopilot({ token: TOKEN, models: [{ id: 'gpt-4.1', endpoints: ['/chat/completions'] }] });
  fakes.push(copilot);
  return { copilot, config: { provider: { 'github-copilot': { options: { baseURL: copilot.url } } } } as Config };
}

/** The Copilot models a list offers at `now`, by id. */
async function offered(config: Config, now: number): Promise<string[]> {
  vi.setSystemTime(now);
  const byProvider = await loginOffers(config, sb.env);
  return Object.keys(byProvider['github-copilot'] ?? {}).sort();
}

/** Resolves once `test` holds, checking as the event loop turns (a readiness signal: no timing is asserted). */
async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await test())) await new Promise((resolve) => setTimeout(resolve, 10));
}

const failedNotes = () => notes.filter((n) => n.includes("Copilot's model list was not read")).length;

describe("Copilot's model list past its hour", () => {
  it('the server\'s lists answer the kept list at once and refresh it behind, one at a time; a failed refresh keeps it, said once, tried again later', async () => {
    const { copilot, config } = await copilotAt();
    const t0 = Date.now();
    // No list yet: the first is waited for.
    expect(await offered(config, t0)).toEqual(['gpt-4.1']);
    expect(copilot.listed()).toBe(1);
    expect(await offered(config, t0 + 30 * MINUTE)).toEqual(['gpt-4.1']);
    expect(copilot.listed()).toBe(1);

    // Two hours on, Copilot is slow: the kept list comes back while Copilot still holds the new one.
    const release = copilot.holdList();
    const later = t0 + 2 * MAX_AGE_MS;
    expect(await offered(config, later)).toEqual(['gpt-4.1']);
    await until(() => copilot.heldLists() === 1);
    expect(await offered(config, later)).toEqual(['gpt-4.1']);
    expect(await offered(config, later + MINUTE)).toEqual(['gpt-4.1']);
    expect(copilot.listed()).toBe(2);
    // Copilot answers a new list: it is the one answered from then on.
    copilot.setModels([
      { id: 'gpt-4.1', endpoints: ['/chat/completions'] },
      { id: 'gpt-5.3-codex', endpoints: ['/responses'] },
    ]);
    release();
    await until(async () => (await offered(config, later + MINUTE)).length === 2);
    expect(copilot.listed()).toBe(2);

    // Another two hours, Copilot down: the list it gave last stays, and is not asked again at each request.
    copilot.failList(503);
    const down = later + 2 * MAX_AGE_MS;
    // Asked again once the last refresh is over (never two at once).
    await until(async () => {
      expect(await offered(config, down)).toEqual(['gpt-4.1', 'gpt-5.3-codex']);
      return copilot.listed() === 3;
    });
    // The refresh fails (said once, for --debug); the requests meanwhile and after it do not ask again.
    await until(() => failedNotes() === 1);
    for (const at of [down + MINUTE, down + 4 * MINUTE]) expect(await offered(config, at)).toEqual(['gpt-4.1', 'gpt-5.3-codex']);
    expect(copilot.listed()).toBe(3);
    // Five minutes after the failure it is tried again (once), still answering the list it has.
    const retry = down + FAILED_MS + MINUTE;
    expect(await offered(config, retry)).toEqual(['gpt-4.1', 'gpt-5.3-codex']);
    expect(await offered(config, retry)).toEqual(['gpt-4.1', 'gpt-5.3-codex']);
    await until(() => failedNotes() === 2);
    expect(copilot.listed()).toBe(4);
    expect(failedNotes()).toBe(2);
    expect(notes.filter((n) => n.includes(TOKEN))).toEqual([]);
  });

  it('`opencode models` (waitForModelLists) waits for the new list past the hour, and shows the kept one when Copilot fails', async () => {
    const { copilot, config } = await copilotAt();
    waitForModelLists();
    const t0 = Date.now();
    expect(await offered(config, t0)).toEqual(['gpt-4.1']);
    const release = copilot.holdList();
    let answered: string[] | undefined;
    const waiting = offered(config, t0 + 2 * MAX_AGE_MS).then((list) => (answered = list));
    await until(() => copilot.heldLists() === 1);
    // Still waiting on Copilot: no answer from the kept list.
    expect(answered).toBeUndefined();
    copilot.setModels([
      { id: 'gpt-4.1', endpoints: ['/chat/completions'] },
      { id: 'claude-sonnet-4.6', endpoints: ['/chat/completions'] },
    ]);
    release();
    expect(await waiting).toEqual(['claude-sonnet-4.6', 'gpt-4.1']);
    copilot.failList(503);
    expect(await offered(config, t0 + 4 * MAX_AGE_MS)).toEqual(['claude-sonnet-4.6', 'gpt-4.1']);
    expect(copilot.listed()).toBe(3);
  });
});
