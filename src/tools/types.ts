import type { JSONSchema7 } from 'ai';
import type { PermissionContext, PermissionRequest } from '../permissions/authorize.ts';
import type { Permission } from '../permissions/rules.ts';
import type { LspDiagnostic } from '../lsp/client.ts';
import type { FileDiff } from './file-diff.ts';
import type { QuestionAsker } from './question.ts';

/** What every built-in tool runs with. */
export interface ToolContext {
  /** Absolute path of the project root; every path argument is resolved against it. */
  projectRoot: string;
  /** The merged permission: the agent's own over the top-level one (see mergePermission). */
  permission: Permission;
  /** Approve every `ask` (`--auto`). */
  auto: boolean;
  /** Whether a person can answer questions. */
  interactive: boolean;
  /** Asks the user a yes/no question (the CLI passes ttyConfirm(); a server turn, an OpenCode client). */
  confirm?: PermissionContext['confirm'];
  /** Approves an `ask` without a question (a server turn's approval rules). */
  approve?: (request: PermissionRequest) => boolean;
  /** Why an unapproved `ask` was refused, when not the CLI's "pass --auto". */
  askHint?: string;
  /** Cancels running tools (bash kills its process group, webfetch aborts). */
  signal?: AbortSignal;
  /** Called for every refused call, with the tool name and the message the model gets. */
  onDenied?: (tool: string, detail: string) => void;
  /** Environment for `bash` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The plugins' `shell.env`: variables for a `bash` command run in a folder (plugins/ask-shell-hooks.ts). */
  shellEnv?: (cwd: string, callID: string | undefined) => Promise<Record<string, string>>;
  /** The plugins' `permission.ask` (PermissionContext.pluginAsk). */
  pluginAsk?: PermissionContext['pluginAsk'];
  /** The config's secret values (config/secrets.ts): no variable holding one reaches `bash`. */
  secrets?: readonly string[];
  /** fetch for `webfetch` (default globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
  /** The model's id for the call being run, and its input (set per call by the AI SDK tool). */
  toolCallId?: string;
  toolInput?: unknown;
  /** Told a call's title when the tool makes one from what it found (`webfetch`: the URL and the content type it was answered with). */
  onTitle?: (title: string, toolCallId: string | undefined) => void;
  /** Runs the config's formatters on a file `edit` or `write` changed (src/format/formatters.ts); the names of those that ran. */
  format?: (file: string, signal?: AbortSignal) => Promise<string[]>;
  /**
   * Tells the config's language servers that `edit` or `write` changed a file (absolute) and waits,
   * bounded, for their diagnostics; every file's, by absolute path (src/lsp/lsp.ts). Rejects only when the turn is cancelled.
   */
  diagnostics?: (file: string) => Promise<Map<string, LspDiagnostic[]>>;
  /** Told what an `edit` or `write` call changed (file-diff.ts); the diff is computed only when this is set. */
  onFileDiff?: (diff: FileDiff, toolCallId: string | undefined) => void;
  /**
   * The instruction files already in the session's context (its system prompt's, and those its
   * reads brought in): `read` adds a folder's own AGENTS.md not among them to its answer, and adds it
   * here (nested-instructions.ts). Without it, `read` brings in none.
   */
  loadedInstructions?: Set<string>;
  /** Puts the `question` tool's questions to the person at an OpenCode client (a turn sent through OpenCode's session routes). */
  askQuestions?: QuestionAsker;
}

/** A built-in tool: its JSON Schema (what the model sees and what inputs are checked against) and its body. */
export interface BuiltinTool<Input = Record<string, unknown>> {
  name: string;
  description: string;
  /** What inputs are checked against (generated validators: scripts/gen-tool-validators.ts), and what the model sees unless `parameters` is set. */
  inputSchema: JSONSchema7;
  /** The parameter schema the model sees, when not `inputSchema`: OpenCode's, as it sends it (data/opencode-tools/). */
  readonly parameters?: JSONSchema7;
  run(input: Input, ctx: ToolContext): Promise<string>;
}
