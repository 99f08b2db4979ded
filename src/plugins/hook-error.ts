/**
 * A plugin's hook that threw. OpenCode awaits each hook as an Effect promise, so what one throws
 * fails the work it was called for (a model call's hooks fail the turn); Pantheon does the same,
 * with one sentence naming the hook and what it threw.
 */
import { PantheonError } from '../errors.ts';
import type { TriggerHook } from './types.ts';

/** The most of a hook's own message shown. */
const SHOWN = 300;

/** What a hook threw, as a short line (its message, else its value). */
function thrownText(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  const line = String(text).trim() || 'no message';
  return line.length > SHOWN ? `${line.slice(0, SHOWN - 1)}\u2026` : line;
}

export class PluginHookError extends PantheonError {
  readonly hook: TriggerHook;

  constructor(hook: TriggerHook, error: unknown) {
    super('PLUGIN_FAILED', `The plugin hook ${hook} failed: ${thrownText(error)}`, {
      hint: 'Fix the plugin (a file in .opencode/plugin/ or an entry of the config\'s "plugin" list), or run with --pure to start no plugins.',
      cause: error,
    });
    this.name = 'PluginHookError';
    this.hook = hook;
  }
}

/** Calls `hook` of the host's plugins; what one throws comes back as a PluginHookError naming it. */
export async function runHook<O extends object>(host: { trigger<T extends object>(hook: TriggerHook, input: unknown, output: T): Promise<T> }, hook: TriggerHook, input: unknown, output: O): Promise<O> {
  try {
    return await host.trigger(hook, input, output);
  } catch (error) {
    throw error instanceof PluginHookError ? error : new PluginHookError(hook, error);
  }
}
