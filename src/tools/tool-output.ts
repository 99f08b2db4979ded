/**
 * Where a tool's whole output goes when its answer is cut, as OpenCode's `tool-output` folder: in
 * Pantheon's data folder (`$XDG_DATA_HOME/pantheon/tool-output`, 0700), one file a cut answer
 * (`tool_<ascending id>`, 0600), named in the answer so the model can `read` or `grep` it; a path
 * in the folder needs no `external_directory` approval, as in OpenCode. Files older than 7 days
 * are removed (once a process, when the first file is made), as OpenCode's hourly sweep does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeDirSync } from '../make-dir.ts';
import { stateDir } from '../paths.ts';
import { ascendingId } from '../session/ids.ts';
import { debugNote } from '../debug-note.ts';

/** OpenCode's bounds on what a tool's answer carries (its Truncate.MAX_LINES and MAX_BYTES). */
export const TOOL_OUTPUT_MAX_LINES = 2000;
export const TOOL_OUTPUT_MAX_BYTES = 51_200;
/** How long a saved output is kept (OpenCode: 7 days, by modification time). */
export const TOOL_OUTPUT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** At most this much of one output is saved (OpenCode has no bound; a runaway command would fill the disk). */
export const TOOL_OUTPUT_FILE_CAP = 64 * 1024 * 1024;

export function toolOutputDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'tool-output');
}

/** Whether the real path `real` lies in the folder (itself included). */
export function inToolOutputDir(real: string): boolean {
  let dir: string;
  try {
    dir = fs.realpathSync(toolOutputDir());
  } catch {
    return false;
  }
  const rel = path.relative(dir, real);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

let swept = false;

/** Removes the folder's `tool_*` files last modified before `now - retention`; every failure is left alone. */
export async function sweepToolOutput(now: number = Date.now(), dir: string = toolOutputDir()): Promise<number> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith('tool_')) continue;
    const file = path.join(dir, name);
    try {
      const stat = await fs.promises.lstat(file);
      if (!stat.isFile() || stat.mtimeMs >= now - TOOL_OUTPUT_RETENTION_MS) continue;
      await fs.promises.unlink(file);
      removed += 1;
    } catch {
      // Gone already, or not ours to remove: the next sweep tries again.
    }
  }
  if (removed > 0) debugNote(`tool-output: removed ${removed} saved output(s) older than 7 days from ${dir}`);
  return removed;
}

/**
 * A new file for one output: the folder made (0700) if missing, the file created 0600 and never
 * over another. The first call in a process also sweeps old files (in the background).
 */
export function newToolOutputFile(): { path: string; stream: fs.WriteStream } {
  const dir = toolOutputDir();
  makeDirSync(dir, 0o700);
  if (!swept) {
    swept = true;
    void sweepToolOutput(Date.now(), dir);
  }
  const file = path.join(dir, ascendingId('tool'));
  return { path: file, stream: fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }) };
}
