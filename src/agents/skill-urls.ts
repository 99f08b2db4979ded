/**
 * OpenCode's `skills.urls`: registries of skills on the web. Each URL serves an `index.json`
 * (`{skills: [{name, files, version?}]}`) and each skill's files under `<url>/<name>/` (`SKILL.md`
 * among them). They are downloaded into Pantheon's cache, a folder per registry
 * (`$XDG_CACHE_HOME/pantheon/skills/<hash of the URL>/<name>/`), which the skill discovery then
 * reads like any folder of skills (skills.ts).
 *
 * - The index is read again when the copy is older than INDEX_TTL_MS (not at every run: a run
 *   should not wait on the network for its tool list); offline, the copy is used as it is.
 * - A new skill, or one whose `version` changed, is downloaded whole into a folder beside, which
 *   then takes its place (a skill is never half there); a kept one of the same version gets the
 *   files it is missing. A skill no longer in the index is removed.
 * - Hostile indexes are bounded: names are single path segments, files relative paths inside the
 *   skill's folder on the registry's own origin, counts and sizes capped, each request timed out.
 *   A skill that breaks a rule is skipped whole.
 * - One download per registry at a time, shared by whoever asks meanwhile (a server's concurrent
 *   turns); it stops when nobody waits for it any more (every turn that asked was cancelled) or the
 *   process abandons it (a server stopping, a command that is done: background-work.ts). A stopped
 *   download leaves the copy as it was (its index not marked read), and is tried again next time.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fetchableUrl } from '../basic-auth.ts';
import { startBackgroundWork, type BackgroundWork } from '../background-work.ts';
import { debugNote } from '../debug-note.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { cacheDir } from '../paths.ts';
import { randomBytes } from '../random-bytes.ts';
import { makeDir } from '../make-dir.ts';

/** How long a registry's index is used before it is read again. */
export const INDEX_TTL_MS = 10 * 60_000;
const TIMEOUT_MS = 10_000;
const MAX_URLS = 20;
const SKILL_CONCURRENCY = 4;
const MAX_SKILLS = 100;
const MAX_FILES = 100;
const MAX_INDEX_BYTES = 1024 * 1024;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const STAMP = '.index.json';

export interface PullOptions {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  /** The asker stops waiting when it is aborted (the download goes on while others wait for it). */
  signal?: AbortSignal;
}

interface IndexSkill {
  name: string;
  files: string[];
  version?: string;
}

/** A single path segment that names a folder of its own. */
function safeSegment(value: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(value);
}

/** A relative path of safe segments (no `..`, no absolute path or URL, no query). */
function safeFile(value: string): boolean {
  if (value.length === 0 || value.length > 512 || /[\\?#:\p{Cc}]/u.test(value) || value.startsWith('/')) return false;
  return value.split('/').every((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false;
    }
    return decoded.length > 0 && decoded !== '.' && decoded !== '..' && !/[/\\\p{Cc}]/u.test(decoded);
  });
}

/** The index's skills that keep every rule (the others are left out, said with --debug). */
function skillsOf(body: unknown, url: string): { skills: IndexSkill[]; skipped: number } {
  const list = (body as { skills?: unknown } | null)?.skills;
  if (!Array.isArray(list)) throw new Error('the index has no "skills" list');
  const out: IndexSkill[] = [];
  let skipped = Math.max(0, list.length - MAX_SKILLS);
  for (const item of list.slice(0, MAX_SKILLS)) {
    const { name, files, version } = (item ?? {}) as { name?: unknown; files?: unknown; version?: unknown };
    const ok =
      typeof name === 'string' &&
      safeSegment(name) &&
      Array.isArray(files) &&
      files.length <= MAX_FILES &&
      files.every((f) => typeof f === 'string' && safeFile(f)) &&
      files.includes('SKILL.md') &&
      (version === undefined || typeof version === 'string') &&
      !out.some((s) => s.name === name);
    if (ok) out.push({ name, files: files as string[], ...(version === undefined ? {} : { version: version as string }) });
    else {
      skipped += 1;
      debugNote(`skills.urls ${shownUrl(url)}: an index entry was skipped (${SKIPPED_WHY})`);
    }
  }
  return { skills: out, skipped };
}

/** Why an index entry is skipped, in a few words. */
export const SKIPPED_WHY = 'a name or file that is not a plain relative path, no SKILL.md, a name given twice, or over 100 files';

/** A registry's index as read: its base URL, the skills that keep every rule, how many entries did not. */
export interface RegistryIndex {
  base: URL;
  skills: IndexSkill[];
  skipped: number;
}

/** Reads a registry's `index.json` (bounded in size and time); throws with a short reason. */
export async function readIndex(url: string, fetcher: typeof globalThis.fetch = globalThis.fetch, timeoutMs = TIMEOUT_MS, signal?: AbortSignal): Promise<RegistryIndex> {
  const base = new URL(url.endsWith('/') ? url : `${url}/`);
  const text = Buffer.from(await fetchBytes(new URL('index.json', base).href, MAX_INDEX_BYTES, fetcher, timeoutMs, signal)).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error('the index is not JSON');
  }
  return { base, ...skillsOf(body, url) };
}

