/**
 * A turn's tools with the project's plugins: the custom tools added (over a built-in of the same
 * name, as in OpenCode), each tool's description and parameters through `tool.definition`, and every
 * call through `tool.execute.before` (which may change the arguments, or refuse the call by
 * throwing) and `tool.execute.after` (which may change the answer).
 */
import type { Tool, ToolSet } from 'ai';
import type { PermissionContext } from '../permissions/authorize.ts';
import { ToolError } from '../tools/tool-error.ts';
import { unlessAborted } from '../unless-aborted.ts';
import { mediaOf } from '../run/tool-media.ts';
import type { PluginHost } from './types.ts';

export interface PluginToolsOptions {
  plugins: PluginHost;
  sessionID: string;
  /** The reply the calls belong to (a custom tool's `context.messageID`). */
  messageID?: string;
  agent: string;
  permission: PermissionContext;
  /** Which custom tools the agent is offered (its `tools` and permission, as for MCP tools). */
  offer: (tools: Record<string, Tool>) => Record<string, Tool>;
  signal?: AbortSignal;
  onTitle?: (title: string, toolCallId: string | undefined) => void;
  /** A call's title and metadata as OpenCode's tool would give them (the built-ins', an MCP tool's), for `tool.execute.after`. */
  describe?: (tool: string, input: unknown, output: string, toolCallId: string) => Promise<CallFacts> | CallFacts;
}

/** What `tool.execute.after` is told of a call besides its output. */
export interface CallFacts {
  title: string;
  metadata: Record<string, unknown>;
}

/** `tools` with the plugins' tools and hooks (changed in place and returned). */
export async function withPlugins(tools: ToolSet, options: PluginToolsOptions): Promise<ToolSet> {
  const { plugins } = options;
  // The custom tools' own titles and metadata (their answers'), by call, for `tool.execute.after`.
  const customFacts = new Map<string, Partial<CallFacts>>();
  const custom = new Set<string>();
  if (plugins.tools.size > 0) {
    const { pluginTool } = await import('./plugin-tools.ts');
    const made: Record<string, Tool> = {};
    for (const [name, def] of plugins.tools) {
      try {
        made[name] = await pluginTool(name, def, {
          sessionID: options.sessionID,
          ...(options.messageID ? { messageID: options.messageID } : {}),
          agent: options.agent,
          directory: plugins.directory,
          worktree: plugins.worktree,
          permission: options.permission,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onTitle ? { onTitle: options.onTitle } : {}),
          ...(plugins.has('tool.execute.after') ? { onFacts: (toolCallId: string, facts: Partial<CallFacts>) => void customFacts.set(toolCallId, { ...customFacts.get(toolCallId), ...facts }) } : {}),
        });
        custom.add(name);
      } catch (error) {
        const { debugNote } = await import('../debug-note.ts');
        const { safeLine } = await import('../cli/terminal-text.ts');
        debugNote(`plugins: the custom tool ${safeLine(name)} is left out: ${safeLine(error instanceof Error ? error.message : String(error))}\n`);
      }
    }
    Object.assign(tools, options.offer(made));
  }
  if (plugins.has('tool.definition')) await redefine(tools, plugins);
  const before = plugins.has('tool.execute.before');
  const after = plugins.has('tool.execute.after');
  if (before || after) {
    for (const [name, tool] of Object.entries(tools)) {
      const execute = tool.execute;
      if (!execute) continue;
      tools[name] = {
        ...tool,
        execute: async (input: unknown, call: Parameters<typeof execute>[1]) => {
          // A cancelled turn does not wait for a hook that does not heed it.
          const signal = call.abortSignal ?? options.signal;
          const hook = <O extends object>(which: 'tool.execute.before' | 'tool.execute.after', hookInput: object, output: O): Promise<O> =>
            unlessAborted(plugins.trigger(which, hookInput, output), signal).catch((error: unknown) => {
              throw signal?.aborted ? new ToolError(name, `${name} was cancelled.`) : error;
            });
          let args = input;
          if (before) args = (await hook('tool.execute.before', { tool: name, sessionID: options.sessionID, callID: call.toolCallId }, { args: input })).args;
          const result: unknown = await execute(args, call);
          if (!after) return result;
          const text = textOf(result);
          const own = customFacts.get(call.toolCallId);
          customFacts.delete(call.toolCallId);
          // As OpenCode's tools answer: a custom tool's own title and metadata, a built-in's (its file, its patch, its matches), an MCP tool's result itself (its `content`).
          const facts: CallFacts = custom.has(name) ? { title: own?.title ?? '', metadata: own?.metadata ?? {} } : ((await options.describe?.(name, args, text, call.toolCallId)) ?? { title: '', metadata: {} });
          const mcp = mcpResult(result);
          const output: Record<string, unknown> = { ...mcp, title: facts.title, output: text, metadata: facts.metadata };
          const content = mcp ? JSON.stringify(output.content) : undefined;
          await hook('tool.execute.after', { tool: name, sessionID: options.sessionID, callID: call.toolCallId, args }, output);
          if (output.output === text) {
            // An MCP tool's content changed in place is its answer, as in OpenCode.
            if (mcp && Array.isArray(output.content) && JSON.stringify(output.content) !== content) return { ...(result as object), content: output.content };
            return result;
          }
          // Bounded as any tool's answer is (a hook may hand back anything).
          const { cut } = await import('./plugin-tools.ts');
          return cut(String(output.output));
        },
      } as Tool;
    }
  }
  return tools;
}

/** A copy of an MCP tool's result (`{content: [...], …}`), which OpenCode hands `tool.execute.after` as it is; else undefined. */
function mcpResult(result: unknown): Record<string, unknown> | undefined {
  if (result === null || typeof result !== 'object' || !Array.isArray((result as { content?: unknown }).content)) return undefined;
  try {
    return JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** What a tool answered, as text (an MCP tool's content parts joined). */
function textOf(result: unknown): string {
  if (typeof result === 'string') return result;
  const withFiles = mediaOf(result);
  if (withFiles) return withFiles.output;
  const content = (result as { content?: unknown } | undefined)?.content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  return result === undefined ? '' : (JSON.stringify(result) ?? '');
}

/** Each tool's description and parameters as the plugins' `tool.definition` hooks leave them. */
async function redefine(tools: ToolSet, plugins: PluginHost): Promise<void> {
  const { asSchema, jsonSchema } = await import('../ai-sdk.ts');
  for (const [name, tool] of Object.entries(tools)) {
    const schema = asSchema(tool.inputSchema as Parameters<typeof asSchema>[0]);
    // A copy: a hook may change it in place, and the built-ins' schemas are shared by every turn.
    const before = JSON.stringify(await schema.jsonSchema);
    const output = { description: tool.description ?? '', parameters: JSON.parse(before) as Record<string, unknown> };
    await plugins.trigger('tool.definition', { toolID: name }, output);
    const changedParameters = JSON.stringify(output.parameters) !== before;
    if (output.description === tool.description && !changedParameters) continue;
    tools[name] = {
      ...tool,
      description: String(output.description),
      ...(changedParameters ? { inputSchema: jsonSchema(output.parameters as never) } : {}),
    } as Tool;
  }
}
