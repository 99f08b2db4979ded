/**
 * Skills as commands, as OpenCode 1.18 lists and runs them: `GET /command` lists each skill
 * (agents/skills.ts) after the commands, as `{name, description, source: "skill", template, hints: []}`,
 * unless a command (the config's, or a built-in) has its name; `POST /session/{id}/command` runs one
 * as any command, its template being the skill's instructions and the folder they are in:
 *
 *     <SKILL.md's text after its frontmatter>
 *
 *     Base directory for this skill: /abs/.opencode/skill/demo
 *     Relative paths in this skill (e.g., scripts/, references/) are relative to this base directory.
 *
 * (expanded as a command's template is, so arguments with no placeholder for them follow it after an
 * empty line). OpenCode's TUI leaves them out of its `/` menu and lists them under `/skills`, whose
 * pick puts `/<name> ` in the prompt. A skill whose name holds control characters is not offered
 * (it could not be typed after `/`, and a terminal would act on them).
 */
import path from 'node:path';
import type { Config } from '../../config/schema-types.ts';
import { skillOffered, skillTemplate } from '../../core/commands/resolve-command.ts';
import { skillsWithContent } from './catalog-v2.ts';

export interface SkillCommand {
  name: string;
  description: string;
  template: string;
}

/**
 * The skills of the project as commands, those a command of `config` (built-ins added) does not
 * name, for `GET /command`: their texts as `GET /skill` reads them (a few MiB in all; past that a
 * skill's template has its folder only, and running it reads it whole).
 */
export async function skillCommands(config: Readonly<Config>, projectRoot: string, env: NodeJS.ProcessEnv): Promise<SkillCommand[]> {
  const skills = await skillsWithContent({ projectRoot, config }, env);
  return skills.flatMap((s) => {
    const name = String(s.name);
    return skillOffered(name, config) ? [{ name, description: String(s.description), template: skillTemplate(String(s.content), path.dirname(String(s.location))) }] : [];
  });
}
