/**
 * Bounds on what one server's tool list puts in front of the model: every request of a turn
 * carries every tool's name, description and schema, so a server offering 10,000 tools or a
 * 5 MB description would make each request megabytes long (and refused by the provider). The
 * first tools in the server's order are kept; what is cut or left out is said once.
 */
import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { thousands } from '../icu-free.ts';

/** Tools taken from one server (tools/list pages are read until this many). */
export const MAX_TOOLS_PER_SERVER = 256;
/** Characters of a tool's description the model gets. */
export const MAX_DESCRIPTION_CHARS = 4096;
/** Characters of a tool's input schema (as JSON); a tool with a larger one is left out. */
export const MAX_SCHEMA_CHARS = 64 * 1024;

/** Characters of a server's `instructions` the model gets (they go with every request of a turn). */
export const MAX_INSTRUCTIONS_CHARS = 16 * 1024;

function count(n: number): string {
  return thousands(n);
}

function size(chars: number): string {
  return chars < 1024 * 1024 ? `${Math.round(chars / 1024)} KB` : `${(chars / (1024 * 1024)).toFixed(1)} MB`;
}

/** A tool's name as quoted in a note: JSON-quoted, and cut. */
function quoted(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 79)}…` : name);
}

/** The tools kept (descriptions cut), and one sentence for each thing cut or left out; `more`: the server had more pages. */
export function boundTools(server: string, tools: readonly McpTool[], more = false): { tools: McpTool[]; notes: string[] } {
  const notes: string[] = [];
  const kept: McpTool[] = [];
  let cut = 0;
  for (const tool of tools.slice(0, MAX_TOOLS_PER_SERVER)) {
    const schema = JSON.stringify(tool.inputSchema ?? {}).length;
    if (schema > MAX_SCHEMA_CHARS) {
      notes.push(`tool ${quoted(tool.name)} of MCP server "${server}" is left out: its input schema takes ${size(schema)} (at most ${size(MAX_SCHEMA_CHARS)}).`);
      continue;
    }
    if (typeof tool.description === 'string' && tool.description.length > MAX_DESCRIPTION_CHARS) {
      cut++;
      kept.push({ ...tool, description: `${tool.description.slice(0, MAX_DESCRIPTION_CHARS - 1)}…` });
    } else {
      kept.push(tool);
    }
  }
  if (more || tools.length > MAX_TOOLS_PER_SERVER) {
    notes.unshift(`MCP server "${server}" offers ${more ? 'more than ' : ''}${count(tools.length)} tools; only the first ${count(MAX_TOOLS_PER_SERVER)} are used.`);
  }
  if (cut > 0) notes.push(`MCP server "${server}": ${count(cut)} tool description${cut === 1 ? ' was' : 's were'} cut to ${count(MAX_DESCRIPTION_CHARS)} characters.`);
  return { tools: kept, notes };
}

/** A server's instructions as the model gets them (cut to MAX_INSTRUCTIONS_CHARS), and the sentence saying they were cut. */
export function boundInstructions(server: string, text: string): { text: string; note?: string } {
  if (text.length <= MAX_INSTRUCTIONS_CHARS) return { text };
  return {
    text: `${text.slice(0, MAX_INSTRUCTIONS_CHARS - 1)}…`,
    note: `MCP server "${server}": its instructions (${size(text.length)}) were cut to ${count(MAX_INSTRUCTIONS_CHARS)} characters.`,
  };
}
