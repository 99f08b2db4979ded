/**
 * OpenCode's revert and unrevert (`/undo` and `/redo` in its TUI): a session's files put back to
 * how they were before one of its turns, by undoing the patches its `edit` and `write` calls kept
 * (SessionMessage.diffs) and those of the turns after it. The turns stay in the session, marked
 * (SessionRecord.revert), until its next prompt drops them (withoutReverted); until then a revert
 * to a later turn, or unrevert, puts the files forward again.
 *
 * Every file's new text is worked out before any is written: a file changed since by something
 * else (a patch that no longer applies) or one over MAX_TEXT_BYTES stops the whole revert, named,
 * with nothing written. A file the session created is removed when its creation is undone.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PantheonError } from '../errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { MAX_TEXT_BYTES } from '../tools/file-diff.ts';
import { revertFiles } from './revert-diff.ts';
import { movedText, touchedFiles } from './session-diff.ts';
import type { SessionMessage, SessionRecord } from './store.ts';
import { makeDir } from '../make-dir.ts';

/** A planned change of one file (`full`: its path on disk, inside the project): its new text, or `null` to remove it. */
export interface FileWrite {
  file: string;
  full: string;
  text: string | null;
}

/** The index of the user message whose id is `messageID` (a turn's start), or -1. */
export function turnIndex(messages: readonly SessionMessage[], messageID: string): number {
  return messages.findIndex((m) => m.role === 'user' && m.info?.id === messageID);
}

/** The record as its next turn continues it: the reverted turns dropped, the mark cleared. */
export function withoutReverted(record: SessionRecord): SessionRecord {
  if (!record.revert) return record;
  const { revert, ...rest } = record;
  const at = turnIndex(record.messages, revert.messageID);
  return at < 0 ? rest : { ...rest, messages: record.messages.slice(0, at) };
}

/** The file inside the project (symlinks resolved), or undefined when it would lead out of it. */
async function inside(projectRoot: string, file: string): Promise<string | undefined> {
  const full = path.resolve(projectRoot, file);
  const root = await fs.realpath(projectRoot);
  const parent = await fs.realpath(path.dirname(full)).catch(() => undefined);
  if (parent === undefined) return full.startsWith(`${path.resolve(projectRoot)}${path.sep}`) ? full : undefined;
  const real = path.join(parent, path.basename(full));
  return real === root || real.startsWith(`${root}${path.sep}`) ? real : undefined;
}

function changedSince(file: string, what: string): PantheonError {
  return new PantheonError('FILES_CHANGED', `${file} ${what}; nothing was reverted.`, {
    hint: 'Put the file back as the session left it (or revert by hand), then try again.',
  });
}

/**
 * The writes that move the files from the state after the turns `[from, to)` to the state before
 * them (`undo`), or back (`redo`). Throws FILES_CHANGED naming the first file that does not fit.
 */
export async function planFiles(projectRoot: string, messages: readonly SessionMessage[], from: number, to: number, direction: 'undo' | 'redo'): Promise<FileWrite[]> {
  const plan: FileWrite[] = [];
  for (const [file, all] of touchedFiles(messages)) {
    const own = all.filter((p) => p.at >= from && p.at < to);
    if (own.length === 0) continue;
    const full = await inside(projectRoot, file);
    if (full === undefined) throw changedSince(file, 'is outside the project now');
    let text: string;
    try {
      const stat = await fs.stat(full);
      if (!stat.isFile() || stat.size > MAX_TEXT_BYTES) throw changedSince(file, 'is no longer a text file Pantheon can patch');
      text = await fs.readFile(full, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      text = '';
    }
    const moved = await movedText(text, own, direction);
    if (moved === false) throw changedSince(file, 'was changed since the session changed it');
    text = moved;
    // Undoing the session's creation of a file removes it.
    const created = (own[0]?.patch ?? '').startsWith('--- /dev/null');
    plan.push({ file, full, text: direction === 'undo' && created && text === '' ? null : text });
  }
  return plan;
}

/** Carries out a plan (each file written atomically, or removed). */
export async function writeFiles(plan: readonly FileWrite[]): Promise<void> {
  for (const { full, text } of plan) {
    if (text === null) await fs.rm(full, { force: true });
    else {
      await makeDir(path.dirname(full));
      await writeFileAtomic(full, text);
    }
  }
}

/**
 * Moves the session's files to the state before the turn that starts at `messageID` (revert) or,
 * with undefined, after its last turn (unrevert), from wherever its mark has them now; returns the
 * record with its new mark, which lists what the revert did to the files (revert-diff.ts).
 * Unknown message: MESSAGE_NOT_FOUND.
 */
export async function moveTo(record: SessionRecord, messageID: string | undefined): Promise<SessionRecord> {
  const messages = record.messages;
  const current = record.revert ? turnIndex(messages, record.revert.messageID) : messages.length;
  const now = current < 0 ? messages.length : current;
  let target = messages.length;
  if (messageID !== undefined) {
    target = turnIndex(messages, messageID);
    if (target < 0) {
      throw new PantheonError('MESSAGE_NOT_FOUND', `Session ${record.id} has no user message ${messageID}.`, {
        hint: 'Give the id of one of its user messages (GET /session/{id}/message).',
      });
    }
  }
  const plan = target < now ? await planFiles(record.projectRoot, messages, target, now, 'undo') : await planFiles(record.projectRoot, messages, now, target, 'redo');
  await writeFiles(plan);
  const { revert: _old, ...rest } = record;
  if (messageID === undefined) return { ...rest, updatedAt: Date.now() };
  return { ...rest, revert: { messageID, files: await revertFiles(record.projectRoot, messages, target) }, updatedAt: Date.now() };
}
