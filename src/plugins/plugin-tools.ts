/**
 * Custom tools (`.opencode/tool/*.ts`, plugins' `tool` hooks) as AI SDK tools, as OpenCode offers
 * them: the arguments' zod schemas as the JSON Schema the model sees (their descriptions and
 * metadata kept, whichever zod 4 made them), a call's input checked against them, `execute` run with
 * OpenCode's tool context, its answer (a string, or `{title, output, metadata}`) cut to the tools'
 * output limit.
 */
import type { Tool } from 'ai';
import * as zod from 'zod';
import { authorize, type PermissionContext } from '../permissions/authorize.ts';
import { ToolError } from '../tools/tool-error.ts';
import { byteLength, formatBytes, headBytes, MAX_OUTPUT_BYTES } from '../tools/truncate.ts';
import { unlessAborted } from '../unless-aborted.ts';
import { orStalled } from './stalled.ts';
import type { PluginToolContext, PluginToolDefinition } from './types.ts';

/** Whether a module export is a tool definition (`tool({...})`'s shape, as OpenCode checks it). */
export function isToolDefinition(value: unknown): value is PluginToolDefinition {
  return typeof value === 'object' && value !== null && 'args' in value && 'description' in value && 'execute' in value;
}

function isZod(value: unknown): value is zod.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** The arguments as one JSON Schema object, and a check of an input against them (zod's), when they are zod schemas. */
export function argsSchema(name: string, args: Record<string, unknown>): { schema: Record<string, unknown>; check?: (input: unknown) => string | undefined } {
  const entries = Object.entries(args ?? {});
  if (entries.every(([, value]) => isZod(value))) {
    const object = zod.object(args as Record<string, zod.ZodType>);
    let converted: unknown;
    try {
      const metadata = metadataOf(object);
      converted = zod.toJSONSchema(zod.object(withoutOverrideParents(args as Record<string, zod.ZodType>, metadata)), { io: 'input', metadata, unrepresentable: 'any' });
    } catch (error) {
      throw new Error(`the custom tool ${name}'s args could not be turned into JSON Schema: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const { $defs, $schema: _, ...rest } = withoutBooleanBounds(converted) as Record<string, unknown>;
    const schema = $defs && typeof $defs === 'object' ? { ...rest, definitions: $defs } : rest;
    return {
      schema,
      check: (input) => {
        const parsed = object.safeParse(input);
        return parsed.success ? undefined : zod.prettifyError(parsed.error);
      },
    };
  }
  // Not zod (an older plugin package, or JSON Schema written by hand): each value that is a schema, all required, as OpenCode does.
  const properties = Object.fromEntries(entries.filter(([, v]) => typeof v === 'boolean' || (typeof v === 'object' && v !== null && !Array.isArray(v))));
  return { schema: { type: 'object', properties, required: Object.keys(properties) } };
}

/**
 * An argument that brings its own JSON Schema (a `_zod.toJSONSchema` override: oh-my-opencode sets
 * one on each of its tools' arguments) as a copy without `_zod.parent` (what `.describe()` or
 * `.optional()` cloned it from), with the same override and metadata. zod 4.6 never converts the
 * parent of such a schema yet follows it when it finishes, and fails ("Cannot read properties of
 * undefined (reading 'ref')"); zod 4.4, OpenCode 1.18.33's, did not follow parents. The copy is made
 * by the argument's own zod class from the same definition, so it is as optional as the argument.
 */
function withoutOverrideParents(args: Record<string, zod.ZodType>, metadata: zod.core.$ZodRegistry<Record<string, unknown>>): Record<string, zod.ZodType> {
  return Object.fromEntries(
    Object.entries(args).map(([key, schema]) => {
      const internals = schema._zod as unknown as { toJSONSchema?: () => unknown; parent?: unknown; constr: new (def: unknown) => zod.ZodType; def: unknown };
      const override = internals.toJSONSchema;
      if (typeof override !== 'function' || internals.parent === undefined) return [key, schema];
      const copy = new internals.constr(internals.def);
      (copy._zod as unknown as { toJSONSchema: () => unknown }).toJSONSchema = () => override();
      const meta = metadata.get(schema as never);
      if (meta) metadata.add(copy as never, meta);
      return [key, copy];
    }),
  );
}

/**
 * zod 4 keeps `.describe()` and `.meta()` in a registry of the zod that made the schema; a plugin
 * may bring its own zod, so its descriptions are collected into a registry here (OpenCode does the same).
 */
function metadataOf(root: unknown): zod.core.$ZodRegistry<Record<string, unknown>> {
  const registry = zod.registry<Record<string, unknown>>();
  const seen = new WeakSet<object>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 64) return;
    seen.add(value);
    if (isZod(value)) {
      const meta = typeof (value as { meta?: unknown }).meta === 'function' ? (value as unknown as { meta(): unknown }).meta() : undefined;
      const description = (value as { description?: unknown }).description;
      const info = { ...(meta && typeof meta === 'object' ? meta : {}), ...(typeof description === 'string' ? { description } : {}) };
      if (Object.keys(info).length) registry.add(value as never, info);
      visit((value as unknown as { _zod: { def: unknown } })._zod.def, depth + 1);
      return;
    }
    for (const child of Object.values(value)) visit(child, depth + 1);
  };
  visit(root, 0);
  return registry;
}

/** JSON Schema draft 4's boolean `exclusiveMinimum`/`exclusiveMaximum` left out (providers reject them). */
function withoutBooleanBounds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutBooleanBounds);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => !((key === 'exclusiveMaximum' || key === 'exclusiveMinimum') && typeof v === 'boolean'))
      .map(([key, v]) => [key, withoutBooleanBounds(v)]),
  );
}

export interface PluginToolOptions {
  sessionID: string;
  /** The reply the call belongs to. */
  messageID?: string;
  agent: string;
  directory: string;
  worktree: string;
  permission: PermissionContext;
  /** The turn's signal (the call's own is joined in). */
  signal?: AbortSignal;
  /** Told a call's title (`context.metadata({title})`, or the answer's `title`). */
  onTitle?: (title: string, toolCallId: string | undefined) => void;
  /** Told a call's title and metadata (`context.metadata(...)`, the answer's), for `tool.execute.after`. */
  onFacts?: (toolCallId: string, facts: { title?: string; metadata?: Record<string, unknown> }) => void;
}

/** A custom tool as an AI SDK tool. Throws (one sentence) when its args are not schemas. */
export async function pluginTool(name: string, def: PluginToolDefinition, options: PluginToolOptions): Promise<Tool> {
  const { tool, jsonSchema } = await import('../ai-sdk.ts');
  const { schema, check } = argsSchema(name, def.args);
  return tool<Record<string, unknown>, string, Record<string, never>>({
    description: typeof def.description === 'string' ? def.description : String(def.description),
    inputSchema: jsonSchema<Record<string, unknown>>(schema as never, {
      validate: (value) => {
        const problem = check?.(value);
        return problem ? { success: false, error: new ToolError(name, `The ${name} tool was called with invalid arguments: ${problem}\nPlease rewrite the input so it satisfies the expected schema.`) } : { success: true, value: value as Record<string, unknown> };
      },
    }),
    execute: async (input, call) => {
      const signal = call.abortSignal && options.signal ? AbortSignal.any([call.abortSignal, options.signal]) : (call.abortSignal ?? options.signal ?? new AbortController().signal);
      const context: PluginToolContext = {
        sessionID: options.sessionID,
        messageID: options.messageID ?? '',
        // Not in the plugin package's type, but OpenCode's context carries it.
        callID: call.toolCallId,
        agent: options.agent,
        directory: options.directory,
        worktree: options.worktree,
        abort: signal,
        metadata: (m) => {
          if (typeof m?.title === 'string') options.onTitle?.(m.title, call.toolCallId);
          options.onFacts?.(call.toolCallId, { ...(typeof m?.title === 'string' ? { title: m.title } : {}), ...(m?.metadata && typeof m.metadata === 'object' ? { metadata: m.metadata } : {}) });
        },
        ask: async (request) => {
          const patterns = Array.isArray(request?.patterns) && request.patterns.length ? request.patterns.map(String) : ['*'];
          for (const subject of patterns) {
            await authorize({ ...options.permission, toolCallId: call.toolCallId, toolInput: input }, { key: String(request.permission), tool: name, subject });
          }
        },
      };
      let result: unknown;
      try {
        // A cancelled turn does not wait for a tool that does not heed `context.abort`.
        result = await unlessAborted(orStalled(Promise.resolve(def.execute(input, context)), `the custom tool ${name}`), signal);
      } catch (error) {
        if (signal.aborted) throw new ToolError(name, `${name} was cancelled.`);
        throw error instanceof Error ? error : new Error(String(error));
      }
      const answer = result && typeof result === 'object' ? (result as { title?: unknown; output?: unknown; metadata?: unknown }) : undefined;
      if (typeof answer?.title === 'string' && answer.title) options.onTitle?.(answer.title, call.toolCallId);
      if (answer) options.onFacts?.(call.toolCallId, { ...(typeof answer.title === 'string' ? { title: answer.title } : {}), ...(answer.metadata && typeof answer.metadata === 'object' ? { metadata: answer.metadata as Record<string, unknown> } : {}) });
      const output = answer ? answer.output : result;
      return cut(typeof output === 'string' ? output : output === undefined ? '' : JSON.stringify(output) ?? String(output));
    },
  });
}

/** An answer within the tools' output limit, with a note of what was left out (also what `tool.execute.after` leaves). */
export function cut(output: string): string {
  const bytes = byteLength(output);
  if (bytes <= MAX_OUTPUT_BYTES) return output;
  const head = headBytes(output, MAX_OUTPUT_BYTES);
  return `${head}\n\n(Output cut: ${formatBytes(bytes - byteLength(head))} left out of the end.)`;
}
