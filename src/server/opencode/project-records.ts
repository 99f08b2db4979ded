/**
 * What OpenCode's apps set on a project (`PATCH /project/{projectID}`): its name, icon and start
 * command, kept by project id in `$XDG_DATA_HOME/pantheon/projects.json` (written atomically, one
 * change at a time) and shown in every Project the server answers.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../fs-atomic.ts';
import { stateDir } from '../../paths.ts';

export interface ProjectIcon {
  url?: string;
  override?: string;
  color?: string;
}

export interface ProjectRecord {
  name?: string;
  icon?: ProjectIcon;
  commands?: { start?: string };
  /** When it was last changed (ms). */
  updated: number;
}

/** Projects kept at most (the least recently changed go first beyond that). */
const MAX_RECORDS = 1000;

let writing: Promise<unknown> = Promise.resolve();

function recordsFile(env: NodeJS.ProcessEnv): string {
  return path.join(stateDir(env), 'projects.json');
}

/** Every project's record; none when the file is missing or unreadable (a broken file is replaced on the next change). */
export async function readProjectRecords(env: NodeJS.ProcessEnv): Promise<Record<string, ProjectRecord>> {
  let text: string;
  try {
    text = await fs.readFile(recordsFile(env), 'utf8');
  } catch {
    return {};
  }
  try {
    const data = JSON.parse(text) as unknown;
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (Object.assign(Object.create(null), data) as Record<string, ProjectRecord>) : {};
  } catch {
    return {};
  }
}

export interface ProjectChange {
  name?: string | null;
  icon?: { url?: string | null; override?: string | null; color?: string | null } | null;
  commands?: { start?: string | null } | null;
}

/** `value` without its null and undefined fields; undefined when none is left. */
function compact<T extends object>(value: T): T | undefined {
  const out = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as T;
  return Object.keys(out).length ? out : undefined;
}

/** Applies a change to a project's record (`null` clears a field) and returns the record. */
export function changeProjectRecord(env: NodeJS.ProcessEnv, id: string, change: ProjectChange, now: number): Promise<ProjectRecord> {
  const run = async () => {
    const records = await readProjectRecords(env);
    const was = records[id];
    const next: ProjectRecord = { updated: now };
    const name = change.name === undefined ? was?.name : (change.name ?? undefined);
    if (name !== undefined) next.name = name;
    const icon = change.icon === undefined ? was?.icon : change.icon === null ? undefined : compact({ ...was?.icon, ...change.icon });
    if (icon) next.icon = icon as ProjectIcon;
    const commands = change.commands === undefined ? was?.commands : change.commands === null ? undefined : compact({ ...was?.commands, ...change.commands });
    if (commands) next.commands = commands as { start?: string };
    records[id] = next;
    const kept = Object.entries(records)
      .sort(([, a], [, b]) => b.updated - a.updated)
      .slice(0, MAX_RECORDS);
    await writeFileAtomic(recordsFile(env), `${JSON.stringify(Object.fromEntries(kept), null, 2)}\n`, 0o600);
    return next;
  };
  const mine = writing.then(run, run);
  writing = mine.catch(() => undefined);
  return mine;
}
