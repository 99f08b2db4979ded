/**
 * OpenCode's plugins as Pantheon runs them: the hooks a plugin returns (OpenCode's `Hooks` of
 * `@opencode-ai/plugin`, by the same names and argument shapes), and the host that holds the
 * plugins of one project and calls their hooks.
 */

/** One of OpenCode's hook names whose value is `(input, output) => Promise<void>`. */
export type TriggerHook =
  | 'chat.message'
  | 'chat.params'
  | 'chat.headers'
  | 'permission.ask'
  | 'command.execute.before'
  | 'tool.execute.before'
  | 'tool.execute.after'
  | 'shell.env'
  | 'tool.definition'
  | 'experimental.chat.messages.transform'
  | 'experimental.chat.system.transform'
  | 'experimental.session.compacting'
  | 'experimental.compaction.autocontinue'
  | 'experimental.text.complete';

/** What a tool's `execute` gets besides its arguments (OpenCode's `ToolContext`). */
export interface PluginToolContext {
  sessionID: string;
  messageID: string;
  /** The call's id (OpenCode's context has it, beyond the plugin package's type). */
  callID?: string;
  agent: string;
  /** The project directory of the session. */
  directory: string;
  /** The project's worktree root. */
  worktree: string;
  abort: AbortSignal;
  /** Sets the running call's title and metadata (shown by clients). */
  metadata(input: { title?: string; metadata?: Record<string, unknown> }): void;
  /** Asks the agent's permission (`ask` rules put the question to the person); rejects when refused. */
  ask(input: { permission: string; patterns: string[]; always?: string[]; metadata?: Record<string, unknown> }): Promise<void>;
}

/** What a tool's `execute` may answer (OpenCode's `ToolResult`). */
export type PluginToolResult = string | { title?: string; output: string; metadata?: Record<string, unknown>; attachments?: unknown[] };

/** A tool as `tool({...})` of `@opencode-ai/plugin` makes it: `args` are zod schemas (or JSON Schema values). */
export interface PluginToolDefinition {
  description: string;
  args: Record<string, unknown>;
  execute(args: Record<string, unknown>, context: PluginToolContext): Promise<PluginToolResult>;
}

/** An OpenCode bus event as plugins get it (`{event: {id, type, properties}}`). */
export interface PluginEvent {
  id: string;
  type: string;
  properties: Record<string, unknown>;
}

/** The hooks one plugin returned (OpenCode's `Hooks`); unknown keys are kept and ignored. */
export interface PluginHooks {
  dispose?: () => Promise<void> | void;
  event?: (input: { event: PluginEvent }) => Promise<void> | void;
  config?: (config: Record<string, unknown>) => Promise<void> | void;
  tool?: Record<string, PluginToolDefinition>;
  auth?: PluginAuthHook;
  provider?: unknown;
  [hook: string]: unknown;
}

/** A login method of an `auth` hook (OpenCode's AuthHook `methods`), as a plugin wrote it: checked where it is used. */
export interface PluginAuthMethod {
  type?: unknown;
  label?: unknown;
  prompts?: unknown;
  authorize?: unknown;
}

/** A plugin's `auth` hook (OpenCode's `AuthHook`): the provider it serves, its login methods, and the loader of the provider's request options. */
export interface PluginAuthHook {
  provider?: unknown;
  loader?: unknown;
  methods?: unknown;
}

/** A plugin's `provider` hook (OpenCode's `ProviderHook`): `models(provider, {auth})` answers the provider's models as the plugin serves them. */
export interface PluginProviderHook {
  id?: unknown;
  models?: unknown;
}

/** A plugin that was found: where it came from (a file, or a config entry's package) and, when it failed, why. */
export interface PluginSource {
  /** A plugin (a file or a config entry), or a file of custom tools. */
  kind: 'plugin' | 'tools';
  /** A file path, or the config's `plugin` entry as written. */
  spec: string;
  /** Why it did not load (one sentence), when it did not. */
  problem?: string;
}

/** The plugins and custom tools of one project (a run's, a server instance's). */
export interface PluginHost {
  /** The project directory and worktree the plugins were started for. */
  readonly directory: string;
  readonly worktree: string;
  /** The plugins found, loaded or not (doctor, `debug`). */
  readonly sources: readonly PluginSource[];
  /** The custom tools (`.opencode/tool/*.ts` and the plugins' `tool` hooks), by tool name; a later one wins. */
  readonly tools: ReadonlyMap<string, PluginToolDefinition>;
  /** Whether any plugin has this hook (a caller skips building the hook's arguments otherwise; a front-end feeds `publish` only when one has `event`). */
  has(hook: TriggerHook | 'config' | 'event'): boolean;
  /**
   * Calls each plugin's hook in load order, each awaited, with `input` and the same `output` (which
   * the hooks change in place), and returns `output`. What a hook throws is thrown (OpenCode's
   * `tool.execute.before` refuses a call by throwing).
   */
  trigger<O extends object>(hook: TriggerHook, input: unknown, output: O): Promise<O>;
  /**
   * Calls each plugin's `config` hook, in load order, with `config` (which they may change in place),
   * and `after` with the plugin's file or config entry once its hook is done (or threw); what each
   * that threw said, in one sentence.
   */
  configure?(config: Record<string, unknown>, after?: (plugin: string) => void): Promise<string[]>;
  /** Hands an event to every plugin's `event` hook; never waits for them or throws. */
  publish(event: { type: string; properties: Record<string, unknown> }): void;
  /** The plugins' `auth` hooks for `providerId`, in load order (OpenCode calls each one's loader; its login takes the last). */
  authHooks?(providerId: string): PluginAuthHook[];
  /** The providers the plugins' `auth` hooks serve, in load order: the built-ins' first (unless `builtins: false`), loaded or not. */
  authProviders?(options?: { builtins?: boolean }): string[];
  /**
   * Loads the built-in plugins (plugins/builtin/) that serve `providerId`, or all of them: their
   * hooks are the host's from then on (authHooks, trigger, has). Never throws.
   */
  loadBuiltins?(providerId?: string): Promise<void>;
  /** The providers the built-in plugins serve, loaded or not. */
  builtinProviders?(): string[];
  /** The plugins' `provider` hooks for `providerId` (every one without it), in load order (the built-ins' once loaded). */
  providerHooks?(providerId?: string): PluginProviderHook[];
  /** Calls every plugin's `dispose`; bounded; never throws. */
  dispose(): Promise<void>;
}
