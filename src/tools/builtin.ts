/** The built-in tools by name (their schemas also feed scripts/gen-tool-validators.ts). */
import { bashTool } from './bash.ts';
import { editTool } from './edit.ts';
import { globTool } from './glob.ts';
import { grepTool } from './grep.ts';
import { listTool } from './list.ts';
import { readTool } from './read.ts';
import type { BuiltinTool } from './types.ts';
import { webfetchTool } from './webfetch.ts';
import { writeTool } from './write.ts';

export const BUILTIN_TOOLS: Readonly<Record<string, BuiltinTool>> = Object.freeze(
  Object.fromEntries(
    ([readTool, listTool, globTool, grepTool, writeTool, editTool, bashTool, webfetchTool] as BuiltinTool<never>[]).map((t) => [t.name, t as unknown as BuiltinTool]),
  ),
);

export const BUILTIN_TOOL_NAMES: readonly string[] = Object.freeze(Object.keys(BUILTIN_TOOLS));
