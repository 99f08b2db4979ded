/**
 * The `skill` tool (OpenCode's): the system prompt lists the skills a run can load (agents/skills.ts,
 * run/system-prompt.ts), and the tool's description, OpenCode's, points there; called with a name, it answers with that skill's instructions and
 * the folder they are in (so the model can read the files they name), as OpenCode loads a skill.
 * Behind the agent's `skill` permission, by skill name.
 */
import { opencodeDescription } from '../tools/opencode-tools.ts';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Tool } from 'ai';
import { MAX_SKILL_BYTES, type Skill } from '../agents/skills.ts';
import { splitFrontmatter } from '../config/markdown-layers.ts';
import { authorize, type PermissionContext } from '../permissions/authorize.ts';

interface SkillInput {
  name: string;
}

export const SKILL_INPUT_SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string', description: 'The name of the skill from available_skills' } },
  required: ['name'],
  additionalProperties: false,
} as const;

/** The tool's description, OpenCode 1.18's (the skills are listed in the system prompt; GET /api/v1/tools shows it). */
/** OpenCode's description of `skill` (data/opencode-tools/). */
export function skillDescription(): string {
  return opencodeDescription('skill');
}

/** OpenCode's `skill` metadata, the skill's name and folder, read back from this tool's answer (below). */
export function skillFacts(output: string): { name: string; dir: string } | undefined {
  const name = /^<skill_content name="([^"\n]*)">\n/.exec(output)?.[1];
  const dir = /\nBase directory for this skill: ([^\n]*)\n<\/skill_content>$/.exec(output)?.[1];
  return name === undefined || dir === undefined ? undefined : { name, dir };
}

export async function createSkillTool(skills: readonly Skill[], permission: PermissionContext): Promise<Tool> {
  const { tool, jsonSchema } = await import('../ai-sdk.ts');
  return tool({
    description: skillDescription(),
    inputSchema: jsonSchema<SkillInput>(SKILL_INPUT_SCHEMA as never),
    execute: async (input) => {
      const name = typeof (input as Partial<SkillInput> | null)?.name === 'string' ? (input as SkillInput).name : undefined;
      const skill = name === undefined ? undefined : skills.find((s) => s.name === name);
      if (!skill) throw new Error(`no skill named ${JSON.stringify(String(name ?? '').slice(0, 80))}; the skills are: ${skills.map((s) => s.name).join(', ')}`);
      await authorize(permission, { key: 'skill', subject: skill.name, question: `Allow loading the skill ${skill.name}?` });
      const stat = await fs.stat(skill.file);
      if (stat.size > MAX_SKILL_BYTES) throw new Error(`the skill ${skill.name} is over ${MAX_SKILL_BYTES} bytes`);
      const { body } = splitFrontmatter(await fs.readFile(skill.file, 'utf8'));
      return [`<skill_content name="${skill.name}">`, `# Skill: ${skill.name}`, '', body.trim(), '', `Base directory for this skill: ${path.dirname(skill.file)}`, '</skill_content>'].join('\n');
    },
  });
}
