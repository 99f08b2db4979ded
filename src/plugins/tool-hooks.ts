/**
 * A turn's tools with the project's plugins: the custom tools added (over a built-in of the same
 * name, as in OpenCode), each tool's description and parameters through `tool.definition`, and every
 * call through `tool.execute.before` (which may change the arguments, or refuse the call by
 * throwing) and `tool.execute.after` (which may change the answer).
 */
import type { Tool, ToolSet } from 'ai';
import type { PermissionContext } from '../permissions/authorize.ts';
import { ToolError } from '../tools/tool-error.ts';
import { unlessAborted } from './hook-error.ts';
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
}

/** `tools` with the plugins' tools and hooks (changed in place and returned). */
export async function withPlugins(tools: ToolSet, options: PluginToolsOptions): Promise<ToolSet> {
  const { plugins } = options;
  if (plugins.tools.size > 0) {
    const { pluginTool } = await import('./plugin-tools.ts');
    const custom: Record<string, Tool> = {};
    for (const [name, def] of plugins.tools) {
      try {
        custom[name] = await pluginTool(name, def, {
          sessionID: options.sessionID,
          ...(options.messageID ? { messageID: options.messageID } : {}),
          agent: options.agent,
          directory: plugins.directory,
          worktree: plugins.worktree,
          permission: options.permission,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onTitle ? { onTitle: options.onTitle } : {}),
        });
      } catch (error) {
        const { debugNote } = await import('../debug-note.ts');
        const { safeLine } = await import('../cli/terminal-text.ts');
        debugNote(`plugins: the custom tool ${safeLine(name)} is left out: ${safeLine(error instanceof Error ? error.message : String(error))}\n`);
      }
    }
    Object.assign(tools, options.offer(custom));
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
          const output = { title: '', output: text, metadata: {} as Record<string, unknown> };
          await hook('tool.execute.after', { tool: name, sessionID: options.sessionID, callID: call.toolCallId, args }, output);
          if (output.output === text) return result;
          // Bounded as any tool's answer is (a hook may hand back anything).
          const { cut } = await import('./plugin-tools.ts');
          return cut(String(output.output));
        },
      } as Tool;
    }
  }
  return tools;
}

/** What a tool answered, as text (an MCP tool's content parts joined). */
function textOf(result: unknown): string {
  if (typeof result === 'string') return result;
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
