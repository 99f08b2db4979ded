/**
 * The model's tools for MCP resources, as OpenCode 1.18.33 offers them when a connected server
 * declares the `resources` capability: `list_mcp_resources` and `list_mcp_resource_templates`
 * (`server?`: the resources or templates of every resource server, sorted, as JSON
 * `{resources|resourceTemplates: [{…, server}]}`) and `read_mcp_resource` (`server`, `uri`: each
 * content `Resource: URI\nMIME: TYPE\nTEXT`; an image or a PDF up to 10 MB attached, another binary
 * content a note). Names, descriptions, parameter schemas and sentences are OpenCode's (captured
 * from what it sends a provider). Each call asks the `read` permission: a read on
 * `mcp:<server>:<uri>`, a listing on `mcp:<server>:*` of each server it lists; "always" approves
 * `mcp:<server>:*`. Bounded against a careless or hostile server: a listing takes what the catalog
 * takes (100 pages, 500 items a server, each text cut at 2,048 characters, entries without a usable
 * URI left out), at most 64 contents of a resource, and the answer is cut at 50 KB as a tool's.
 */
import type { Tool } from 'ai';
import { MAX_CATALOG_TEXT } from './catalog-limits.ts';
import type { ToolMediaItem } from '../run/tool-media.ts';
import { withMedia } from '../run/tool-media.ts';
import { unlessAborted } from '../unless-aborted.ts';

export const RESOURCE_TOOL_NAMES = { list: 'list_mcp_resources', listTemplates: 'list_mcp_resource_templates', read: 'read_mcp_resource' } as const;
const NAMES = new Set<string>(Object.values(RESOURCE_TOOL_NAMES));

/** Whether a tool name is one of these three (they are governed by `read`, as OpenCode's are). */
export function isResourceTool(name: string): boolean {
  return NAMES.has(name);
}

/** The largest image or PDF attached (OpenCode's 10 MB). */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** The answer is cut past this many characters or lines (a tool's output limit, as OpenCode's). */
export const MAX_ANSWER_CHARS = 50 * 1024;
export const MAX_ANSWER_LINES = 2000;
/** The most contents of one resource read (a server may send thousands). */
export const MAX_READ_CONTENTS = 64;
const ATTACHABLE = new Set(['application/pdf', 'image/gif', 'image/jpeg', 'image/png', 'image/webp']);

/** A permission request as the tools ask it: `read` on each pattern; "always" approves `always`. */
export interface ResourceAsk {
  tool: string;
  patterns: string[];
  always: string[];
  metadata: Record<string, unknown>;
}

/** What the tools need of the MCP manager (McpManager has these). */
export interface ResourceAccess {
  status(names: readonly string[]): readonly { name: string; state: string; restarts: number }[];
  resourceServers(names: readonly string[]): Promise<string[]>;
  listResourcesOf(server: string, what: 'resources' | 'templates'): Promise<{ items: readonly unknown[]; more: boolean }>;
  readResource(server: string, uri: string): Promise<{ contents?: unknown }>;
}

/**
 * The options a call's `execute` may be given besides the AI SDK's: how to ask the `read`
 * permission (run/agent-tools.ts puts the agent's there; without it every call is allowed, as for
 * the MCP manager's other tools used as a library).
 */
export interface ResourceCallOptions {
  authorizeRead?: (ask: ResourceAsk) => Promise<void>;
}

class ResourceToolError extends Error {
  override toString(): string {
    return this.message;
  }
}

const fail = (message: string): never => {
  throw new ResourceToolError(message);
};

function argument(input: unknown, key: string, required: boolean): string | undefined {
  const args = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  const value = args[key];
  if (value === undefined || value === null || value === '') return required ? fail(`${key} is required`) : undefined;
  if (typeof value !== 'string') return fail(`${key} must be a string`);
  return value;
}

function cut(text: string): string {
  return text.length > MAX_CATALOG_TEXT ? `${text.slice(0, MAX_CATALOG_TEXT - 1)}…` : text;
}

/** One entry of a listing, as OpenCode gives it (the server's fields, `server` last), bounded: only the fields a model uses, texts cut. */
function listed(entry: unknown, key: 'uri' | 'uriTemplate', server: string): Record<string, unknown> | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const given = entry as Record<string, unknown>;
  const id = given[key];
  if (typeof id !== 'string' || !id || id.length > MAX_CATALOG_TEXT) return undefined;
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(given)) {
    if (['name', 'title', 'description', 'mimeType', key].includes(field) && typeof value === 'string') out[field] = field === key ? value : cut(value);
    else if (field === 'size' && typeof value === 'number' && Number.isFinite(value)) out[field] = value;
  }
  if (typeof out.name !== 'string') out.name = id;
  out.server = server;
  return out;
}

