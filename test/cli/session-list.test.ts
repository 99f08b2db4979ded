import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionStore, type SessionRecord } from '../../src/session/store.ts';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const MIN = 60_000;

function rec(store: SessionStore, fields: Partial<SessionRecord> & { projectRoot: string }): SessionRecord {
  const now = Date.now();
  return {
    id: store.newId(),
    agent: 'oracle',
    title: '',
    createdAt: now - 10 * MIN,
    updatedAt: now - 10 * MIN,
    messages: [
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hi' },
    ],
    usage: { inputTokens: 10, outputTokens: 5 },
    models: ['p/m1'],
    ...fields,
  };
}

/** The data rows of the text table, split into cells on runs of two or more spaces. */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/ {2,}/));
}

describe('opencode session list / show', () => {
  let sb: Sandbox;
  let store: SessionStore;
  let review: SessionRecord;
  let fix: SessionRecord;
  let other: SessionRecord;
  beforeEach(async () => {
    sb = await sandbox();
    store = SessionStore.open({ XDG_DATA_HOME: sb.dataHome });
    const now = Date.now();
    review = rec(store, {
      projectRoot: sb.project,
      createdAt: now - 20 * MIN,
      updatedAt: now - 3 * MIN - 30_000,
      messages: [
        { role: 'user', content: 'Review this design for scaling problems in the scheduler, the ledger\nand the cache layer' },
        { role: 'assistant', content: [{ type: 'text', text: 'Three problems.' }] },
      ],
      usage: { inputTokens: 1_200, outputTokens: 34 },
      costUSD: 0.0012,
    });
    fix = rec(store, {
      projectRoot: sb.project,
      agent: 'sisyphus',
      title: 'Fix the flaky test',
      createdAt: now - 2 * 60 * MIN,
      updatedAt: now - 2 * 60 * MIN,
      messages: [
        { role: 'user', content: 'Fix the flaky test' },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'read', input: { filePath: 'a.test.ts' } }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'read', output: { type: 'text', value: 'it(…)' } }] },
        { role: 'assistant', content: 'Fixed.' },
      ],
    });
    other = rec(store, { projectRoot: path.join(sb.root, 'elsewhere'), agent: 'explore', title: 'Another project', updatedAt: now - 30_000 });
    for (const r of [review, fix, other]) await store.save(r);
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('text: this project\'s sessions newest first, from any folder inside it; nothing written', async () => {
    await fs.mkdir(path.join(sb.project, 'src', 'deep'), { recursive: true });
    const before = await sb.snapshot();
    const r = await sb.run(['session', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const header = r.stdout.split('\n')[0] ?? '';
    expect(header.split(/ {2,}/)).toEqual(['ID', 'AGENT', 'UPDATED', 'MSGS', 'TOKENS', 'COST', 'TITLE']);
    expect(rows(r.stdout)).toEqual([
      [review.id, 'oracle', '3 min ago', '2', '1,234', '$0.0012', 'Review this design for scaling problems in the scheduler, t…'],
      [fix.id, 'sisyphus', '2 h ago', '4', '15', '-', 'Fix the flaky test'],
    ]);
    expect(r.stdout).not.toContain(other.id);
    const deep = await sb.run(['session', 'ls'], { cwd: path.join(sb.project, 'src', 'deep') });
    expect(deep.stdout).toBe(r.stdout);
    expect(await sb.snapshot()).toEqual(before);
  });

  it('--all: every project, with a PROJECT column', async () => {
    const r = await sb.run(['session', 'list', '--all']);
    expect(r.code, r.stderr).toBe(0);
    const table = rows(r.stdout);
    expect(table.map((row) => row[0])).toEqual([other.id, review.id, fix.id]);
    expect(table[0]?.at(-1)).toBe(path.join(sb.root, 'elsewhere'));
    expect(table[1]?.at(-1)).toBe(sb.project);
    expect(r.stdout.split('\n')[0]).toMatch(/TITLE +PROJECT$/);
  });

  it('--json: one JSON document with the summaries and problems', async () => {
    const r = await sb.run(['session', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { projectRoot: string; all: boolean; sessions: Record<string, unknown>[]; problems: unknown[] };
    expect(doc.projectRoot).toBe(sb.project);
    expect(doc.all).toBe(false);
    expect(doc.problems).toEqual([]);
    expect(doc.sessions.map((s) => s.id)).toEqual([review.id, fix.id]);
    expect(doc.sessions[0]).toEqual({
      id: review.id,
      projectRoot: sb.project,
      agent: 'oracle',
      title: 'Review this design for scaling problems in the scheduler, t…',
      createdAt: review.createdAt,
      updatedAt: review.updatedAt,
      messageCount: 2,
      usage: { inputTokens: 1_200, outputTokens: 34 },
      costUSD: 0.0012,
      models: ['p/m1'],
    });
    const all = JSON.parse((await sb.run(['session', 'list', '--all', '--json'])).stdout) as { all: boolean; sessions: unknown[] };
    expect(all.all).toBe(true);
    expect(all.sessions).toHaveLength(3);
  });

  it('a corrupted session file: a warning on stderr naming it, the rest listed, exit 0, the file kept', async () => {
    const bad = path.join(store.dir, 'ses_broken.json');
    await fs.writeFile(bad, '{"format":"pantheon-session/1", trunc');
    const r = await sb.run(['session', 'list']);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^warning: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+; skipped\\.$`))]);
    expect(rows(r.stdout).map((row) => row[0])).toEqual([review.id, fix.id]);
    const json = await sb.run(['session', 'list', '--json']);
    expect(JSON.parse(json.stdout).problems).toEqual([{ file: bad, reason: expect.any(String) }]);
    const show = await sb.run(['session', 'show', 'ses_broken']);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(new RegExp(`^error: The session file ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is unreadable: .+\\.\\nhint: .+\\n$`));
    expect(hasStack(show.stderr)).toBe(false);
    expect(await fs.readFile(bad, 'utf8')).toBe('{"format":"pantheon-session/1", trunc');
  });

  it('show: an unknown id is exit 2 with one sentence and a hint', async () => {
    const r = await sb.run(['session', 'show', 'ses_doesnotexist']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "error: session ses_doesnotexist does not exist.\nhint: `opencode session list` shows the sessions of this project; `--all` shows every project's.\n",
    );
  });

  it('show: the details and the conversation, or the whole record as JSON', async () => {
    const r = await sb.run(['session', 'show', fix.id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`session  ${fix.id}\n`);
    expect(r.stdout).toContain('agent    sisyphus\n');
    expect(r.stdout).toContain('user:\n  Fix the flaky test\nassistant:\n  → read {"filePath":"a.test.ts"}\ntool:\n  ← read: it(…)\nassistant:\n  Fixed.\n');
    const j = await sb.run(['session', 'show', fix.id, '--json']);
    expect(JSON.parse(j.stdout)).toEqual(fix);
  });

  it('no sessions yet, and outside a git repository the folder itself is the project', async () => {
    const bare = await sandbox({ git: false });
    try {
      const empty = await bare.run(['session', 'list']);
      expect(empty.code).toBe(0);
      expect(empty.stdout).toBe(`No sessions in ${bare.project} yet; every \`opencode run\` saves one. \`--all\` lists every project's.\n`);
      const s = SessionStore.open({ XDG_DATA_HOME: bare.dataHome });
      const mine = rec(s, { projectRoot: bare.project, title: 'here' });
      await s.save(mine);
      await s.save(rec(s, { projectRoot: bare.root, title: 'the parent folder' }));
      const r = await bare.run(['session', 'list', '--json']);
      const doc = JSON.parse(r.stdout) as { projectRoot: string; sessions: { id: string }[] };
      expect(doc.projectRoot).toBe(bare.project);
      expect(doc.sessions.map((x) => x.id)).toEqual([mine.id]);
    } finally {
      await bare.remove();
    }
  });
});
