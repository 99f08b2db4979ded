/**
 * A plugin's hook that threw. OpenCode awaits each hook as an Effect promise, so what one throws
 * fails the work it was called for (a model call's hooks fail the turn); Pantheon does the same,
 * with one sentence naming the hook and what it threw.
 */
import { PantheonError } from '../errors.ts';
import type { TriggerHook } from './types.ts';
import { unlessAborted } from '../unless-aborted.ts';

/** The most of a hook's own message shown. */
const SHOWN = 300;

/** What a hook threw, as a short line (its message, else its value). */
function thrownText(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  const line = String(text).trim() || 'no message';
  return line.length > SHOWN ? `${line.slice(0, SHOWN - 1)}\u2026` : line;
}

/** A hook PluginHookError names: a trigger hook, or the `auth` hook's loader (plugins/auth-loader.ts). */
export type FailedHook = TriggerHook | 'auth.loader' | 'provider.models';

export class PluginHookError extends PantheonError {
  readonly hook: FailedHook;

  constructor(hook: FailedHook, error: unknown) {
    super('PLUGIN_FAILED', `The plugin hook ${hook} failed: ${thrownText(error)}`, {
      hint: 'Fix the plugin (a file in .opencode/plugin/ or an entry of the config\'s "plugin" list), or run with --pure to start no plugins.',
      cause: error,
    });
    this.name = 'PluginHookError';
    this.hook = hook;
  }
}

/**
 * Calls `hook` of the host's plugins; what one throws comes back as a PluginHookError naming it.
 * Once `signal` (the turn's) is aborted, the hook is no longer waited for: its turn ends with the
 * signal's reason (the hook goes on unheeded, as OpenCode's interrupted Effect leaves it).
 */
export async function runHook<O extends object>(host: { trigger<T extends object>(hook: TriggerHook, input: unknown, output: T): Promise<T> }, hook: TriggerHook, input: unknown, output: O, signal?: AbortSignal): Promise<O> {
  try {
    return await unlessAborted(host.trigger(hook, input, output), signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    throw error instanceof PluginHookError ? error : new PluginHookError(hook, error);
  }
}
