/**
 * OpenCode's base system prompt: the text OpenCode 1.18 sends in place of an agent's prompt when
 * the agent has none (its own `build`, `plan` and `general`, and users' agents without a `prompt`
 * or a markdown body), chosen by the model the call goes to. The texts and the family rule are data
 * in data/opencode-prompts/ (scripts/refresh-opencode-prompts.ts takes them from OpenCode's release;
 * the rule, written by hand from OpenCode's behaviour, is its index.json): the first rule that
 * matches the model names the file, else the default. Read from disk when a call needs one, each
 * file once per process.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../paths.ts';

const DIR = path.join(packageRoot, 'data', 'opencode-prompts');

/** One family: which file, for which models (index.json's `about` says how a rule matches). */
export interface BasePromptRule {
  file: string;
  /** The provider's model id contains one of these. */
  anyOf?: string[];
  /** … and every one of these. */
  allOf?: string[];
  /** Compare the model id in lower case. */
  ignoreCase?: boolean;
  /** Or the provider's id is one of these. */
  providers?: string[];
  /** `{{NAME}}` in the text: the value of the first option whose `anyOf` the model id matches (none: always). */
  fill?: Record<string, { anyOf?: string[]; value: string }[]>;
}

export interface BasePromptIndex {
  /** The release the texts were taken from (`opencode-linux-x64@1.18.33`). */
  source: string;
  rules: BasePromptRule[];
  default: string;
}

/** The model a call goes to: its provider's id and the id the provider knows it by. */
export interface BasePromptModel {
  provider: string;
  upstreamId: string;
}

export interface BasePromptChoice {
  file: string;
  /** Placeholder name → value. */
  fill: Record<string, string>;
}

function ruleMatches(rule: BasePromptRule, model: BasePromptModel): boolean {
  if (rule.providers?.includes(model.provider)) return true;
  if (!rule.anyOf?.length && !rule.allOf?.length) return false;
  const id = rule.ignoreCase ? model.upstreamId.toLowerCase() : model.upstreamId;
  const has = (s: string) => id.includes(rule.ignoreCase ? s.toLowerCase() : s);
  return (!rule.anyOf?.length || rule.anyOf.some(has)) && (rule.allOf ?? []).every(has);
}

/** Which text a model gets, and the values of its placeholders. */
export function chooseBasePrompt(index: BasePromptIndex, model: BasePromptModel): BasePromptChoice {
  const rule = index.rules.find((r) => ruleMatches(r, model));
  if (!rule) return { file: index.default, fill: {} };
  const fill: Record<string, string> = {};
  for (const [name, options] of Object.entries(rule.fill ?? {})) {
    const option = options.find((o) => !o.anyOf?.length || o.anyOf.some((s) => model.upstreamId.includes(s)));
    if (option) fill[name] = option.value;
  }
  return { file: rule.file, fill };
}

let index: Promise<BasePromptIndex> | undefined;
const texts = new Map<string, Promise<string>>();

async function readData(file: string): Promise<string> {
  try {
    return await fs.readFile(path.join(DIR, file), 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`OpenCode's base prompt ${path.join(DIR, file)} could not be read (${why}): this install is incomplete; reinstall it, or give the agent a prompt of its own.`, { cause: error });
  }
}

/** Reads once; a failed read is tried again next time. */
function once<T>(get: () => Promise<T>, forget: () => void): Promise<T> {
  const p = get();
  p.catch(forget);
  return p;
}

/** data/opencode-prompts/index.json (read once). */
export function basePromptIndex(): Promise<BasePromptIndex> {
  index ??= once(
    async () => JSON.parse(await readData('index.json')) as BasePromptIndex,
    () => (index = undefined),
  );
  return index;
}

/** OpenCode's base prompt for calls to `model`, placeholders filled. */
export async function basePrompt(model: BasePromptModel): Promise<string> {
  const choice = chooseBasePrompt(await basePromptIndex(), model);
  let text = texts.get(choice.file);
  if (!text) {
    text = once(
      () => readData(choice.file),
      () => texts.delete(choice.file),
    );
    texts.set(choice.file, text);
  }
  let out = await text;
  for (const [name, value] of Object.entries(choice.fill)) out = out.replaceAll(`{{${name}}}`, value);
  return out;
}
