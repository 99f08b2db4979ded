import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSession, sessionAfter } from '../../src/run/run-session.ts';
import { SessionStore } from '../../src/session/store.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function store(): Promise<SessionStore> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-run-session-'));
  dirs.push(dir);
  return new SessionStore(dir);
}

const outcome = { agent: 'oracle', turn: [{ role: 'user' as const, content: 'q' }, { role: 'assistant' as const, content: 'a' }], usage: { inputTokens: 10, outputTokens: 2 }, costUSD: 0.5, servedBy: ['p/m', 'p/m'] };

describe('run sessions', () => {
  it('a new session, then continued: messages appended, usage and cost added up, models once each', async () => {
    const s = await store();
    const fresh = await openSession(s, { projectRoot: '/proj' });
    expect(fresh.previous).toBeUndefined();
    const first = sessionAfter(fresh, '/proj', outcome, 1000);
    await s.save(first);
    const continued = await openSession(s, { continue: true, projectRoot: '/proj' });
    expect(continued.id).toBe(fresh.id);
    const second = sessionAfter(continued, '/proj', { ...outcome, costUSD: undefined, servedBy: ['q/n'] }, 2000);
    expect(second).toMatchObject({ id: fresh.id, createdAt: 1000, updatedAt: 2000, usage: { inputTokens: 20, outputTokens: 4 }, costUSD: 0.5, models: ['p/m', 'q/n'] });
    expect(second.messages).toHaveLength(4);
  });

  it('--continue in a project without sessions starts a new one and says so; --session of an unknown id is a usage error', async () => {
    const s = await store();
    expect(await openSession(s, { continue: true, projectRoot: '/empty' })).toMatchObject({ previous: undefined, nothingToContinue: true });
    await expect(openSession(s, { id: 'ses_missing', projectRoot: '/p' })).rejects.toMatchObject({ code: 'USAGE', exitCode: 2 });
  });

  it('no prices anywhere → no cost', () => {
    const r = sessionAfter({ id: 'ses_x', previous: undefined, nothingToContinue: false }, '/p', { ...outcome, costUSD: undefined }, 1);
    expect(r.costUSD).toBeUndefined();
  });
});
