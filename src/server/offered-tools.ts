/**
 * The tools Pantheon offers a model besides the MCP servers' ones: the built-in tools, `task`,
 * `todowrite` and `todoread`, `skill` when the project or the user has skills (a turn's system
 * prompt lists them), and the project's custom tools (OpenCode's plugins'). Listed by `GET /api/v1/tools` and OpenCode's `GET /experimental/tool`.
 */
import type { Instance } from '../core/instances.ts';
import { OPENCODE_BACKGROUND_NOTE, opencodeTaskDescription, TASK_INPUT_SCHEMA } from '../run/task-tool.ts';
import { TODOREAD_DESCRIPTION, TODOREAD_INPUT_SCHEMA, todowriteDescription, todowriteParameters } from '../run/todo-tools.ts';
import { BUILTIN_TOOLS } from '../tools/index.ts';

export interface OfferedTool {
  name: string;
  description: string;
  input_schema: object;
}

async function skillTool(found: Instance, env: NodeJS.ProcessEnv): Promise<OfferedTool | undefined> {
  const [{ skillsFor }, { skillDescription, SKILL_INPUT_SCHEMA }] = await Promise.all([import('../agents/skills.ts'), import('../run/skill-tool.ts')]);
  const skills = await skillsFor(found.projectRoot, env, found.config as { skills?: { paths?: unknown; urls?: unknown } });
  return skills.length ? { name: 'skill', description: skillDescription(), input_schema: SKILL_INPUT_SCHEMA } : undefined;
}

/** The tools of `found` but the MCP servers' ones, in the order /api/v1/tools lists them. */
export async function offeredTools(found: Instance, env: NodeJS.ProcessEnv): Promise<OfferedTool[]> {
  const [skill, custom] = await Promise.all([skillTool(found, env), customTools(found)]);
  // A custom tool of a built-in's name replaces it, as in a turn.
  const replaced = new Set(custom.map((t) => t.name));
  const own: OfferedTool[] = [
    ...Object.values(BUILTIN_TOOLS).map((t) => ({ name: t.name, description: t.description, input_schema: (t.parameters ?? t.inputSchema) as object })),
    // OpenCode's description (the agents a model may name are added per agent, when a turn offers the tool).
    { name: 'task', description: `${opencodeTaskDescription()}\n\n${OPENCODE_BACKGROUND_NOTE}`, input_schema: TASK_INPUT_SCHEMA },
    { name: 'todowrite', description: todowriteDescription(), input_schema: todowriteParameters() },
    { name: 'todoread', description: TODOREAD_DESCRIPTION, input_schema: TODOREAD_INPUT_SCHEMA },
    ...(skill ? [skill] : []),
  ];
  return [...own.filter((t) => !replaced.has(t.name)), ...custom];
}

/** The project's custom tools (`.opencode/tool/`, plugins' `tool` hooks), each with its args as JSON Schema; one whose args are not schemas is left out. */
async function customTools(found: Instance): Promise<OfferedTool[]> {
  if (!found.plugins || found.plugins.tools.size === 0) return [];
  const { argsSchema } = await import('../plugins/plugin-tools.ts');
  const listed: OfferedTool[] = [];
  for (const [name, def] of found.plugins.tools) {
    try {
      listed.push({ name, description: String(def.description), input_schema: argsSchema(name, def.args).schema });
    } catch {
      // Left out, as a turn leaves it out (with a debug note there).
    }
  }
  return listed;
}
