/**
 * The types of Bun's shell (`Bun.$`) as OpenCode's plugins get it in their input as `$` (the
 * `BunShell` of `@opencode-ai/plugin`'s shell.d.ts, by the same names and shapes), for Pantheon's
 * own `$` on Node (src/plugins/bun-shell.ts).
 */

/** What a template may interpolate: text (one argument), an array (one argument each), `{raw}` (inserted as written), or bytes for `< ${...}`. */
export type ShellExpression =
  | { toString(): string }
  | ShellExpression[]
  | string
  | { raw: string }
  | ReadableStream;

/** What a finished command gave (Bun's `ShellOutput`). */
export interface BunShellOutput {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitCode: number;
  text(encoding?: BufferEncoding): string;
  json(): unknown;
  arrayBuffer(): ArrayBuffer;
  bytes(): Uint8Array;
  blob(): Blob;
}

/** A command that failed (Bun's `ShellError`): `exitCode`, `stdout`, `stderr` and the output's readers. */
export type BunShellError = Error & BunShellOutput;

/** One command, run when first awaited (Bun's `ShellPromise`); the setters return it, and throw once it runs. */
export interface BunShellPromise extends Promise<BunShellOutput> {
  readonly stdin: WritableStream;
  cwd(newCwd: string): this;
  env(newEnv: Record<string, string> | undefined): this;
  quiet(isQuiet?: boolean): this;
  lines(): AsyncIterable<string>;
  text(encoding?: BufferEncoding): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  blob(): Promise<Blob>;
  nothrow(): this;
  throws(shouldThrow: boolean): this;
  /** Starts the command now (it starts anyway when awaited). */
  run(): this;
}

/** Bun's `$`: a tagged template that makes a command, with its defaults (which the setters change in place, as Bun's do). */
export interface BunShell {
  (strings: TemplateStringsArray, ...expressions: ShellExpression[]): BunShellPromise;
  braces(pattern: string): string[];
  escape(input: string): string;
  env(newEnv?: Record<string, string | undefined>): BunShell;
  cwd(newCwd?: string): BunShell;
  nothrow(): BunShell;
  throws(shouldThrow: boolean): BunShell;
}