/** Code-unit order of `server \0 name \0 uri` (OpenCode sorts by the same key, with its locale's collation). */
function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The answer cut at MAX_ANSWER_CHARS or MAX_ANSWER_LINES, with MCP tools' note (`[truncated: …]`). */
export function cutAnswer(text: string): string {
  let end = Math.min(text.length, MAX_ANSWER_CHARS);
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    lines += 1;
    if (lines === MAX_ANSWER_LINES) {
      end = i;
      break;
    }
  }
  if (end >= text.length) return text;
  return `${text.slice(0, end)}\n[truncated: showing the first ${end} of ${text.length} characters]`;
}

/** A size as OpenCode writes it in these notes (`22 B`, `4 KB`, `9 MB`: rounded up). */
function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${Math.ceil(bytes / 1024 / 1024)} MB`;
}

/** The bytes a base64 text holds (its padding and whitespace not counted). */
function decodedBytes(blob: string): number {
  const text = blob.replace(/\s/g, '');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((text.length * 3) / 4) - pad);
}

/** A URI or media type as a note names it: at most 200 characters. */
function shortly(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** `resources/read`'s answer as OpenCode words it for the model, with the images and PDFs to attach. */
export function readAnswer(server: string, uri: string, result: { contents?: unknown }): { text: string; media: ToolMediaItem[]; contents: number } {
  const all = (Array.isArray(result.contents) ? (result.contents as unknown[]) : [result.contents]).filter((c): c is Record<string, unknown> => c !== null && typeof c === 'object' && !Array.isArray(c));
  const shown = all.slice(0, MAX_READ_CONTENTS);
  const blocks: string[] = [];
  const media: ToolMediaItem[] = [];
  for (const c of shown) {
    const where = typeof c.uri === 'string' ? c.uri : uri;
    const mime = typeof c.mimeType === 'string' ? c.mimeType : 'application/octet-stream';
    if (typeof c.text === 'string') {
      blocks.push(`Resource: ${where}\nMIME: ${mime}\n${c.text}`);
      continue;
    }
    if (typeof c.blob === 'string') {
      const bytes = decodedBytes(c.blob);
      if (!ATTACHABLE.has(mime)) blocks.push(`[Binary MCP resource omitted: ${shortly(where)} (${shortly(mime)}, ${size(bytes)}) is not a supported attachment type]`);
      else if (bytes > MAX_ATTACHMENT_BYTES) blocks.push(`[Binary MCP resource omitted: ${shortly(where)} (${mime}, ${size(bytes)}) exceeds ${size(MAX_ATTACHMENT_BYTES)}]`);
      else {
        blocks.push(`[Binary MCP resource attached: ${shortly(where)} (${mime})]`);
        media.push({ mediaType: mime, data: c.blob.replace(/\s/g, ''), filename: shortly(where) });
      }
      continue;
    }
    blocks.push(`[MCP resource content without text or blob: ${shortly(where)}]`);
  }
  if (all.length > shown.length) blocks.push(`[${all.length - shown.length} more contents of ${shortly(uri)} left out: at most ${MAX_READ_CONTENTS} contents of a resource are read]`);
  return { text: blocks.join('\n\n') || `MCP resource ${uri} from ${server} returned no contents.`, media, contents: all.length };
}

async function allowed(options: unknown, ask: ResourceAsk): Promise<void> {
  await (options as ResourceCallOptions | undefined)?.authorizeRead?.(ask);
}

/** The servers a listing covers: the one named (it must serve resources), else every resource server, by name. */
async function listedServers(access: ResourceAccess, names: readonly string[], server: string | undefined): Promise<string[]> {
  const servers = [...(await access.resourceServers(names))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (server !== undefined && !servers.includes(server)) {
    fail(servers.length === 0 ? `MCP server "${server}" does not support resources` : `MCP server "${server}" does not support resources. Available resource servers: ${servers.join(', ')}`);
  }
  return server === undefined ? servers : [server];
}

/**
 * A listing's entries, server by server. A named server that fails to list is the call's error;
 * with every server listed, one that fails is left out (the others' are given), unless all fail.
 */
async function listing(access: ResourceAccess, servers: readonly string[], what: 'resources' | 'templates', named: boolean): Promise<Record<string, unknown>[]> {
  const key = what === 'resources' ? 'uri' : 'uriTemplate';
  const results = await Promise.allSettled(servers.map((s) => access.listResourcesOf(s, what)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  if (failures.length > 0 && (named || failures.length === servers.length)) fail(failures.join('; '));
  const entries: { key: string; entry: Record<string, unknown> }[] = [];
  results.forEach((r, i) => {
    if (r.status !== 'fulfilled') return;
    const server = servers[i] as string;
    const seen = new Set<string>();
    for (const item of r.value.items) {
      const entry = listed(item, key, server);
      // One entry per URI of a server, as OpenCode keys them.
      if (!entry || seen.has(entry[key] as string)) continue;
      seen.add(entry[key] as string);
      entries.push({ key: `${server}\0${entry.name as string}\0${entry[key] as string}`, entry });
    }
  });
  return entries.sort(byKey).map((e) => e.entry);
}

/**
 * The three tools over `access` for the servers `names` (the agent's). OpenCode's descriptions and
 * schemas; each answer a string (a read with images or PDFs: the text with them, run/tool-media.ts).
 */
export async function createResourceTools(access: ResourceAccess, names: readonly string[]): Promise<Record<string, Tool>> {
  const { dynamicTool, jsonSchema } = await import('../ai-sdk.ts');
  const serverOnly = (what: string) =>
    jsonSchema({
      type: 'object',
      properties: { server: { type: 'string', description: `Optional MCP server name. When omitted, lists ${what} from every connected server.` } },
      additionalProperties: false,
    });
  const lister = (what: 'resources' | 'templates') =>
    dynamicTool({
      description:
        what === 'resources'
          ? 'Lists resources provided by connected MCP servers. Resources provide context such as files, database schemas, or application-specific information.'
          : 'Lists resource templates provided by connected MCP servers. Resource templates are parameterized resources that can be read after filling in their URI template.',
      inputSchema: serverOnly(what === 'resources' ? 'resources' : 'resource templates'),
      metadata: { mcpResources: true },
      execute: async (input, options) => {
        const server = argument(input, 'server', false);
        const servers = await listedServers(access, names, server);
        const patterns = servers.map((s) => `mcp:${s}:*`);
        await allowed(options, { tool: what === 'resources' ? RESOURCE_TOOL_NAMES.list : RESOURCE_TOOL_NAMES.listTemplates, patterns, always: patterns, metadata: server === undefined ? {} : { server } });
        const entries = await listing(access, servers, what, server !== undefined);
        return cutAnswer(JSON.stringify(what === 'resources' ? { resources: entries } : { resourceTemplates: entries }, null, 2));
      },
    });
  return {
    [RESOURCE_TOOL_NAMES.list]: lister('resources'),
    [RESOURCE_TOOL_NAMES.listTemplates]: lister('templates'),
    [RESOURCE_TOOL_NAMES.read]: dynamicTool({
      description: 'Read a specific resource from an MCP server using the server name and resource URI. The URI is an MCP identifier and does not need to be a file URL.',
      inputSchema: jsonSchema({
        type: 'object',
        properties: {
          server: { type: 'string', description: 'MCP server name exactly as returned by list_mcp_resources.' },
          uri: { type: 'string', description: 'Resource URI to read. Use the exact URI string returned by list_mcp_resources.' },
        },
        required: ['server', 'uri'],
        additionalProperties: false,
      }),
      metadata: { mcpResources: true },
      execute: async (input, options) => {
        const server = argument(input, 'server', true) as string;
        const uri = argument(input, 'uri', true) as string;
        if (!names.includes(server)) fail(`MCP server "${server}" is not connected`);
        if (!(await access.resourceServers([server])).includes(server)) {
          // A server that exited is started again by the read (once per process, as for a tool call); any other that is not connected is not.
          const state = access.status([server])[0];
          if (state?.state === 'connected') fail(`MCP server "${server}" does not support resources`);
          if (state?.state !== 'exited' || state.restarts >= 1) fail(`MCP server "${server}" is not connected`);
        }
        await allowed(options, { tool: RESOURCE_TOOL_NAMES.read, patterns: [`mcp:${server}:${uri}`], always: [`mcp:${server}:*`], metadata: { server, uri } });
        let result: { contents?: unknown };
        try {
          result = await unlessAborted(access.readResource(server, uri), options.abortSignal);
        } catch (error) {
          if (options.abortSignal?.aborted) throw error;
          return fail(error instanceof Error ? error.message : String(error));
        }
        const { text, media } = readAnswer(server, uri, result);
        const answer = cutAnswer(text);
        return media.length > 0 ? withMedia(answer, media) : answer;
      },
    }),
  };
}
