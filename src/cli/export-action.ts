/**
 * `opencode export [sessionID] [--sanitize]`: a session as OpenCode's `opencode export` prints it —
 * `{info, messages: [{info, parts}]}`, the shapes of the server's `GET /session/{id}` and
 * `GET /session/{id}/message` — on stdout; without an id, the newest session of this project.
 * `--sanitize` redacts what was said and read (session/export-sanitize.ts).
 */
import { PantheonError } from '../errors.ts';
import { openCodeMessages } from '../server/opencode/message-view.ts';
import { openCodeSession } from '../server/opencode/session-view.ts';
import { sanitizeExport } from '../session/export-sanitize.ts';
import { projectRootOf } from '../session/project-root.ts';
import { SessionStore } from '../session/store.ts';
import type { ExportArgs } from './commands/export.ts';
import { printErr, printJson } from './print.ts';
import { safeLine } from './terminal-text.ts';
import { version } from './version.ts';

export async function exportSession(args: ExportArgs): Promise<void> {
  const store = SessionStore.open(process.env);
  let id = args.sessionID;
  if (id === undefined) {
    const projectRoot = await projectRootOf(process.cwd());
    const { sessions } = await store.list({ projectRoot });
    const newest = sessions.filter((s) => s.parentID === undefined).sort((a, b) => b.updatedAt - a.updatedAt)[0];
    if (!newest) {
      throw new PantheonError('USAGE', `No sessions in ${projectRoot} to export.`, { hint: 'Name one: `opencode export ses_…` (`opencode session list --all` lists every project\'s).' });
    }
    id = newest.id;
  }
  printErr(`Exporting session: ${safeLine(id)}\n`);
  const record = await store.load(id);
  const doc = { info: openCodeSession(record, version), messages: openCodeMessages(record) };
  const out = args.sanitize ? sanitizeExport(doc as unknown as Parameters<typeof sanitizeExport>[0]) : doc;
  printJson(out, 2);
}
