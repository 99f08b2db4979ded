/**
 * Checks a tool's arguments against its JSON Schema (ajv, compiled once per tool). A failure names
 * every problem and the expected arguments, so the model can call again correctly.
 */
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { BuiltinTool } from './types.ts';

const compiled = new Map<string, Promise<ValidateFunction>>();
let ajv: Promise<Ajv> | undefined;

/** One Ajv instance for every tool schema, imported on first use (the config path never needs it). */
function sharedAjv(): Promise<Ajv> {
  ajv ??= import('ajv').then((mod) => new mod.Ajv({ allErrors: true, strict: false }));
  return ajv;
}

function validatorFor(tool: BuiltinTool): Promise<ValidateFunction> {
  let validate = compiled.get(tool.name);
  if (!validate) {
    validate = sharedAjv().then((instance) => instance.compile(tool.inputSchema));
    compiled.set(tool.name, validate);
  }
  return validate;
}

/**
 * Compiles the validators of `tools` in the background, so the work overlaps the first model
 * request instead of delaying the first tool call. A failure here is not lost: the same compile
 * runs again (and throws) when the tool is first called.
 */
export function prewarmValidators(tools: readonly BuiltinTool[]): void {
  setImmediate(() => {
    for (const tool of tools) {
      validatorFor(tool).catch(() => compiled.delete(tool.name));
    }
  });
}

function argumentName(error: ErrorObject): string {
  return error.instancePath.replace(/^\//, '').replaceAll('/', '.');
}

function describe(error: ErrorObject): string {
  const name = argumentName(error);
  switch (error.keyword) {
    case 'required':
      return `missing required argument "${String(error.params.missingProperty)}"`;
    case 'additionalProperties':
      return `unknown argument "${String(error.params.additionalProperty)}"`;
    case 'type':
      return name ? `"${name}" must be ${String(error.params.type)}` : `arguments must be an object`;
    default:
      return name ? `"${name}" ${error.message ?? 'is invalid'}` : (error.message ?? 'invalid arguments');
  }
}

/** `{filePath: string, offset?: integer, limit?: integer}` from the schema. */
export function signature(tool: BuiltinTool): string {
  const properties = (tool.inputSchema.properties ?? {}) as Record<string, { type?: unknown }>;
  const required = new Set(tool.inputSchema.required ?? []);
  const parts = Object.entries(properties).map(([key, prop]) => `${key}${required.has(key) ? '' : '?'}: ${String(prop.type ?? 'any')}`);
  return `{${parts.join(', ')}}`;
}

/** Undefined when the input is valid, else one message naming every problem. */
export async function inputProblems(tool: BuiltinTool, input: unknown): Promise<string | undefined> {
  const validate = await validatorFor(tool);
  if (validate(input)) return undefined;
  const problems = [...new Set((validate.errors ?? []).map(describe))];
  return `invalid arguments for ${tool.name}: ${problems.join('; ')}. Expected ${signature(tool)}.`;
}
