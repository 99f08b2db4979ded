/**
 * Checks a tool's arguments against its JSON Schema (ajv, compiled once per tool). A failure names
 * every problem and the expected arguments, so the model can call again correctly.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { BuiltinTool } from './types.ts';

const compiled = new Map<string, ValidateFunction>();

async function validatorFor(tool: BuiltinTool): Promise<ValidateFunction> {
  const known = compiled.get(tool.name);
  if (known) return known;
  const { Ajv } = await import('ajv');
  const validate = new Ajv({ allErrors: true, strict: false }).compile(tool.inputSchema);
  compiled.set(tool.name, validate);
  return validate;
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