/** The body of `url`, at most `limit` bytes (else an error). */
async function fetchBytes(url: string, limit: number, fetcher: typeof globalThis.fetch, timeoutMs = TIMEOUT_MS, stop?: AbortSignal): Promise<Uint8Array> {
  // A registry behind HTTP Basic (`https://user:token@host/skills`): fetch takes no credentials in
  // the URL, so they go in the header.
  const { href, headers } = fetchableUrl(new URL(url));
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await fetcher(href, { signal: stop ? AbortSignal.any([stop, timeout]) : timeout, headers });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length'));
  if (declared > limit) throw new Error(`larger than ${limit} bytes`);
  const chunks: Uint8Array[] = [];
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  let size = 0;
  for (;;) {
    const read = await reader.read();
    if (read.done) break;
    size += read.value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`larger than ${limit} bytes`);
    }
    chunks.push(read.value);
  }
  return Buffer.concat(chunks);
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** Downloads a skill's files into `dir`: every one (`all`), or those missing. */
async function download(skill: IndexSkill, base: URL, dir: string, all: boolean, fetcher: typeof globalThis.fetch, stop: AbortSignal): Promise<void> {
  const skillUrl = new URL(`${encodeURIComponent(skill.name)}/`, base);
  for (const file of skill.files) {
    const target = path.join(dir, ...file.split('/').map((s) => decodeURIComponent(s)));
    if (!target.startsWith(dir + path.sep)) throw new Error(`${file}: outside the skill's folder`);
    if (!all && (await exists(target))) continue;
    const source = new URL(file, skillUrl);
    if (source.origin !== base.origin) throw new Error(`${file}: on another origin`);
    const bytes = await fetchBytes(source.href, MAX_FILE_BYTES, fetcher, TIMEOUT_MS, stop);
    await makeDir(path.dirname(target));
    await writeFileAtomic(target, bytes);
  }
}

