/** The built-in tools by name, and every tool whose input the generated validators check (scripts/gen-tool-validators.ts). */
import { bashTool } from './bash.ts';
import { editTool } from './edit.ts';
import { globTool } from './glob.ts';
import { grepTool } from './grep.ts';
import { listTool } from './list.ts';
import { questionTool } from './question.ts';
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

/** The built-in tools and `question` (offered only where someone can answer, tools/question.ts): the tools checked by generated validators. */
export const VALIDATED_TOOLS: readonly BuiltinTool[] = Object.freeze([...Object.values(BUILTIN_TOOLS), questionTool as unknown as BuiltinTool]);
