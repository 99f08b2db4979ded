import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SessionMessage, SessionRecord } from '../../src/session/store.ts';

export async function tempDir(prefix = 'pantheon-session-'): Promise<string> {
  return fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
}

/** A user/assistant exchange of `turns` turns, each message about `chars` characters. */
export function conversation(turns: number, chars = 40): SessionMessage[] {
  const out: SessionMessage[] = [];
  for (let i = 0; i < turns; i++) {
    out.push({ role: 'user', content: `question ${i} ${'q'.repeat(chars)}` });
    out.push({ role: 'assistant', content: [{ type: 'text', text: `answer ${i} ${'a'.repeat(chars)}` }] });
  }
  return out;
}

/** A record as a run would save it. */
export function record(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    projectRoot: '/work/project-a',
    agent: 'oracle',
    title: '',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    messages: conversation(1),
    usage: { inputTokens: 120, outputTokens: 30 },
    models: ['p/m1'],
    ...overrides,
  };
}
