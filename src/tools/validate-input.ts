/**
 * Checks a tool's arguments against its JSON Schema with the validator generated at build time
 * (scripts/gen-tool-validators.ts: no schema is compiled at run time). A failure names every
 * problem and the expected arguments, so the model can call again correctly.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { toolValidators } from './generated/input-validators.ts';
import type { BuiltinTool } from './types.ts';

function validatorFor(tool: BuiltinTool): ValidateFunction {
  const validate = Object.hasOwn(toolValidators, tool.name) ? toolValidators[tool.name] : undefined;
  if (!validate) throw new Error(`no generated input validator for tool "${tool.name}": run \`npm run gen\``);
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
export function inputProblems(tool: BuiltinTool, input: unknown): string | undefined {
  const validate = validatorFor(tool);
  if (validate(input)) return undefined;
  const problems = [...new Set((validate.errors ?? []).map(describe))];
  return `invalid arguments for ${tool.name}: ${problems.join('; ')}. Expected ${signature(tool)}.`;
}
