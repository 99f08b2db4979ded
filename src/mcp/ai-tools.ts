/**
 * MCP tools as AI SDK tools: runtime-defined (`dynamicTool`) with the server's JSON Schema for
 * their arguments. A tool error (an error result, a timeout, a server that died) is thrown, so the
 * AI SDK hands it to the model as a tool error (`error-text`) and the loop goes on; the text
 * starts with "error: " so models that only see the text can tell.
 */
import type { Tool } from 'ai';
import type { ExposedTool, JsonSchemaObject, McpCallResult } from './types.ts';

export type ToolCaller = (server: string, tool: string, args: Record<string, unknown>, signal?: AbortSignal) => Promise<McpCallResult>;

/** The error an MCP tool call ends with. The AI SDK sends `toString()` to the model: just the text. */
export class McpToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpToolError';
  }

  override toString(): string {
    return this.message;
  }
}

/** A schema providers accept for function arguments: an object schema with `properties`. */
export function argumentSchema(schema: JsonSchemaObject | undefined): JsonSchemaObject {
  const copy: JsonSchemaObject = { ...(schema ?? {}) };
  copy.type = 'object';
  if (typeof copy.properties !== 'object' || copy.properties === null) copy.properties = {};
  return copy;
}

export async function toAiTools(exposed: readonly ExposedTool[], call: ToolCaller): Promise<Record<string, Tool>> {
  const { dynamicTool, jsonSchema } = await import('../ai-sdk.ts');
  const tools: Record<string, Tool> = {};
  for (const t of exposed) {
    tools[t.name] = dynamicTool({
      description: t.description ?? `Tool "${t.tool}" of MCP server "${t.server}".`,
      inputSchema: jsonSchema(argumentSchema(t.inputSchema)),
      metadata: { mcpServer: t.server, mcpTool: t.tool },
      execute: async (input, { abortSignal }) => {
        const args = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
        const result = await call(t.server, t.tool, args, abortSignal);
        if (result.isError) throw new McpToolError(result.text);
        return result.text;
      },
    });
  }
  return tools;
}
