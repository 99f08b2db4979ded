/**
 * `opencode agent create`'s model half, as OpenCode does it: one request asks a model for an
 * agent's `identifier`, `whenToUse` and `systemPrompt` as JSON (OpenCode's fields, temperature 0.3),
 * sent through Pantheon's scheduler (rate limits, retries, the chain's fallbacks); then the agent's
 * markdown file in OpenCode's format (frontmatter: description, mode, the permissions it denies; the
 * system prompt as the body).
 */
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import type { Runtime } from '../run/runtime.ts';

/** The permissions `agent create` offers, OpenCode's list in its order. */
export const AGENT_PERMISSIONS = ['bash', 'read', 'edit', 'glob', 'grep', 'webfetch', 'task', 'todowrite', 'websearch', 'lsp', 'skill'] as const;

export interface GeneratedAgent {
  identifier: string;
  whenToUse: string;
  systemPrompt: string;
}

const SYSTEM = `You design agents for an AI coding assistant. From a description of what an agent should do, write its configuration: a short identifier, when to use it, and its system prompt.

Work out the agent's core purpose, the expertise it needs, how it should go about the work, what good output looks like, and where it should ask for clarification or stop. Write the system prompt in the second person ("You are…", "You will…"): specific rather than generic, with concrete steps, quality checks and the output format, and short enough that every sentence earns its place.

Answer with one JSON object with exactly these fields:
{
  "identifier": "lowercase letters, digits and hyphens, 2-4 words, e.g. code-reviewer, api-docs-writer, test-generator",
  "whenToUse": "one or two sentences starting with 'Use this agent when…' that say when to hand work to this agent",
  "systemPrompt": "the complete system prompt"
}`;

/** The request's messages: OpenCode's user message, with the names already taken. */
function prompt(description: string, taken: readonly string[]) {
  return [
    { role: 'system' as const, content: SYSTEM },
    {
      role: 'user' as const,
      content: [
        {
          type: 'text' as const,
          text: `Create an agent configuration based on this request: "${description}".\n\nIMPORTANT: The following identifiers already exist and must NOT be used: ${taken.join(', ')}\n  Return ONLY the JSON object, no other text, do not wrap in backticks`,
        },
      ],
    },
  ];
}

const IDENTIFIER = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The agent the model's answer describes; a PROVIDER_ERROR (exit 1) naming what is wrong with it otherwise. */
export function parseGenerated(text: string, model: string): GeneratedAgent {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  let value: unknown;
  try {
    value = start >= 0 && end > start ? JSON.parse(text.slice(start, end + 1)) : undefined;
  } catch {
    value = undefined;
  }
  const wrong = (what: string) =>
    new PantheonError('PROVIDER_ERROR', `The model ${model} did not describe an agent: ${what}.`, { hint: 'Run it again, or pick a stronger model with -m provider/model; nothing was written.' });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw wrong('its answer holds no JSON object');
  const v = value as Record<string, unknown>;
  for (const field of ['identifier', 'whenToUse', 'systemPrompt'] as const) {
    if (typeof v[field] !== 'string' || !(v[field] as string).trim()) throw wrong(`"${field}" is missing or not text`);
  }
  const identifier = (v.identifier as string).trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');
  if (!IDENTIFIER.test(identifier)) throw wrong(`its identifier "${(v.identifier as string).slice(0, 64)}" has no letters or digits`);
  return { identifier, whenToUse: (v.whenToUse as string).trim(), systemPrompt: (v.systemPrompt as string).trim() };
}

/** Asks `model` (a `provider/model` ref; its chain is it, then the top-level fallbacks) for the agent. */
export async function generateAgent(config: Readonly<Config>, runtime: Runtime, model: string, description: string, taken: readonly string[], signal?: AbortSignal): Promise<GeneratedAgent> {
  const { gatewayCall } = await import('../core/gateway.ts');
  const { eachPart } = await import('../scheduler/stream-parts.ts');
  const answer = await gatewayCall({ config, runtime }, { model, options: { prompt: prompt(description, taken), temperature: 0.3 }, whole: true, ...(signal ? { signal } : {}) });
  let text = '';
  try {
    await eachPart(answer.output, (part) => {
      if (part.type === 'text-delta') text += part.delta;
      else if (part.type === 'error') throw part.error;
    });
  } catch (error) {
    answer.end('failed', error);
    throw error;
  }
  answer.end('success');
  return parseGenerated(text, answer.model.label);
}

/** A YAML scalar for the frontmatter: JSON's quoted string is one, whatever the text holds. */
function scalar(text: string): string {
  return JSON.stringify(text);
}

/** The agent's markdown file, as OpenCode writes it: description, mode, the denied permissions, then the prompt. */
export function agentMarkdown(agent: GeneratedAgent, mode: string, allowed: readonly string[]): string {
  const denied = AGENT_PERMISSIONS.filter((p) => !allowed.includes(p));
  const lines = ['---', `description: ${scalar(agent.whenToUse)}`, `mode: ${mode}`];
  if (denied.length > 0) lines.push('permission:', ...denied.map((p) => `  ${p}: deny`));
  lines.push('---', '');
  return `${lines.join('\n')}${agent.systemPrompt}\n`;
}
