/**
 * The system prompt of an agent's turn, put together as OpenCode 1.18 puts it (its SystemPrompt
 * and LLMRequestPrep): the agent's prompt, the environment block (the model's name and id, the
 * working directory, the project root, whether it is a git repository, the platform, today's
 * date), the instructions (AGENTS.md, `instructions`), the MCP servers' instructions, the skills
 * the `skill` tool loads, and the message's own system text, joined by a line break into one text
 * (the one item a plugin's `experimental.chat.system.transform` gets).
 *
 * The agent's prompt is OpenCode's base prompt for the model's family when the agent has none
 * (agents/base-prompt.ts, chosen in turn-system.ts). Not here: OpenCode's project references
 * (Pantheon has none).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import type { Skill } from '../agents/skills.ts';
import type { McpInstructions } from '../mcp/types.ts';

/** The model a call goes to, as the environment block names it. */
export interface PromptModel {
  provider: string;
  /** The id the provider knows it by. */
  upstreamId: string;
}

/** Where the turn runs. */
export interface PromptPlace {
  /** The working directory (absolute). */
  cwd: string;
  /** The project root: the git root, else the working directory. */
  projectRoot: string;
  git: boolean;
  platform: NodeJS.Platform;
  now: Date;
}

export interface SystemPromptParts {
  /** The agent's own prompt (or, for an agent without one, OpenCode's base prompt for the model). */
  agentPrompt?: string | undefined;
  /** The model and place for the environment block; none (a compaction, a task without tools) sends none. */
  environment?: { model: PromptModel; place: PromptPlace } | undefined;
  /** `Instructions from: <file>\n<text>` each. */
  instructions: readonly string[];
  /** The instructions of the MCP servers whose tools the agent is offered. */
  mcp?: readonly McpInstructions[] | undefined;
  /** The skills the `skill` tool offers (undefined: no such tool). */
  skills?: readonly Skill[] | undefined;
  /** The message's system text (a session's, a request's `system`, a plugin's `chat.message`). */
  userSystem?: string | undefined;
}

/** The environment block's first line, which names the model: replaced for a fallback's call (forModel). */
function modelLine(model: PromptModel): string {
  return `You are powered by the model named ${model.upstreamId}. The exact model ID is ${model.provider}/${model.upstreamId}`;
}

/** OpenCode's environment block. The date is Date.toDateString()'s (`Tue Dec 08 2026`), in local time. */
export function environmentBlock(model: PromptModel, place: PromptPlace): string {
  return [
    modelLine(model),
    'Here is some useful information about the environment you are running in:',
    '<env>',
    `  Working directory: ${place.cwd}`,
    `  Workspace root folder: ${place.projectRoot}`,
    `  Is directory a git repo: ${place.git ? 'yes' : 'no'}`,
    `  Platform: ${place.platform}`,
    `  Today's date: ${place.now.toDateString()}`,
    '</env>',
  ].join('\n');
}

function xmlEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** Names in a stable order that needs no locale: case-insensitive, then as written. */
function byName(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** OpenCode's skills section: each skill's name, what it is for and its SKILL.md. */
export function skillsBlock(skills: readonly Skill[]): string {
  const listed = [...skills].sort((a, b) => byName(a.name, b.name));
  return [
    'Skills provide specialized instructions and workflows for specific tasks.',
    'Use the skill tool to load a skill when a task matches its description.',
    '<available_skills>',
    ...listed.flatMap((s) => ['  <skill>', `    <name>${s.name}</name>`, `    <description>${s.description}</description>`, `    <location>${xmlEscape(s.file)}</location>`, '  </skill>']),
    '</available_skills>',
  ].join('\n');
}

/** OpenCode's `<mcp_instructions>`: each server's text, indented under its name; undefined when none said any. */
export function mcpBlock(servers: readonly McpInstructions[]): string | undefined {
  if (servers.length === 0) return undefined;
  return ['<mcp_instructions>', ...servers.flatMap((s) => [`  <server name="${s.server}">`, ...s.text.split('\n').map((line) => `    ${line}`), '  </server>']), '</mcp_instructions>'].join('\n');
}

/** The servers whose instructions the agent gets: those with no tools, and those with a tool it is offered (as OpenCode leaves out a server whose every tool is denied). */
export function offeredServers(servers: readonly McpInstructions[], offered: Readonly<Record<string, unknown>>): McpInstructions[] {
  return servers.filter((s) => s.tools.length === 0 || s.tools.some((name) => Object.hasOwn(offered, name)));
}

/** The whole system prompt, in OpenCode's order, one line break between parts; undefined when empty. */
export function composeSystemPrompt(parts: SystemPromptParts): string | undefined {
  const mcp = parts.mcp ? mcpBlock(parts.mcp) : undefined;
  const all = [
    parts.agentPrompt,
    parts.environment ? environmentBlock(parts.environment.model, parts.environment.place) : undefined,
    ...parts.instructions,
    mcp,
    parts.skills ? skillsBlock(parts.skills) : undefined,
    parts.userSystem,
  ];
  return all.filter((p): p is string => Boolean(p)).join('\n') || undefined;
}

/** Where a turn runs, for the environment block: the git check looks for `.git` in the project root (a folder, or a worktree's file). */
export async function promptPlace(cwd: string, projectRoot: string, now = new Date()): Promise<PromptPlace> {
  const git = await fs.stat(path.join(projectRoot, '.git')).then(
    () => true,
    () => false,
  );
  return { cwd: path.resolve(cwd), projectRoot, git, platform: process.platform, now };
}

/**
 * A call's system prompt for `model` when it was made for `head` (a fallback's or a budget
 * downgrade's call): the environment block names the model the call goes to, as OpenCode's names
 * its one model. Other calls are left as they are.
 */
export function forModel(call: LanguageModelV4CallOptions, head: PromptModel, model: PromptModel): LanguageModelV4CallOptions {
  if (model.provider === head.provider && model.upstreamId === head.upstreamId) return call;
  const from = modelLine(head);
  const first = call.prompt[0];
  if (first?.role !== 'system' || !first.content.includes(from)) return call;
  return { ...call, prompt: [{ ...first, content: first.content.replace(from, () => modelLine(model)) }, ...call.prompt.slice(1)] };
}
