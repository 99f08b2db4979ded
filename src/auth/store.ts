/**
 * OpenCode's credential store, `$XDG_DATA_HOME/opencode/auth.json`:
 * `{ "<provider>": { "type": "api", "key": "…" }, "<other>": { "type": "oauth", … } }`.
 *
 * Reads are strict (plain JSON, an object at the top); a store that cannot be read or parsed is
 * reported and never written. Writes edit the file's text in place (json-edit.ts), so
 * every other entry keeps its exact bytes, then replace the file atomically with mode 0600 in a
 * folder of mode 0700. Edits run one at a time: in one process by a queue per file (a server's
 * requests), across processes by a lock file beside it, `.auth.json.lock` (src/pid-lock.ts: the
 * owner's pid; a lock whose owner died, or older than LOCK_STALE_MS, is taken over), so an `opencode
 * auth login` beside a running `serve`, or two logins at once, each keep the other's entry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import { offsetToPosition } from '../config/json-path.ts';
import { PantheonError } from '../errors.ts';
import { removeProperty, setProperty } from './json-edit.ts';
import { withPidLock } from '../pid-lock.ts';
import { ensurePrivateDir, writePrivateFile } from './private-file.ts';
import { byCodeUnit } from '../icu-free.ts';

/** One entry of auth.json. Pantheon uses `type: "api"` entries; others (OAuth) are kept as they are. */
export interface AuthEntry {
  type?: string;
  key?: string;
  [field: string]: unknown;
}

export interface AuthStoreSnapshot {
  file: string;
  /** The file's text; undefined when the file does not exist yet. */
  text: string | undefined;
  entries: Record<string, AuthEntry>;
}

const FIX_HINT = 'Fix the file by hand or move it aside, then run `opencode auth login` again; Pantheon never overwrites a store it cannot read.';

function unreadable(file: string, error: NodeJS.ErrnoException): PantheonError {
  const why = error.code === 'EISDIR' ? 'it is a folder, not a file' : (error.code ?? 'unknown error');
  return new PantheonError('STORE_ERROR', `Cannot read the credential store ${file} (${why}).`, {
    hint: 'Make it a regular file you own with mode 0600 (`chmod 600` it), or move it aside.',
    cause: error,
  });
}

/** Where the first syntax error is, without quoting the text (it may hold a key). */
function syntaxErrorAt(text: string): string {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return '';
  const { line, col } = offsetToPosition(text, first.offset);
  return ` at line ${line}, column ${col}`;
}

/** Parses auth.json text; whitespace only counts as an empty store. Throws STORE_ERROR otherwise. */
export function parseAuthStore(text: string, file: string): Record<string, AuthEntry> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse's own message quotes the text, which may hold a key: only the position is shown.
    throw new PantheonError('STORE_ERROR', `The credential store ${file} is not valid JSON${syntaxErrorAt(text)}; it was left untouched.`, {
      hint: FIX_HINT,
      cause: new Error((error as Error).name),
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PantheonError('STORE_ERROR', `The credential store ${file} is not a JSON object; it was left untouched.`, { hint: FIX_HINT });
  }
  return parsed as Record<string, AuthEntry>;
}

/** Reads the store synchronously; a missing file is an empty store. Throws STORE_ERROR when unreadable or corrupt. */
export function readAuthStoreFile(file: string): AuthStoreSnapshot {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, text: undefined, entries: {} };
    throw unreadable(file, error as NodeJS.ErrnoException);
  }
  return { file, text, entries: parseAuthStore(text, file) };
}

/** The `type: "api"` key stored for a provider, if any. */
export function storedApiKey(entries: Record<string, AuthEntry>, providerId: string): string | undefined {
  const entry = Object.hasOwn(entries, providerId) ? entries[providerId] : undefined;
  return entry && entry.type === 'api' && typeof entry.key === 'string' && entry.key ? entry.key : undefined;
}

function sortedEntries(record: Record<string, unknown>): [string, unknown][] {
  return Object.entries(record).sort(([a], [b]) => byCodeUnit(a, b));
}

