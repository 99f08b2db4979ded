/**
 * OpenCode's store of MCP OAuth credentials, `$XDG_DATA_HOME/opencode/mcp-auth.json` (mode 0600),
 * shared with OpenCode: a user who ran OpenCode's `mcp auth` is signed in with Pantheon, and the
 * other way. By server name:
 * `{ tokens?: {accessToken, refreshToken?, expiresAt? (seconds), scope?}, clientInfo?: {clientId,
 * clientSecret?, clientIdIssuedAt?, clientSecretExpiresAt?}, serverUrl? }` (OpenCode's entry also
 * has `codeVerifier` and `oauthState` while a flow runs; Pantheon keeps those in memory). An entry
 * counts only for the URL it was made for (`serverUrl`), as in OpenCode.
 *
 * Reads are lenient (a missing file, or an entry of another shape, is nothing stored); a file that
 * is not a JSON object, or larger than MAX_FILE_BYTES (one warning naming it), is never written
 * over. Writes change the one entry, keep the others as they are, and replace the file atomically
 * (writePrivateFile); they run one at a time: in one process by a queue, across processes (`serve`
 * refreshing, `opencode mcp auth` or `logout`, a second `serve`) by the lock auth.json's edits take,
 * `.mcp-auth.json.lock` beside it (auth/store.ts withStoreLock).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writePrivateFile } from '../auth/private-file.ts';
import { withStoreLock } from '../auth/store.ts';
import { printErr } from '../cli/print.ts';
import { safeLine } from '../cli/terminal-text.ts';
import { PantheonError } from '../errors.ts';
import { xdgDataHome } from '../paths.ts';

/** The most the store is read: it holds a few entries of a few hundred bytes each. */
export const MAX_FILE_BYTES = 1024 * 1024;

export interface McpAuthTokens {
  accessToken: string;
  refreshToken?: string;
  /** Seconds since the epoch (OpenCode's unit). */
  expiresAt?: number;
  scope?: string;
  /** The authorization server that issued them (the MCP SDK's stamp; OpenCode ignores it). */
  issuer?: string;
}

export interface McpAuthClientInfo {
  clientId: string;
  clientSecret?: string;
  clientIdIssuedAt?: number;
  clientSecretExpiresAt?: number;
  issuer?: string;
}

export interface McpAuthEntry {
  tokens?: McpAuthTokens;
  clientInfo?: McpAuthClientInfo;
  serverUrl?: string;
}

export function mcpAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(xdgDataHome(env), 'opencode', 'mcp-auth.json');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, type: 'string' | 'number'): boolean => v === undefined || typeof v === type;

function validTokens(v: unknown): v is McpAuthTokens {
  return isObject(v) && typeof v.accessToken === 'string' && optional(v.refreshToken, 'string') && optional(v.expiresAt, 'number') && optional(v.scope, 'string');
}

function validClient(v: unknown): v is McpAuthClientInfo {
  return isObject(v) && typeof v.clientId === 'string' && optional(v.clientSecret, 'string') && optional(v.clientIdIssuedAt, 'number') && optional(v.clientSecretExpiresAt, 'number');
}

/** The entry in the shape above, or undefined (a part of another shape is left out). */
function entryOf(v: unknown): McpAuthEntry | undefined {
  if (!isObject(v)) return undefined;
  return {
    ...(validTokens(v.tokens) ? { tokens: v.tokens } : {}),
    ...(validClient(v.clientInfo) ? { clientInfo: v.clientInfo } : {}),
    ...(typeof v.serverUrl === 'string' ? { serverUrl: v.serverUrl } : {}),
  };
}

type Raw = { text: string | undefined; data: Record<string, unknown> | undefined; tooLarge?: boolean };

/** The files said to be too large (once each per process). */
const warned = new Set<string>();

