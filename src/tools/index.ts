/**
 * The built-in tools (read, list, glob, grep, write, edit, bash, webfetch) as AI SDK tools, and a
 * direct way to run one. Every call checks its arguments against the tool's JSON Schema, resolves
 * paths inside the project root, and asks `permission` first; failures are thrown as errors whose
 * message is meant for the model (the AI SDK turns them into tool errors; the run goes on).
 */
import type { Tool } from 'ai';
import { isPermissionDenied } from '../permissions/authorize.ts';
import { mostSpecificMatch } from '../permissions/wildcard.ts';
import { BUILTIN_TOOLS, BUILTIN_TOOL_NAMES } from './builtin.ts';
import { questionTool } from './question.ts';
import { ensureScratchDir } from './scratch-dir.ts';
import { ToolError, isToolError } from './tool-error.ts';
import type { BuiltinTool, ToolContext } from './types.ts';
import { inputProblems } from './validate-input.ts';

export type { BuiltinTool, ToolContext } from './types.ts';
export { ToolError, isToolError } from './tool-error.ts';

export { BUILTIN_TOOLS, BUILTIN_TOOL_NAMES } from './builtin.ts';

/**
 * Whether `name` stays enabled under a `tools` map (`{name: bool}`, globs allowed as in
 * `"github_*": false`): the exact key wins, else the most specific matching glob; default on.
 */
export function isToolEnabled(name: string, enabled: Record<string, boolean> | undefined): boolean {
  if (!enabled) return true;
  if (Object.hasOwn(enabled, name)) return enabled[name] !== false;
  const key = mostSpecificMatch(
    name,
    Object.keys(enabled).filter((k) => k.includes('*') || k.includes('?')),
  );
  return key === undefined || enabled[key] !== false;
}

/** The context of one call: the call's own abort signal joined in, and its id (and input) when someone listens for its changes or may be asked about it. */
function forCall(ctx: ToolContext, signal: AbortSignal | undefined, toolCallId: string | undefined, input: unknown): ToolContext {
  const ownSignal = signal && signal !== ctx.signal;
  const ownId = (ctx.onFileDiff !== undefined || ctx.onTitle !== undefined || ctx.confirm !== undefined) && toolCallId !== undefined;
  if (!ownSignal && !ownId) return ctx;
  return {
    ...ctx,
    ...(ownSignal ? { signal: ctx.signal ? AbortSignal.any([ctx.signal, signal]) : signal } : {}),
    ...(ownId ? { toolCallId, toolInput: input } : {}),
  };
}

async function runChecked(tool: BuiltinTool, input: unknown, ctx: ToolContext): Promise<string> {
  const problem = inputProblems(tool, input);
  if (problem) throw new ToolError(tool.name, problem);
  try {
    return await tool.run(input as Record<string, unknown>, ctx);
  } catch (error) {
    if (isToolError(error) || isPermissionDenied(error)) throw error;
    if (ctx.signal?.aborted) throw new ToolError(tool.name, `${tool.name} was cancelled.`);
    const message = error instanceof Error ? error.message : String(error);
    throw new ToolError(tool.name, `${tool.name} failed: ${message}`);
  }
}

/**
 * Runs one built-in tool and returns its output. Throws a ToolError (bad arguments, unknown tool,
 * a failure the model can act on) or a PermissionDeniedError (already reported via `onDenied`).
 */
export async function executeTool(name: string, input: unknown, ctx: ToolContext): Promise<string> {
  const tool = Object.hasOwn(BUILTIN_TOOLS, name) ? BUILTIN_TOOLS[name] : undefined;
  if (!tool) throw new ToolError(name, `unknown tool "${name}"; built-in tools: ${BUILTIN_TOOL_NAMES.join(', ')}.`);
  return runChecked(tool, input, ctx);
}

/**
 * The built-in tools as AI SDK tools, minus those `enabled` turns off (`agent.tools` over the
 * top-level `tools`). Inputs are validated against each tool's JSON Schema by the SDK (an invalid
 * call becomes a tool error the model sees) and again before running.
 */
export async function createBuiltinTools(ctx: ToolContext, enabled?: Record<string, boolean>): Promise<Record<string, Tool>> {
  const tools: Record<string, Tool> = {};
  // OpenCode's scratch folder, which the `bash` description names, exists before the model reads of it.
  if (isToolEnabled('bash', enabled)) await ensureScratchDir();
  for (const def of Object.values(BUILTIN_TOOLS)) {
    if (!isToolEnabled(def.name, enabled)) continue;
    tools[def.name] = await aiTool(def, (input, options) => forCall(ctx, options.abortSignal, options.toolCallId, input));
  }
  return tools;
}

/** OpenCode's `question` tool over `ctx.askQuestions` (tools/question.ts); every call knows its id and input (the question's `tool`, the call shown running). */
export async function createQuestionTool(ctx: ToolContext): Promise<Tool> {
  return aiTool(questionTool as unknown as BuiltinTool, (input, options) => ({ ...forCall(ctx, options.abortSignal, undefined, input), ...(options.toolCallId ? { toolCallId: options.toolCallId } : {}), toolInput: input }));
}

/** A built-in tool as an AI SDK tool: its schema, checked by the generated validator, and its body run with the call's context. */
async function aiTool(def: BuiltinTool, contextOf: (input: unknown, options: { abortSignal?: AbortSignal; toolCallId: string }) => ToolContext): Promise<Tool> {
  const { tool, jsonSchema } = await import('../ai-sdk.ts');
  return tool<Record<string, unknown>, string, Record<string, never>>({
    description: def.description,
    inputSchema: jsonSchema<Record<string, unknown>>(def.parameters ?? def.inputSchema, {
      validate: (value) => {
        const problem = inputProblems(def, value);
        return problem ? { success: false, error: new ToolError(def.name, problem) } : { success: true, value: value as Record<string, unknown> };
      },
    }),
    execute: (input, options) => runChecked(def, input, contextOf(input, options)),
  });
}
