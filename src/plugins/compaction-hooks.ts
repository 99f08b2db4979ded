/**
 * The plugins' hooks around a compaction, as OpenCode 1.18.33 calls them:
 * `experimental.session.compacting` before the summary is asked for (`{sessionID}`, `{context: [],
 * prompt: undefined}`: texts added after the prompt, or a prompt that replaces it), and
 * `experimental.compaction.autocontinue` after an automatic compaction succeeded (`{enabled: true}`:
 * `false` skips the synthetic "continue" turn that follows it).
 */
import { PluginHookError, runHook } from './hook-error.ts';
import type { PluginHost } from './types.ts';

/** The compaction's prompt as the hooks leave it: theirs when they set one, else `base` with their context texts after it. */
export async function compactionPrompt(host: PluginHost | undefined, sessionID: string, base: string, signal?: AbortSignal): Promise<string> {
  if (!host?.has('experimental.session.compacting')) return base;
  const out = await runHook(host, 'experimental.session.compacting', { sessionID }, { context: [] as unknown[], prompt: undefined as unknown }, signal);
  if (!Array.isArray(out.context) || out.context.some((c) => typeof c !== 'string')) {
    throw new PluginHookError('experimental.session.compacting', new Error('output.context must be a list of strings'));
  }
  if (out.prompt !== undefined && out.prompt !== null && typeof out.prompt !== 'string') {
    throw new PluginHookError('experimental.session.compacting', new Error('output.prompt must be a string or undefined'));
  }
  if (typeof out.prompt === 'string' && out.prompt !== '') return out.prompt;
  return [base, ...(out.context as string[])].filter(Boolean).join('\n\n');
}

/** Whether the synthetic "continue" turn follows an automatic compaction (the hooks may say no). */
export async function autoContinues(host: PluginHost | undefined, input: Record<string, unknown>, signal?: AbortSignal): Promise<boolean> {
  if (!host?.has('experimental.compaction.autocontinue')) return true;
  const out = await runHook(host, 'experimental.compaction.autocontinue', input, { enabled: true as unknown }, signal);
  return out.enabled !== false;
}
