/**
 * Records OpenCode's own verdict on every config of the corpus (test/fixtures/opencode-corpus/):
 * each entry folder is copied to a fresh temp folder (OpenCode writes a `$schema` into config files
 * it loads) and `opencode debug config --pure` of the pinned opencode-ai runs there with an isolated
 * HOME — exit 0: OpenCode loads it; exit 1: OpenCode rejects it. The verdicts go to verdicts.json
 * beside the manifest; test/config/opencode-corpus.test.ts checks Pantheon against them.
 *
 * Usage: `npx node scripts/record-corpus-verdicts.ts [CORPUS_DIR]`
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureOpencode, OPENCODE_VERSION, opencodeVerdict, type OpencodeVerdict } from './lib/opencode-ai.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
export const CORPUS_DIR = path.join(repoRoot, 'test', 'fixtures', 'opencode-corpus');

interface ManifestEntry {
  id: string;
}

async function main(): Promise<void> {
  const dir = process.argv[2] ? path.resolve(process.argv[2]) : CORPUS_DIR;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { entries: ManifestEntry[] };
  const bin = await ensureOpencode((line) => process.stderr.write(`${line}\n`));
  const verdicts: Record<string, OpencodeVerdict> = {};
  for (const entry of manifest.entries) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'opencode-corpus-'));
    try {
      fs.cpSync(path.join(dir, entry.id), work, { recursive: true });
      verdicts[entry.id] = await opencodeVerdict(bin, work);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    const v = verdicts[entry.id] as OpencodeVerdict;
    process.stderr.write(`${v.exitCode === 0 ? 'loads  ' : 'rejects'} ${entry.id}\n`);
  }
  const out = { opencode: `opencode-ai ${OPENCODE_VERSION}`, command: 'opencode debug config --pure', verdicts };
  fs.writeFileSync(path.join(dir, 'verdicts.json'), `${JSON.stringify(out, null, 2)}\n`);
  const rejected = Object.values(verdicts).filter((v) => v.exitCode !== 0).length;
  process.stdout.write(`${Object.keys(verdicts).length} configs: ${rejected} rejected by OpenCode\n`);
}

await main();
