/**
 * OpenCode's built-in tools as a model sees them (data/opencode-tools/, taken from OpenCode 1.18.33
 * by scripts/refresh-opencode-tools.ts): each tool's description and parameter schema, for
 * Pantheon's tools of the same name. Models were prompted and tuned on these words, and the
 * system prompt (data/opencode-prompts/) names the tools as they describe themselves.
 *
 * A description's `{{NAME}}` placeholders are the values OpenCode fills in per machine; Pantheon
 * fills in its own (`fill`). Read from disk on first use, each file once per process.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { JSONSchema7 } from 'ai';
import { packageRoot } from '../paths.ts';

const DIR = path.join(packageRoot, 'data', 'opencode-tools');

interface ToolIndex {
  source: string;
  tools: Record<string, { description: string; parameters: JSONSchema7 }>;
  offered: Record<string, string[]>;
}

let index: ToolIndex | undefined;
const texts = new Map<string, string>();

function toolIndex(): ToolIndex {
  index ??= JSON.parse(fs.readFileSync(path.join(DIR, 'index.json'), 'utf8')) as ToolIndex;
  return index;
}

function entry(name: string): ToolIndex['tools'][string] {
  const found = toolIndex().tools[name];
  if (!found) throw new Error(`data/opencode-tools/index.json has no tool "${name}": run npm run refresh:opencode-tools`);
  return found;
}

/** The release the texts were taken from (`opencode-ai@1.18.33`). */
export function opencodeToolsSource(): string {
  return toolIndex().source;
}

/** OpenCode's description of `name`, its `{{NAME}}` placeholders replaced by `fill`'s values (a placeholder left unfilled is an error: the data changed). */
export function opencodeDescription(name: string, fill: Record<string, string | number> = {}): string {
  const file = entry(name).description;
  let text = texts.get(file);
  if (text === undefined) {
    text = fs.readFileSync(path.join(DIR, file), 'utf8');
    texts.set(file, text);
  }
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (whole, key: string) => {
    const value = fill[key];
    if (value === undefined) throw new Error(`data/opencode-tools/${file} has a placeholder ${whole} that Pantheon does not fill`);
    return String(value);
  });
}

/** OpenCode's parameter schema of `name`, as it sends it (`$schema` draft 2020-12, its own bounds and descriptions). */
export function opencodeParameters(name: string): JSONSchema7 {
  return entry(name).parameters;
}
