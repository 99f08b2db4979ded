/**
 * What a command name means, the one answer for `opencode run --command NAME` (local or
 * `--attach`ed) and OpenCode's `POST /session/{id}/command`: the config's command of that name
 * (`command.<name>`, a markdown file of a `command/` folder), else OpenCode's built-in `init` or
 * `review` (builtin-commands.ts), else a skill of the project as a command, as OpenCode 1.18 runs
 * one (its instructions and folder, see skillTemplate). A name that is none of them is a usage error
 * naming the closest one ("did you mean": the MCP servers' prompts, `server:prompt`, are among them
 * when the caller can list them) and listing them (the first MAX_LISTED, and how many more).
 */
import path from 'node:path';
import { MAX_SKILL_BYTES, skillsFor } from '../../agents/skills.ts';
import { safeLine } from '../../cli/terminal-text.ts';
import { closestMatch } from '../../config/did-you-mean.ts';
import { splitFrontmatter } from '../../config/markdown-layers.ts';
import { readTextFile } from '../../config/read-text.ts';
import type { Config } from '../../config/schema-types.ts';
import { PantheonError } from '../../errors.ts';
import { withBuiltinCommands } from './builtin-commands.ts';

/**
 * A skill's command template, as OpenCode makes it:
 *
 *     <SKILL.md's text after its frontmatter>
 *
 *     Base directory for this skill: /abs/.opencode/skill/demo
 *     Relative paths in this skill (e.g., scripts/, references/) are relative to this base directory.
 */
export function skillTemplate(body: string, dir: string): string {
  return [body, '', `Base directory for this skill: ${dir}`, 'Relative paths in this skill (e.g., scripts/, references/) are relative to this base directory.'].join('\n');
}

/**
 * Whether the skill `name` is offered as a command: no command of `config` (built-ins added) has its
 * name, and it holds no control characters (it could not be typed after `/`, and a terminal would act on them).
 */
export function skillOffered(name: string, config: Readonly<Config>): boolean {
  return !Object.hasOwn(config.command ?? {}, name) && safeLine(name) === name;
}

type SkillsConfig = { skills?: { paths?: unknown; urls?: unknown } };

/**
 * The config with the built-in commands beside its own and, when `name` is a skill no command
 * names, that skill as a command: what expandCommand (run/command-template.ts) and commandSubtask
 * read. `what` names where the name came from in the error (`--command`, `body field "command"`).
 */
export async function resolveCommand(config: Readonly<Config>, projectRoot: string, env: NodeJS.ProcessEnv, name: string, what = '--command', prompts?: () => Promise<readonly string[]>): Promise<Readonly<Config>> {
  const withBuiltins = withBuiltinCommands(config, projectRoot);
  if (Object.hasOwn(withBuiltins.command ?? {}, name)) return withBuiltins;
  const skills = (await skillsFor(projectRoot, env, config as SkillsConfig)).filter((s) => skillOffered(s.name, withBuiltins));
  const skill = skills.find((s) => s.name === name);
  const text = skill && (await readTextFile(skill.file, MAX_SKILL_BYTES).catch(() => undefined));
  if (skill && text !== undefined) {
    const command = { template: skillTemplate(splitFrontmatter(text).body, path.dirname(skill.file)), description: skill.description };
    return { ...withBuiltins, command: { ...withBuiltins.command, [name]: command } as Config['command'] };
  }
  // Built-ins first, then the config's in its order, then the MCP prompts, then the skills: as `GET /command` lists them.
  const commands = Object.keys(withBuiltins.command ?? {});
  const mcp = ((await prompts?.().catch(() => [])) ?? []).filter((n) => !commands.includes(n));
  const names = [...commands, ...mcp, ...skills.map((s) => s.name).filter((n) => !mcp.includes(n))].filter((n) => safeLine(n) === n);
  const closest = closestMatch(name, names);
  const listed = names.length > MAX_LISTED ? `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more` : names.join(', ');
  throw new PantheonError('USAGE', `${what}: no command named "${name}"${closest === undefined ? '.' : `; did you mean "${closest}"?`}`, {
    hint: `Commands: ${listed}. Define one under "command" in opencode.json, or as a markdown file in .opencode/command/${mcp.length ? '; an MCP server’s prompt is run as `server:prompt`' : ''}.`,
  });
}

/** The most command names an unknown command's hint lists (a server may offer hundreds of prompts). */
export const MAX_LISTED = 40;
