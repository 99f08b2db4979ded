/**
 * `opencode import <file | share link>`: a session exported by `opencode export` (OpenCode's or
 * Pantheon's), or the one behind an OpenCode share link (`https://…/share/<slug>`: its share data,
 * `GET /api/share/<slug>/data`), saved as a session of this project under its own id
 * (session/opencode-import.ts). A session of that id already here is left as it is. At most
 * MAX_IMPORT_BYTES are read; a link has FETCH_TIMEOUT_MS to answer.
 */
import fs from 'node:fs';
import { readTextFile, sizeText, TextFileError } from '../config/read-text.ts';
import { PantheonError } from '../errors.ts';
import { jsonFault } from '../json-fault.ts';
import { readCapped } from '../read-capped.ts';
import { exportFromShareData, importedSession } from '../session/opencode-import.ts';
import { projectRootOf } from '../session/project-root.ts';
import { SessionStore } from '../session/store.ts';
import type { ImportArgs } from './commands/import.ts';
import { printErr, printOut } from './print.ts';

/** Far above any real session (OpenCode's exports carry images as data URLs). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;
const SHARE_LINK = /^https?:\/\/[^/?#]+\/share\/([A-Za-z0-9_-]{1,200})\/?$/;
const HINT = 'Import a file written by `opencode export` (OpenCode\'s or Pantheon\'s), or an OpenCode share link (https://…/share/<id>).';

function parse(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PantheonError('USAGE', `${source} is not valid JSON (${jsonFault(error)}).`, { hint: HINT });
  }
}

async function readFile(file: string): Promise<unknown> {
  try {
    return parse(await readTextFile(file, MAX_IMPORT_BYTES), file);
  } catch (error) {
    if (!(error instanceof TextFileError)) throw error;
    throw new PantheonError('USAGE', `Cannot import ${file}: it ${error.reason}.`, { hint: HINT });
  }
}

async function readShare(link: string): Promise<unknown> {
  const slug = SHARE_LINK.exec(link)?.[1];
  if (!slug) throw new PantheonError('USAGE', `${link} is not a share link: expected https://<host>/share/<id>.`, { hint: HINT });
  const url = `${new URL(link).origin}/api/share/${slug}/data`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
  } catch (error) {
    const name = (error as Error).name;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = name === 'TimeoutError' ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new PantheonError('USAGE', `Cannot fetch the share data of ${link} (${why}).`, { hint: 'Check the link and the network, or export the session to a file and import that.' });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new PantheonError('USAGE', `Cannot fetch the share data of ${link}: ${url} answered ${response.status}.`, { hint: response.status === 404 ? 'The share may have been removed; check the link.' : 'Try again later, or export the session to a file and import that.' });
  }
  const body = await readCapped(response, MAX_IMPORT_BYTES, () =>
    new PantheonError('USAGE', `The share data of ${link} is larger than the ${sizeText(MAX_IMPORT_BYTES)} limit.`, { hint: 'Export the session to a file and import that.' }));
  const doc = exportFromShareData(parse(body.toString('utf8'), url));
  if (!doc) throw new PantheonError('USAGE', `The share ${slug} holds no session or no message.`, { hint: 'Check the link.' });
  return doc;
}

export async function importSession(args: ImportArgs): Promise<void> {
  const source = String(args.file);
  const doc = /^https?:\/\//i.test(source) ? await readShare(source) : await readFile(source);
  const store = SessionStore.open(process.env);
  const projectRoot = await projectRootOf(process.cwd());
  const record = importedSession(doc, { source, projectRoot, now: Date.now(), parentExists: (id) => fs.existsSync(store.fileOf(id)) });
  await store.update(record.id, (now) => {
    if (now.header) {
      throw new PantheonError('SESSION_EXISTS', `Session ${record.id} is here already; nothing was imported.`, {
        hint: `\`opencode session show ${record.id}\` shows it; delete it first (\`opencode session delete ${record.id}\`) to import it again.`,
      });
    }
    return record;
  });
  const turns = record.messages.filter((m) => m.role === 'user').length;
  printOut(`Imported session: ${record.id}\n`);
  printErr(`${turns} turn${turns === 1 ? '' : 's'} into ${projectRoot}; \`opencode run -s ${record.id} "…"\` continues it.\n`);
}
