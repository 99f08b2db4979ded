/**
 * A damaged workflow journal: a run whose rows are not JSON (a hand edit, a disk fault) is named
 * in one sentence (`workflow show`: exit 1) and left out of `workflow list` with a warning, the
 * other runs still listed; a journal file that is not a database says so, with a hint that fits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { hasStack, providerConfig, useScriptedSandbox, type Sandbox } from './cli-helper.ts';

describe('a damaged workflow journal', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  let journal: string;

  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
      journal = path.join(sb.dataHome, 'pantheon', 'workflows.sqlite');
    },
    (server) => ({
      ...providerConfig(server, { m1: {} }),
      model: 'p/m1',
      cache: { enabled: false },
      workflow: { one: { steps: [{ id: 'a', agent: 'explore', prompt: 'do {{input.n}}' }] } },
    }),
  );

  async function runOnce(n: string): Promise<string> {
    const r = await sb.run(['workflow', 'run', 'one', '--input', `n=${n}`]);
    expect(r.code, r.stderr).toBe(0);
    return /run (wr_[a-z0-9]+)/.exec(r.stderr)?.[1] as string;
  }

  it('a run whose rows are not JSON is named and left out; the others are listed', async () => {
    const good = await runOnce('1');
    const bad = await runOnce('2');
    const db = new DatabaseSync(journal);
    db.prepare("UPDATE runs SET inputs = 'nope' WHERE id = ?").run(bad);
    db.prepare("UPDATE tasks SET state = '{broken' WHERE run_id = ?").run(bad);
    db.close();

    const listed = await sb.run(['workflow', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toMatch(new RegExp(`^warning: The workflow journal has a damaged run ${bad}: its inputs are not JSON \\(.*\\)\\.\\n$`));
    expect(listed.stdout).toMatch(new RegExp(`${good}\\s+one\\s+success`));
    expect(listed.stdout).not.toContain(bad);
    const json = await sb.run(['workflow', 'list', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { runs: { id: string }[]; problems: string[] };
    expect(doc.runs.map((r) => r.id)).toEqual([good]);
    expect(doc.problems).toHaveLength(1);

    const shown = await sb.run(['workflow', 'show', bad]);
    expect(shown.code).toBe(1);
    expect(hasStack(shown.stderr)).toBe(false);
    expect(shown.stderr).toMatch(new RegExp(`^error: The workflow journal has a damaged run ${bad}: its task state is not JSON \\(.*\\)\\.\\nhint: Start a new run; the other runs are unaffected\\.\\n$`));
    expect((await sb.run(['workflow', 'show', good])).code).toBe(0);
  });

  it('a journal file that is not a database: one sentence and a hint to move it aside (exit 1)', async () => {
    fs.mkdirSync(path.dirname(journal), { recursive: true });
    fs.writeFileSync(journal, 'not a database at all, just some text that is long enough to have a header\n'.repeat(20));
    const r = await sb.run(['workflow', 'run', 'one', '--input', 'n=1']);
    expect(r.code).toBe(1);
    expect(hasStack(r.stderr)).toBe(false);
    expect(r.stderr).toBe(
      `error: The workflow journal ${journal} could not be used: file is not a database\n` +
        'hint: The file is damaged: move it aside (its runs can then no longer be shown or resumed) and run again.\n',
    );
    expect(server.log).toHaveLength(0);
  });
});
