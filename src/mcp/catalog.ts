/**
 * MCP servers' prompts and resources as OpenCode 1.18 offers them: each prompt a command named
 * `<server>:<prompt>` (both with every character outside `[a-zA-Z0-9_-]` made `_`), each resource
 * an entry of `GET /experimental/resource` keyed `<server>:<uri>` (the server's `%` and `:` escaped),
 * with the server's name as `client`. Listed when a server connects, again when it says they changed.
 */
import type { Prompt, Resource } from '@modelcontextprotocol/sdk/types.js';
import { MAX_ARGUMENT_NAME, MAX_CATALOG_TEXT, MAX_PROMPT_ARGUMENTS } from './catalog-limits.ts';

export interface McpPromptArgument {
  name: string;
  description?: string;
  required?: boolean;
}

/** A prompt of a server, as listed (bounded). */
export interface McpPrompt {
  /** `<server>:<prompt>`, sanitised: the command's name. */
  key: string;
  /** The server's name (OpenCode's `client`). */
  client: string;
  /** Its name on the server. */
  name: string;
  description?: string;
  arguments: McpPromptArgument[];
}

/** A resource of a server, in OpenCode's McpResource shape. */
export interface McpResource {
  name: string;
  uri: string;
  description?: string;
  mimeType?: string;
  client: string;
}

/** A name as OpenCode puts it in a command's or tool's name. */
export function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_');
}

export function promptKey(server: string, prompt: string): string {
  return `${sanitizeName(server)}:${sanitizeName(prompt)}`;
}

export function resourceKey(server: string, uri: string): string {
  return `${server.replaceAll('%', '%25').replaceAll(':', '%3A')}:${uri}`;
}

function cut(text: unknown): string | undefined {
  if (typeof text !== 'string' || !text) return undefined;
  return text.length > MAX_CATALOG_TEXT ? `${text.slice(0, MAX_CATALOG_TEXT - 1)}…` : text;
}

/**
 * The prompts of `server` as commands: only the fields used, texts cut; one without a name is left
 * out. A prompt's arguments are bounded (a server may declare thousands): the first
 * MAX_PROMPT_ARGUMENTS are taken, one whose name is empty or longer than MAX_ARGUMENT_NAME is left
 * out (a name cut short would not be the server's), and so is a name declared again (the words of
 * a command line go to its arguments in order: a second `topic` would take a word and lose the
 * first's); `onNote` is told of each prompt so cut.
 */
export function catalogPrompts(server: string, prompts: readonly Prompt[], onNote?: (note: string) => void): McpPrompt[] {
  return prompts.flatMap((p) => {
    if (typeof p.name !== 'string' || !p.name || p.name.length > MAX_CATALOG_TEXT) return [];
    const description = cut(p.description);
    const declared = Array.isArray(p.arguments) ? p.arguments : [];
    const usable = declared.filter((a) => typeof a?.name === 'string' && a.name !== '' && a.name.length <= MAX_ARGUMENT_NAME);
    const seen = new Set<string>();
    const named = usable.filter((a) => !seen.has(a.name) && seen.add(a.name));
    const args = named.slice(0, MAX_PROMPT_ARGUMENTS).map((a) => {
      const d = cut(a.description);
      return { name: a.name, ...(d ? { description: d } : {}), ...(a.required === true ? { required: true } : {}) };
    });
    const shown = JSON.stringify(p.name.length > 80 ? `${p.name.slice(0, 79)}…` : p.name);
    if (named.length > MAX_PROMPT_ARGUMENTS) onNote?.(`MCP server "${server}": its prompt ${shown} declares ${named.length} arguments; the first ${MAX_PROMPT_ARGUMENTS} are taken.`);
    if (usable.length < declared.length) onNote?.(`MCP server "${server}": its prompt ${shown} declares ${declared.length - usable.length} argument(s) without a name or with one over ${MAX_ARGUMENT_NAME} characters; they are left out.`);
    if (named.length < usable.length) onNote?.(`MCP server "${server}": its prompt ${shown} declares ${usable.length - named.length} argument name(s) more than once; each is taken once, where it is first declared.`);
    return [{ key: promptKey(server, p.name), client: server, name: p.name, ...(description ? { description } : {}), arguments: args }];
  });
}

/** The resources of `server` in OpenCode's shape; one without a URI (or with an enormous one) is left out. */
export function catalogResources(server: string, resources: readonly Resource[]): McpResource[] {
  return resources.flatMap((r) => {
    if (typeof r.uri !== 'string' || !r.uri || r.uri.length > MAX_CATALOG_TEXT) return [];
    const description = cut(r.description);
    const mimeType = cut(r.mimeType);
    return [{ name: cut(r.name) ?? r.uri, uri: r.uri, ...(description ? { description } : {}), ...(mimeType ? { mimeType } : {}), client: server }];
  });
}
