/**
 * `command.execute.before`: a command's parts as OpenCode hands them to the plugins before the turn
 * (its expanded template as a text part and the files its `@path` mentions as file parts; or, for a
 * command that runs as a sub-task, one `subtask` part), changed in place; back, the turn's text,
 * attachments and sub-task as the hooks left them. A part a hook adds that Pantheon cannot send (a
 * file part of its own, an agent part) is left out.
 */
import type { CommandSubtask } from '../run/run-task.ts';
import type { InlineFile } from '../run/user-content.ts';
import { partId, newMessageId } from '../session/ids.ts';
import { PluginHookError, runHook } from './hook-error.ts';
import type { PluginHost } from './types.ts';

/** A file a command sends: a server's read file (InlineFile), or a local run's path. */
type Attached = Pick<InlineFile, 'name' | 'mediaType' | 'url'>;

/** A command made ready for its turn (server/command-input.ts's CommandInput; a local run's text, files and sub-task). */
export interface CommandTurn<A extends Attached = InlineFile> {
  text: string;
  agent?: string;
  model?: string;
  attachments: A[];
  subtask?: CommandSubtask;
}

export async function commandHook<A extends Attached>(host: PluginHost, call: { command: string; sessionID: string; arguments: string }, given: CommandTurn<A>, signal?: AbortSignal): Promise<CommandTurn<A>> {
  const messageID = newMessageId();
  const base = (i: number) => ({ id: partId(messageID, i), sessionID: call.sessionID, messageID });
  const files = new Map<string, A>();
  const model = given.model?.includes('/') ? { providerID: given.model.slice(0, given.model.indexOf('/')), modelID: given.model.slice(given.model.indexOf('/') + 1) } : undefined;
  const parts: Record<string, unknown>[] = given.subtask
    ? [{ ...base(0), type: 'subtask', agent: given.subtask.agent, description: given.subtask.description, command: given.subtask.command, ...(model ? { model } : {}), prompt: given.subtask.prompt }]
    : [
        { ...base(0), type: 'text', text: given.text },
        ...given.attachments.map((file, i) => {
          const part = { ...base(i + 1), type: 'file', mime: file.mediaType ?? 'text/plain', filename: file.name, url: file.url ?? '' };
          files.set(part.id, file);
          return part;
        }),
      ];
  const out = await runHook(host, 'command.execute.before', call, { parts }, signal);
  if (!Array.isArray(out.parts)) throw new PluginHookError('command.execute.before', new Error('output.parts must be a list'));
  const texts: string[] = [];
  const attachments: A[] = [];
  let subtask: CommandSubtask | undefined;
  for (const part of out.parts) {
    if (part === null || typeof part !== 'object') continue;
    const p = part as { type?: unknown; text?: unknown; id?: unknown; agent?: unknown; prompt?: unknown; description?: unknown; command?: unknown; ignored?: unknown };
    if (p.ignored === true) continue;
    if (p.type === 'text' && typeof p.text === 'string') texts.push(p.text);
    else if (p.type === 'file' && typeof p.id === 'string' && files.has(p.id)) attachments.push(files.get(p.id) as A);
    else if (p.type === 'subtask' && typeof p.agent === 'string' && typeof p.prompt === 'string' && subtask === undefined) {
      subtask = { agent: p.agent, prompt: p.prompt, description: typeof p.description === 'string' ? p.description : '', command: typeof p.command === 'string' ? p.command : call.command };
    }
  }
  const { subtask: _given, ...rest } = given;
  return { ...rest, text: subtask ? subtask.prompt : texts.join('\n\n'), attachments, ...(subtask ? { subtask } : {}) };
}