/** One skill brought up to date in `root`; a failure leaves what was there. */
async function pullSkill(skill: IndexSkill, base: URL, root: string, fetcher: typeof globalThis.fetch, stop: AbortSignal): Promise<void> {
  const dir = path.join(root, skill.name);
  const versionFile = path.join(dir, '.version');
  const current = await fs.readFile(versionFile, 'utf8').catch(() => undefined);
  const had = await exists(dir);
  // Kept already, of the same version: only what is missing.
  if (had && (skill.version === undefined || skill.version === current)) return download(skill, base, dir, false, fetcher, stop);
  // New, or a new version: downloaded whole beside, then put in place (a skill is never half there).
  const staging = path.join(root, `.staging-${skill.name}-${randomBytes(6).toString('hex')}`);
  try {
    await download(skill, base, staging, true, fetcher, stop);
    stop.throwIfAborted();
    if (skill.version !== undefined) await writeFileAtomic(path.join(staging, '.version'), skill.version);
    const old = path.join(root, `.old-${skill.name}-${randomBytes(6).toString('hex')}`);
    if (had) await fs.rename(dir, old);
    await fs.rename(staging, dir);
    if (had) await fs.rm(old, { recursive: true, force: true });
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/** Reads the registry's index and brings its skills in `root` up to date; `stop` ends it where it is (the index then not marked read). */
async function refresh(url: string, root: string, fetcher: typeof globalThis.fetch, stop: AbortSignal): Promise<void> {
  const { base, skills } = await readIndex(url, fetcher, TIMEOUT_MS, stop);
  await makeDir(root);
  // A few skills at a time.
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < skills.length && !stop.aborted; i = next++) {
      const skill = skills[i] as IndexSkill;
      await pullSkill(skill, base, root, fetcher, stop).catch((error: unknown) => {
        if (stop.aborted) return;
        debugNote(`skills.urls ${shownUrl(url)}: the skill "${skill.name}" could not be downloaded: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
  };
  await Promise.all(Array.from({ length: SKILL_CONCURRENCY }, worker));
  // Stopped: what was brought up to date stays, the rest is done next time.
  stop.throwIfAborted();
  // What the index no longer lists goes (and leftovers of interrupted downloads).
  const keep = new Set(skills.map((s) => s.name));
  for (const entry of await fs.readdir(root, { withFileTypes: true })) {
    if (entry.isDirectory() && !keep.has(entry.name)) await fs.rm(path.join(root, entry.name), { recursive: true, force: true });
  }
  await writeFileAtomic(path.join(root, STAMP), JSON.stringify({ url, skills }));
}

/** A registry's URL as shown (notes, doctor): its user name and password masked. */
export function shownUrl(url: string): string {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return parsed.href;
  parsed.username = '***';
  parsed.password = '';
  return parsed.href;
}

/** A `skills.urls` entry Pantheon reads: an http(s) URL of printable characters. */
export function isRegistryUrl(url: unknown): url is string {
  return typeof url === 'string' && /^https?:\/\/[^\s\p{Cc}]+$/iu.test(url) && URL.canParse(url);
}

/** The folder a registry's skills are kept in. */
export function registryFolder(url: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'skills', createHash('sha256').update(url).digest('hex').slice(0, 16));
}

/**
 * The folders of skill folders for the config's `skills.urls` (http and https URLs; others are
 * left out), each brought up to date first when its index is older than INDEX_TTL_MS.
 */
export async function registryFolders(urls: readonly unknown[], options: PullOptions = {}): Promise<string[]> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const fetcher = options.fetch ?? globalThis.fetch;
  const wanted = [...new Set(urls.filter(isRegistryUrl))].slice(0, MAX_URLS);
  return Promise.all(
    wanted.map(async (url) => {
      const root = registryFolder(url, env);
      const stamp = await fs.stat(path.join(root, STAMP)).catch(() => undefined);
      if (!stamp || now() - stamp.mtimeMs >= INDEX_TTL_MS) await waitFor(sharedDownload(url, root, fetcher), options.signal);
      return root;
    }),
  );
}

/** A registry's download under way: whoever waits for it, and how it is stopped. */
interface Download {
  done: Promise<void>;
  work: BackgroundWork;
  /** Askers waiting (one without a signal of its own waits until it ends, or until the process abandons it). */
  waiters: number;
}

/** Downloads under way, by the registry's folder: one at a time, shared by those who ask meanwhile. */
const downloads = new Map<string, Download>();

function sharedDownload(url: string, root: string, fetcher: typeof globalThis.fetch): Download {
  const known = downloads.get(root);
  // (A download stopped but not ended yet is not joined: a new one starts.)
  if (known && !known.work.signal.aborted) return known;
  const work = startBackgroundWork();
  const done = refresh(url, root, fetcher, work.signal)
    .catch((error: unknown) => {
      const why = work.signal.aborted && work.signal.reason instanceof Error ? `stopped: ${work.signal.reason.message}` : error instanceof Error ? error.message : String(error);
      debugNote(`skills.urls ${shownUrl(url)}: ${why}; the skills kept from before are used`);
    })
    .finally(() => {
      work.done();
      if (downloads.get(root) === entry) downloads.delete(root);
    });
  const entry: Download = { done, work, waiters: 0 };
  downloads.set(root, entry);
  return entry;
}

/** The download's end, or the asker's cancel (its reason): the last asker to leave stops the download. */
function waitFor(download: Download, signal: AbortSignal | undefined): Promise<void> {
  download.waiters += 1;
  if (!signal) return download.done;
  return new Promise<void>((resolve, reject) => {
    const leave = () => {
      download.waiters -= 1;
      if (download.waiters === 0) download.work.abort('nobody waits for it');
      const reason: unknown = signal.reason;
      reject(reason instanceof Error ? reason : new Error('The turn was cancelled.'));
    };
    if (signal.aborted) return leave();
    signal.addEventListener('abort', leave, { once: true });
    void download.done.then(() => {
      signal.removeEventListener('abort', leave);
      download.waiters -= 1;
      resolve();
    });
  });
}
