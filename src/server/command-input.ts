/**
 * A custom command (`command` of the config, `.opencode/command/*.md`) as a server turn's input,
 * for `POST /pantheon/run` (`run --attach --command`) and OpenCode's `POST /session/{id}/command`:
 * expanded in the session's project as a local `run --command` expands it (run/command-template.ts),
 * the files its `@path` mentions read and attached (checked inside the project again as they are
 * read, symlinks followed; one that left it since is not sent). An unknown command or one without a
 * template is the client's 400 naming the `command` field.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema-types.ts';
import { isPantheonError } from '../errors.ts';
import { expandCommand, realFileInProject } from '../run/command-template.ts';
import type { InlineFile } from '../run/user-content.ts';
import { HttpError } from './http-error.ts';

export interface CommandRequest {
  command: string;
  /** The command's arguments (may be empty). */
  arguments: string;
  /** The request's own agent and model, beneath the command's. */
  agent?: string | undefined;
  model?: string | undefined;
}

export async function commandInput(config: Readonly<Config>, request: CommandRequest, projectRoot: string): Promise<{ text: string; agent?: string; model?: string; attachments: InlineFile[] }> {
  let expanded;
  try {
    expanded = await expandCommand(config, request.command, request.arguments, projectRoot);
  } catch (error) {
    if (isPantheonError(error)) throw new HttpError(400, 'BAD_REQUEST', error.message, { ...(error.hint ? { hint: error.hint } : {}), details: { kind: 'Body', field: 'command' } });
    throw error;
  }
  const read = await Promise.all(
    expanded.files.map(async (file): Promise<InlineFile | undefined> => {
      const real = await realFileInProject(file, projectRoot);
      const data = real === undefined ? undefined : await fs.readFile(real).catch(() => undefined);
      const name = path.relative(projectRoot, file);
      return data === undefined ? undefined : { name, label: `@${name}`, data };
    }),
  );
  const attachments = read.filter((file) => file !== undefined);
  const agent = expanded.agent ?? request.agent;
  const model = expanded.model ?? request.model;
  return { text: expanded.message, ...(agent ? { agent } : {}), ...(model ? { model } : {}), attachments };
}