/** The store's text with one entry set (or removed when `value` is undefined); other bytes unchanged. */
function edited(snapshot: AuthStoreSnapshot, providerId: string, value: AuthEntry | undefined): string {
  const base = snapshot.text === undefined || snapshot.text.trim() === '' ? '{}' : snapshot.text;
  const text = value === undefined ? removeProperty(base, providerId) : setProperty(base, providerId, value);
  // The edit must leave exactly the intended change; anything else is a bug, and nothing is written.
  const after = parseAuthStore(text, snapshot.file);
  const others = Object.entries(snapshot.entries).filter(([id]) => id !== providerId);
  const expected = Object.fromEntries(value === undefined ? others : [...others, [providerId, value]]);
  if (!isDeepStrictEqual(sortedEntries(after), sortedEntries(expected))) {
    throw new PantheonError('INTERNAL', `Editing the credential store ${snapshot.file} went wrong; it was left untouched.`, {
      hint: 'Report this with the shape (not the contents) of your auth.json.',
    });
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The edit of each store file under way in this process: edits of one file run one at a time. */
const editing = new Map<string, Promise<unknown>>();

/** A lock older than this is a leftover whoever holds it (an edit takes milliseconds). */
const LOCK_STALE_MS = 10_000;

/** The file an edit replaces (a symlink's target: writePrivateFile writes there) and its lock beside it. */
function lockOf(file: string): string {
  let target = file;
  try {
    target = fs.realpathSync(file);
  } catch {
    // Missing (the first login): the path itself.
  }
  return path.join(path.dirname(target), `.${path.basename(target)}.lock`);
}

/**
 * Runs `edit` holding the store's lock across processes (its folder made first, mode 0700, as a
 * write makes it). Also the lock of the MCP OAuth store (mcp/oauth-store.ts), `.mcp-auth.json.lock`.
 */
export async function withStoreLock<T>(file: string, edit: () => Promise<T>): Promise<T> {
  const lock = lockOf(file);
  try {
    await ensurePrivateDir(path.dirname(lock));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new PantheonError('STORE_ERROR', `Cannot make the credential store's folder ${path.dirname(lock)} (${code}); nothing was written.`, {
      hint: 'Check that you own its parent folder and can write there.',
      cause: error,
    });
  }
  return withPidLock(lock, edit, { staleMs: LOCK_STALE_MS });
}

/**
 * Runs a read-edit-write of the store after the edits of it already under way in this process, and
 * holding its lock against other processes', so edits at the same time (a server's requests, an
 * `opencode auth login` beside it) each keep the others' entries.
 */
function serialized<T>(file: string, edit: () => Promise<T>): Promise<T> {
  const previous = editing.get(file) ?? Promise.resolve();
  const guarded = () => withStoreLock(file, edit);
  const run = previous.then(guarded, guarded);
  const settled = run.catch(() => undefined);
  editing.set(file, settled);
  void settled.then(() => {
    if (editing.get(file) === settled) editing.delete(file);
  });
  return run;
}

async function writeStore(file: string, text: string): Promise<void> {
  try {
    await writePrivateFile(file, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new PantheonError('STORE_ERROR', `Cannot write the credential store ${file} (${code}); it was left as it was.`, {
      hint: 'Check that you own its folder and can write there.',
      cause: error,
    });
  }
}

/**
 * Stores `{"type": "api", "key": key}` for a provider (with `metadata`, OpenCode's string record, when
 * given), keeping every other entry; returns the file written.
 */
export function saveApiKey(file: string, providerId: string, key: string, metadata?: Record<string, string>): Promise<string> {
  return serialized(file, async () => {
    // Read again right before writing, so an entry added meanwhile (e.g. by OpenCode) is kept.
    const snapshot = readAuthStoreFile(file);
    await writeStore(file, edited(snapshot, providerId, { type: 'api', key, ...(metadata && Object.keys(metadata).length ? { metadata } : {}) }));
    return file;
  });
}

/**
 * Replaces a provider's entry with `change(entry)`, read right before writing; nothing is written
 * when `change` answers undefined (no such entry, say). Returns whether it was written.
 */
export function updateEntry(file: string, providerId: string, change: (entry: AuthEntry | undefined) => AuthEntry | undefined): Promise<boolean> {
  return serialized(file, async () => {
    const snapshot = readAuthStoreFile(file);
    const value = change(Object.hasOwn(snapshot.entries, providerId) ? snapshot.entries[providerId] : undefined);
    if (value === undefined) return false;
    await writeStore(file, edited(snapshot, providerId, value));
    return true;
  });
}

/** Removes a provider's entry (of any type). Returns false, writing nothing, when there is none. */
export function removeEntry(file: string, providerId: string): Promise<boolean> {
  return serialized(file, async () => {
    const snapshot = readAuthStoreFile(file);
    if (!Object.hasOwn(snapshot.entries, providerId)) return false;
    await writeStore(file, edited(snapshot, providerId, undefined));
    return true;
  });
}