async function readRaw(file: string): Promise<Raw> {
  let text: string;
  try {
    const handle = await fs.open(file, 'r');
    try {
      // Read to the bound, whatever its size says (a device, a file growing as it is read).
      const buffer = Buffer.allocUnsafe(MAX_FILE_BYTES + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        length += bytesRead;
        if (bytesRead === 0 || length === buffer.length) break;
      }
      if (length > MAX_FILE_BYTES) {
        if (!warned.has(file)) {
          warned.add(file);
          printErr(`${safeLine(`warning: the MCP credential store ${file} is larger than 1 MiB, more than such a file ever holds; it is read as holding nothing and never written over (move it aside to sign in again).`)}\n`);
        }
        return { text: '', data: undefined, tooLarge: true };
      }
      text = buffer.toString('utf8', 0, length);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: undefined, data: {} };
    return { text: '', data: undefined };
  }
  if (text.trim() === '') return { text, data: {} };
  try {
    const parsed: unknown = JSON.parse(text);
    return { text, data: isObject(parsed) ? parsed : undefined };
  } catch {
    return { text, data: undefined };
  }
}

/** Every entry stored (an unreadable file: none). */
export async function readMcpAuth(file: string = mcpAuthFile()): Promise<Record<string, McpAuthEntry>> {
  const { data } = await readRaw(file);
  const out: Record<string, McpAuthEntry> = {};
  for (const [name, value] of Object.entries(data ?? {})) {
    const entry = entryOf(value);
    if (entry) out[name] = entry;
  }
  return out;
}

/** The server's entry, when it was made for `url` (OpenCode's getForUrl). */
export async function mcpAuthFor(name: string, url: string, file: string = mcpAuthFile()): Promise<McpAuthEntry | undefined> {
  const entry = (await readMcpAuth(file))[name];
  return entry?.serverUrl === url ? entry : undefined;
}

/** Whether the stored tokens are past their expiry. */
export function tokensExpired(tokens: McpAuthTokens, nowMs: number = Date.now()): boolean {
  return tokens.expiresAt !== undefined && tokens.expiresAt < nowMs / 1000;
}

const queues = new Map<string, Promise<unknown>>();

/**
 * Changes one server's entry: `change` gets it (undefined when there is none) and answers the new
 * one, or undefined to remove it. Nothing is written when the entry is unchanged.
 */
export function updateMcpAuth(name: string, change: (entry: McpAuthEntry | undefined) => McpAuthEntry | undefined, file: string = mcpAuthFile()): Promise<void> {
  const run = async (): Promise<void> => {
    const { text, data, tooLarge } = await readRaw(file);
    if (!data) {
      const what = tooLarge ? 'is larger than 1 MiB' : 'is not a JSON object (or cannot be read)';
      throw new PantheonError('STORE_ERROR', `The MCP credential store ${file} ${what}; it was left untouched.`, {
        hint: 'Fix the file by hand or move it aside, then run `opencode mcp auth NAME` again.',
      });
    }
    const next = change(Object.hasOwn(data, name) ? entryOf(data[name]) : undefined);
    const out = { ...data };
    if (next === undefined) {
      if (!Object.hasOwn(data, name)) return;
      delete out[name];
    } else {
      // Fields OpenCode keeps that Pantheon does not know (a flow of OpenCode's in progress) stay.
      const before = isObject(data[name]) ? (data[name] as Record<string, unknown>) : {};
      const merged: Record<string, unknown> = { ...before, ...next };
      for (const key of ['tokens', 'clientInfo', 'serverUrl'] as const) if (next[key] === undefined) delete merged[key];
      out[name] = merged;
    }
    const written = JSON.stringify(out, null, 2);
    if (written === text) return;
    await writePrivateFile(file, written);
  };
  const guarded = () => withStoreLock(file, run);
  const previous = queues.get(file) ?? Promise.resolve();
  const done = previous.then(guarded, guarded);
  const settled = done.catch(() => undefined);
  queues.set(file, settled);
  void settled.then(() => {
    if (queues.get(file) === settled) queues.delete(file);
  });
  return done;
}

/** Removes the server's entry; true when there was one. */
export async function removeMcpAuth(name: string, file: string = mcpAuthFile()): Promise<boolean> {
  let had = false;
  await updateMcpAuth(
    name,
    (entry) => {
      had = entry !== undefined;
      return undefined;
    },
    file,
  );
  return had;
}
