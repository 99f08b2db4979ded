/**
 * A PluginHost made in a test from hook functions (the loader's is not needed to drive a turn's
 * hooks): each plugin's hooks in order, awaited, changing the same output; every call recorded.
 */
import type { PluginHost, PluginHooks, TriggerHook } from '../../src/plugins/types.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a hook's arguments as a plugin's JavaScript sees them
type Loose = any;
type Hook = (input: Loose, output: Loose) => unknown;

export interface TestHost extends PluginHost {
  /** Each trigger, in order: the hook's name and a copy of its input. */
  calls: { hook: TriggerHook; input: Loose }[];
  of(hook: TriggerHook): Loose[];
}

export function testHost(...plugins: Partial<Record<TriggerHook, Hook>>[]): TestHost {
  const calls: { hook: TriggerHook; input: Loose }[] = [];
  const hooks = plugins as PluginHooks[];
  return {
    directory: '/',
    worktree: '/',
    sources: [],
    tools: new Map(),
    calls,
    of: (hook) => calls.filter((c) => c.hook === hook).map((c) => c.input),
    has: (hook) => hooks.some((p) => typeof p[hook] === 'function'),
    async trigger(hook, input, output) {
      calls.push({ hook, input: structuredClone(input) });
      for (const plugin of hooks) {
        const fn = plugin[hook];
        if (typeof fn === 'function') await (fn as Hook)(input, output);
      }
      return output;
    },
    publish: () => undefined,
    dispose: async () => undefined,
  };
}
