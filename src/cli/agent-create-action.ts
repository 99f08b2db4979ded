/**
 * `opencode agent create [--path DIR] [--description TEXT] [--mode all|primary|subagent]
 * [--permissions LIST] [-m provider/model]`, OpenCode's command: a model writes the agent (one
 * request through the scheduler, src/agents/generate-agent.ts) and the file goes to
 * `DIR/agents/<identifier>.md` (`.opencode/agents/` of the project, or the global config folder's
 * `agents/`), never over an existing file. On a terminal, what the flags leave out is asked;
 * elsewhere it is a usage error naming the flags.
 */
import path from 'node:path';
import { AGENT_PERMISSIONS, agentMarkdown, generateAgent } from '../agents/generate-agent.ts';
import { agentNames } from '../agents/resolve-agent.ts';
import { loadConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import { writeFileNew } from '../fs-atomic.ts';
import { globalConfigDir } from '../paths.ts';
import type { AgentCreateArgs } from './commands/agent.ts';
import { oneValue } from './one-value.ts';
import { printErr, printOut } from './print.ts';
import { askLine, cancelledWith, promptTerminal, type PromptTerminal } from './terminal-prompt.ts';

const MODES = ['all', 'primary', 'subagent'] as const;

type Terminal = PromptTerminal;
const terminal = promptTerminal;
const cancelled = cancelledWith('Agent creation cancelled; nothing was written.');
const askText = (tty: Terminal, question: string): Promise<string> => askLine(tty, question, cancelled);

async function choose<T extends string>(tty: Terminal, message: string, choices: { value: T; name: string; description?: string }[]): Promise<T> {
  const { default: select } = await import('@inquirer/select');
  try {
    return await select({ message, choices }, tty);
  } catch (error) {
    return cancelled(error);
  }
}

/** `--permissions a,b` (empty: all) as the list allowed; an unknown name is a usage error. */
function permissionList(text: string): string[] {
  if (!text.trim()) return [...AGENT_PERMISSIONS];
  const names = text.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(AGENT_PERMISSIONS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new PantheonError('USAGE', `--permissions: expected names from ${AGENT_PERMISSIONS.join(', ')}, found "${unknown[0]}".`, { hint: 'List the permissions to allow, comma-separated (the others are denied); give it empty to allow all.' });
  }
  return names;
}

export async function agentCreate(args: AgentCreateArgs): Promise<void> {
  const dirFlag = oneValue(args.path, '--path', 'folder', 'Give --path once.');
  const descriptionFlag = oneValue(args.description, '--description', 'description', 'Give --description once.');
  const modeFlag = oneValue(args.mode, '--mode', 'mode', 'Give --mode once.');
  const permissionsFlag = oneValue(args.permissions, '--permissions', 'list', 'Give --permissions once, comma-separated.');
  const modelFlag = oneValue(args.model, '--model', 'model', 'Give --model once.');
  if (descriptionFlag !== undefined && !descriptionFlag.trim()) throw new PantheonError('USAGE', '--description: expected what the agent should do, found nothing.', { hint: 'For example --description "reviews pull requests for security problems".' });
  const allowedFlag = permissionsFlag === undefined ? undefined : permissionList(permissionsFlag);
  const missing = [dirFlag === undefined ? '--path' : '', descriptionFlag === undefined ? '--description' : '', modeFlag === undefined ? '--mode' : '', permissionsFlag === undefined ? '--permissions' : ''].filter(Boolean);
  const tty = missing.length > 0 ? terminal() : undefined;
  if (missing.length > 0 && !tty) {
    throw new PantheonError('USAGE', `agent create: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} required when there is no terminal to ask on.`, {
      hint: 'For example: opencode agent create --path .opencode --description "reviews code" --mode subagent --permissions read,grep,glob (see `opencode agent create --help`).',
    });
  }
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  const model = modelFlag ?? (typeof loaded.config.model === 'string' ? loaded.config.model : undefined);
  if (!model) throw new PantheonError('USAGE', 'agent create: no model to write the agent with.', { hint: 'Pass -m provider/model, or set "model" in opencode.json.' });

  let dir: string;
  if (dirFlag !== undefined) dir = path.resolve(dirFlag);
  else {
    const project = path.join(loaded.projectRoot, '.opencode');
    dir = await choose(tty as Terminal, 'Location', [
      { value: project, name: 'Current project', description: project },
      { value: globalConfigDir(), name: 'Global', description: globalConfigDir() },
    ]);
  }
  const description = descriptionFlag ?? (await askText(tty as Terminal, 'What should this agent do? '));
  if (!description) throw new PantheonError('USAGE', 'agent create: a description is required.', { hint: 'Say what the agent should do, or pass --description.' });

  printErr(`Generating the agent with ${model}…\n`);
  const { openRuntime } = await import('../run/runtime.ts');
  const runtime = await openRuntime(loaded.config);
  const controller = new AbortController();
  const onSignal = () => controller.abort(new PantheonError('CANCELLED', 'Interrupted; nothing was written.'));
  process.once('SIGINT', onSignal);
  let agent;
  try {
    agent = await generateAgent(loaded.config, runtime, model, description, agentNames(loaded.config), controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    await runtime.close();
  }
  printErr(`Agent ${agent.identifier} generated.\n`);

  const allowed =
    allowedFlag ??
    permissionList(await askText(tty as Terminal, `Permissions to allow, comma-separated (Enter for all: ${AGENT_PERMISSIONS.join(', ')}): `));
  const mode =
    modeFlag ??
    (await choose(tty as Terminal, 'Agent mode', [
      { value: 'all', name: 'All', description: 'Can function in both primary and subagent roles' },
      { value: 'primary', name: 'Primary', description: 'Acts as a primary/main agent' },
      { value: 'subagent', name: 'Subagent', description: 'Can be used as a subagent by other agents' },
    ]));
  if (!(MODES as readonly string[]).includes(mode)) throw new PantheonError('USAGE', `--mode: expected one of ${MODES.join(', ')}, found ${mode}.`, { hint: 'See `opencode agent create --help`.' });
  const file = path.join(dir, 'agents', `${agent.identifier}.md`);
  try {
    await writeFileNew(file, agentMarkdown(agent, mode, allowed));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new PantheonError('FILE_EXISTS', `Agent file already exists: ${file}; it was left as it is.`, { hint: 'Move or delete it first, or describe the agent differently so that it gets another name.' });
    }
    throw error;
  }
  printOut(`${file}\n`);
  printErr(`next: \`opencode agent show ${agent.identifier}\` shows it as a run will use it.\n`);
}
