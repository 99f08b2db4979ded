/**
 * A merged config's check (validate.ts), skipped for a config this build has found clean before.
 * The run bundle's loader turns it on (src/cli/bundle-cache.ts: the code cache's folder and the
 * bundle's hash); library callers and the other commands always check. A config with no problem
 * and no warning leaves an empty file named by the build, Node's version (time zones come from its
 * ICU data), the models.dev catalogue's file (its size and time: data beside the build) and a
 * SHA-256 of the config as merged (env values substituted, flags in); a config of that name found
 * again is not checked, and the schema's validator (400 KB of code, a side file of
 * the run bundle) is not even loaded: ~17 ms of every `opencode run` (docs/performance.md).
 * A config that differs in any byte, or one with warnings (said again on every run), is checked.
 * The file holds nothing: its name is a digest, and no value of the config is written anywhere.
 */
import { makeDirSync } from '../make-dir.ts';
import { catalogStamp } from '../providers/models-dev.ts';
import type { ConfigLayer, ConfigWarning } from './layer.ts';

const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');
// node:crypto only when the memo is on (a run loads it anyway): `config validate` and the other
// commands, which always check, do without it (~4 ms of a process: src/cache/key.ts).
const crypto = () => process.getBuiltinModule('node:crypto');

/** Memo files kept per build; the oldest go past it (the build's other caches go with the build). */
export const MAX_CLEAN_CONFIGS = 64;

let memo: { dir: string; build: string } | undefined;

/**
 * Turns the memo on for this process: files in `dir`, named after `build` (a bundle's hex hash). The
 * loader gives the code cache's folder only when no other user can write it (bundle-cache.ts).
 */
export function useCleanConfigMemo(dir: string, build: string): void {
  memo = /^[0-9a-f]{8,64}$/.test(build) ? { dir, build } : undefined;
}

function memoFile(merged: Record<string, unknown>): string | undefined {
  if (!memo) return undefined;
  let text: string;
  try {
    text = JSON.stringify(merged);
  } catch {
    // Not JSON (a BigInt, a cycle: a library caller's object): checked, and the check says why.
    return undefined;
  }
  // Node's version (its ICU data judges a budget's time zone) and the catalogue (which providers need no declaring).
  const digest = crypto().createHash('sha256').update(`${process.version}\0${catalogStamp()}\0`).update(text).digest('hex').slice(0, 32);
  return path.join(memo.dir, `${memo.build}-config-${digest}.clean`);
}

/** validateLayers (throws on a problem; returns the warnings), unless this config was found clean by this build before. */
export async function checkMergedConfig(merged: Record<string, unknown>, layers: ConfigLayer[]): Promise<ConfigWarning[]> {
  const file = memoFile(merged);
  if (file !== undefined && fs.existsSync(file)) return [];
  const { validateLayers } = await import('./validate.ts');
  const warnings = validateLayers(merged, layers);
  if (file !== undefined && warnings.length === 0) remember(file);
  return warnings;
}

/** Best effort: a folder that cannot be written leaves the next run checking again. */
function remember(file: string): void {
  try {
    makeDirSync(path.dirname(file), 0o700);
    fs.writeFileSync(file, '', { mode: 0o600 });
    prune(path.dirname(file), path.basename(file).split('-config-')[0] as string);
  } catch {
    // Not remembered: checked again next time.
  }
}

/** Past MAX_CLEAN_CONFIGS memo files of this build, the oldest are removed. */
function prune(dir: string, build: string): void {
  const prefix = `${build}-config-`;
  const names = fs.readdirSync(dir).filter((name) => name.startsWith(prefix) && name.endsWith('.clean'));
  if (names.length <= MAX_CLEAN_CONFIGS) return;
  const aged = names.map((name) => ({ name, at: fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
  aged.sort((a, b) => a.at - b.at);
  for (const { name } of aged.slice(0, names.length - MAX_CLEAN_CONFIGS)) fs.rmSync(path.join(dir, name), { force: true });
}
