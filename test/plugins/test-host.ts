/**
 * A PluginHost made in a test from hook functions (the loader's is not needed to drive a turn's
 * hooks): each plugin's hooks in order, awaited, changing the same output; every call recorded.
 */
import type { PluginHost, PluginHooks, TriggerHook } from '../../src/plugins/types.ts';

type Hook = (input: any, output: any) => unknown;

export interface TestHost extends PluginHost {
  /** Each trigger, in order: the hook's name and a copy of its input. */
  calls: { hook: TriggerHook; input: any }[];
  of(hook: TriggerHook): any[];
}

export function testHost(...plugins: Partial<Record<TriggerHook, Hook>>[]): TestHost {
  const calls: { hook: TriggerHook; input: any }[] = [];
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
