/**
 * The drop-in rule on real configs: every entry of test/fixtures/opencode-corpus (real
 * opencode.json[c] files from public repositories, some with their oh-my-opencode files) gets the
 * verdict OpenCode itself gave (scripts/record-corpus-verdicts.ts, committed in verdicts.json):
 * loads when OpenCode loads it, refused (CONFIG_*, exit 2) when OpenCode refuses it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { isPantheonError } from '../../src/errors.ts';

const CORPUS = path.resolve(import.meta.dirname, '..', 'fixtures', 'opencode-corpus');
const manifest = JSON.parse(fs.readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as { entries: { id: string }[] };
const recorded = JSON.parse(fs.readFileSync(path.join(CORPUS, 'verdicts.json'), 'utf8')) as {
  verdicts: Record<string, { exitCode: number; error?: string }>;
};
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'corpus-home-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

/** An environment with nothing of the user's: empty HOME and XDG folders. */
const env = {
  PATH: process.env.PATH,
  HOME: home,
  XDG_CONFIG_HOME: path.join(home, '.config'),
  XDG_DATA_HOME: path.join(home, '.local', 'share'),
  XDG_CACHE_HOME: path.join(home, '.cache'),
};

async function pantheonVerdict(id: string): Promise<{ loads: boolean; message?: string }> {
  try {
    await loadConfig({ cwd: path.join(CORPUS, id), env });
    return { loads: true };
  } catch (error) {
    if (!isPantheonError(error) || !error.code.startsWith('CONFIG_')) throw error;
    return { loads: false, message: [error.message, ...(error.details ?? [])].join('\n') };
  }
}

describe('real OpenCode configs get OpenCode\'s verdict', () => {
  it('the corpus has at least 60 configs, each with a recorded verdict, some of them refused', () => {
    expect(manifest.entries.length).toBeGreaterThanOrEqual(60);
    for (const entry of manifest.entries) expect(recorded.verdicts[entry.id], entry.id).toBeDefined();
    expect(Object.values(recorded.verdicts).some((v) => v.exitCode !== 0)).toBe(true);
  });

  it.each(manifest.entries.map((e) => e.id))('%s', async (id) => {
    const opencode = recorded.verdicts[id];
    const ours = await pantheonVerdict(id);
    const expected = opencode?.exitCode === 0;
    expect(ours.loads, ours.message ?? `OpenCode refused it: ${opencode?.error ?? ''}`).toBe(expected);
  });
});
