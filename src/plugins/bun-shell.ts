/**
 * Bun's shell (`Bun.$`) on Node, for OpenCode's plugins, which get it in their input as `$`:
 * `` await $`git status --porcelain`.text() ``, `` await $`notify-send ${title}` ``. The template is
 * run by bash (or /bin/sh without bash) with each interpolated value quoted as one argument
 * (src/plugins/bun-shell-script.ts), in its own process group. The promise and shell APIs are Bun's
 * (its builtin's own code is the reference: a command runs when first awaited, the setters change
 * it in place, a non-zero exit rejects with a `ShellError` unless `nothrow`).
 *
 * Differences from Bun (checked against Bun 1.3.14, OpenCode's binary run with BUN_BE_BUN=1): the
 * commands are bash's (or the system's), not Bun's builtins, so Windows is not served, a missing
 * command exits 127 (Bun: 1) and a glob that matches nothing stays as written (Bun fails the
 * command); output not made quiet goes to the `output` callback (Pantheon's stdout may be JSON
 * lines), not to the process's stdout; a command reads no input unless given one (`< ${buffer}`,
 * `.stdin`; Bun's read the process's stdin); the default directory is the project's (Bun's: the
 * process's); each stream keeps at most `maxBuffer` bytes (16 MiB), past which the command is
 * stopped and the promise rejects; an interpolated `~` stays `~` (Bun expands it); `>` into a
 * Buffer, `Bun.file` and here-documents are not supported. Loaded only when a project has plugins.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { StringDecoder } from 'node:string_decoder';
import type { BunShell, BunShellOutput, BunShellPromise, ShellExpression } from './bun-shell-types.ts';
import { buildScript, bunBraces, bunEscape, type ShellInput, type ShellScript } from './bun-shell-script.ts';

export interface BunShellOptions {
  /** The default working directory (the project's); relative `.cwd()` paths are resolved against it. */
  cwd: string;
  /** The default environment of the commands, read when each starts (Bun's is `process.env`, live). */
  env: NodeJS.ProcessEnv;
  /** Where the output of commands not made quiet goes (Bun writes it to the process's stdout); without it, nowhere. */
  output?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** The most bytes of each stream kept for the promise; past it the command is stopped. */
  maxBuffer?: number;
  /** When aborted (the plugins' host is disposed), every running command's process group is killed and no new command runs. */
  signal?: AbortSignal;
}

export const MAX_BUFFER = 16 * 1024 * 1024;

/** After the shell exits, how long output that a background child still holds open is waited for. */
const DRAIN_MS = 500;

type Env = Record<string, string>;

/** What a command gave (Bun's `ShellOutput`). */
class ShellOutput implements BunShellOutput {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitCode: number;
  constructor(stdout: Buffer, stderr: Buffer, exitCode: number) {
    this.stdout = stdout;
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
  text(encoding?: BufferEncoding): string {
    return this.stdout.toString(encoding);
  }
  json(): unknown {
    return JSON.parse(this.stdout.toString());
  }
  arrayBuffer(): ArrayBuffer {
    // A copy: a small Buffer shares Node's pool, whose whole ArrayBuffer `.buffer` would be.
    return new Uint8Array(this.stdout).buffer;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.arrayBuffer());
  }
  blob(): Blob {
    return new Blob([this.arrayBuffer()]);
  }
}

/** A command that failed (Bun's `ShellError`): the message is Bun's, `Failed with exit code N`, or says why it was stopped. */
export class ShellError extends Error {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  readonly #output: ShellOutput;
  constructor(output: ShellOutput, message = `Failed with exit code ${output.exitCode}`) {
    super(message);
    this.name = 'ShellError';
    this.#output = output;
    this.exitCode = output.exitCode;
    this.stdout = output.stdout;
    this.stderr = output.stderr;
    // Bun's error carries the same again as `info`, not enumerable.
    Object.defineProperty(this, 'info', { value: { exitCode: output.exitCode, stdout: output.stdout, stderr: output.stderr }, writable: true, configurable: true });
  }
  text(encoding?: BufferEncoding): string {
    return this.#output.text(encoding);
  }
  json(): unknown {
    return this.#output.json();
  }
  arrayBuffer(): ArrayBuffer {
    return this.#output.arrayBuffer();
  }
  bytes(): Uint8Array {
    return this.#output.bytes();
  }
  blob(): Blob {
    return this.#output.blob();
  }
}

/** How a command ended: its output, or why it could not run or was stopped (which rejects even with `nothrow`). */
interface Ended {
  output: ShellOutput;
  /** Set when the promise rejects whatever `throws` says. */
  failure?: string;
}

/** One command's settings until it runs. */
interface Plan {
  script: ShellScript;
  cwd: string;
  /** Set by `.env()`; else the options' environment as it is when the command starts. */
  env: Env | undefined;
  quiet: boolean;
}

function cleanEnv(env: Record<string, string | undefined>): Env {
  const out: Env = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = String(value);
  return out;
}

/**
 * bash, or /bin/sh without it. `--norc`: bash whose stdin is a socket (Node's pipes are) takes itself
 * for a remote shell and reads ~/.bashrc; Bun's shell reads no startup file.
 */
function shellCommand(script: string): [string, string[]] {
  return fs.existsSync('/bin/bash') ? ['/bin/bash', ['--norc', '--noprofile', '-c', script]] : ['/bin/sh', ['-c', script]];
}

/** The process groups running now, of every shell: killed if Pantheon exits first. */
const running = new Set<number>();
let exitHook = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

function readable(input: ShellInput): Readable {
  if (input instanceof Uint8Array) return Readable.from([Buffer.from(input.buffer, input.byteOffset, input.byteLength)]);
  if (input instanceof ArrayBuffer) return Readable.from([Buffer.from(input)]);
  if (input instanceof DataView) return Readable.from([Buffer.from(input.buffer, input.byteOffset, input.byteLength)]);
  const stream = input instanceof Blob ? input.stream() : input instanceof Response ? input.body : input;
  return stream ? Readable.fromWeb(stream as NodeReadableStream) : Readable.from([]);
}

/** What every command of one `createBunShell` shares: the output callback, the bound, the abort signal. */
class Runtime {
  readonly options: BunShellOptions;
  readonly maxBuffer: number;
  readonly children = new Set<ChildProcess>();
  constructor(options: BunShellOptions) {
    this.options = options;
    this.maxBuffer = options.maxBuffer ?? MAX_BUFFER;
    options.signal?.addEventListener(
      'abort',
      () => {
        for (const child of this.children) if (child.pid !== undefined) killGroup(child.pid);
      },
      { once: true },
    );
  }

  /** Hands output to the callback; what the callback throws is not the command's business. */
  emit(text: string, stream: 'stdout' | 'stderr'): void {
    try {
      this.options.output?.(text, stream);
    } catch {
      // The output is still kept for the promise.
    }
  }

  run(plan: Plan, stdin: ReadableStream<Uint8Array> | undefined): Promise<Ended> {
    const empty = (): ShellOutput => new ShellOutput(Buffer.alloc(0), Buffer.alloc(0), 1);
    if (this.options.signal?.aborted) return Promise.resolve({ output: empty(), failure: "$: the project's plugins were stopped; no command runs after that." });
    if (process.platform === 'win32') {
      return Promise.resolve({ output: empty(), failure: "$: Pantheon's $ for plugins runs commands with bash or /bin/sh, which Windows does not have; run the plugin under WSL." });
    }
    let isFolder = false;
    try {
      isFolder = fs.statSync(plan.cwd).isDirectory();
    } catch {
      // Missing or unreadable: said below.
    }
    if (!isFolder) {
      const message = `$: the working directory ${JSON.stringify(plan.cwd)} does not exist or is not a folder; give .cwd() a folder that exists.`;
      return Promise.resolve({ output: empty(), failure: message });
    }
    return new Promise((resolve) => {
      const [file, args] = shellCommand(plan.script.text);
      const child = spawn(file, args, {
        cwd: plan.cwd,
        env: plan.env ?? cleanEnv(this.options.env),
        detached: true,
        stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...plan.script.inputs.map(() => 'pipe' as const)],
      });
      const pid = child.pid;
      if (pid !== undefined) {
        running.add(pid);
        this.children.add(child);
        if (!exitHook) {
          exitHook = true;
          process.once('exit', () => {
            for (const group of running) killGroup(group);
          });
        }
      }
      const feed = (source: Readable, sink: Writable | null, drained: boolean): void => {
        if (!sink) return;
        // A command that does not read its input closes it early: that is not a failure.
        sink.on('error', () => {});
        source.on('error', () => sink.destroy());
        // An extra descriptor is a socket, readable too: drained, so that it closes when the command ends.
        if (drained && sink instanceof Readable) sink.resume();
        source.pipe(sink);
      };
      if (stdin) feed(Readable.fromWeb(stdin as NodeReadableStream<Uint8Array>), child.stdin, false);
      plan.script.inputs.forEach((input, index) => feed(readable(input), child.stdio[3 + index] as Writable | null, true));

      const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
      const size = { stdout: 0, stderr: 0 };
      let overflow: 'stdout' | 'stderr' | undefined;
      const collect = (stream: 'stdout' | 'stderr', source: Readable | null): void => {
        if (!source) return;
        const decoder = plan.quiet || !this.options.output ? undefined : new StringDecoder('utf8');
        source.on('data', (chunk: Buffer) => {
          if (overflow) return;
          if (size[stream] + chunk.length > this.maxBuffer) {
            overflow = stream;
            if (pid !== undefined) killGroup(pid);
            return;
          }
          kept[stream].push(chunk);
          size[stream] += chunk.length;
          const text = decoder?.write(chunk);
          if (text) this.emit(text, stream);
        });
        source.on('end', () => {
          const text = decoder?.end();
          if (text) this.emit(text, stream);
        });
      };
      collect('stdout', child.stdout);
      collect('stderr', child.stderr);

      let done = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let drain: NodeJS.Timeout | undefined;
      const finish = (failure?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(drain);
        if (pid !== undefined) running.delete(pid);
        this.children.delete(child);
        const signalNumber = exit?.signal ? (os.constants.signals[exit.signal] ?? 0) : 0;
        const exitCode = exit?.code ?? (signalNumber ? 128 + signalNumber : 1);
        const output = new ShellOutput(Buffer.concat(kept.stdout), Buffer.concat(kept.stderr), exitCode);
        if (overflow) {
          const mib = this.maxBuffer / 1024 / 1024;
          const limit = Number.isInteger(mib) ? `${mib} MiB` : `${this.maxBuffer} bytes`;
          failure = `$: the command's ${overflow} passed ${limit}, the most Pantheon keeps of one stream, and it was stopped; send large output to a file instead (\`> out.txt\`).`;
        } else if (this.options.signal?.aborted && exit?.signal) {
          failure = "$: the command was stopped: the project's plugins were stopped.";
        }
        resolve({ output, failure });
      };
      child.on('error', (error) => {
        exit ??= { code: 1, signal: null };
        finish(`$: the shell could not start (${error.message}).`);
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // Something the command left in the background may hold the output open: stop waiting for it soon.
        drain = setTimeout(() => {
          for (const stream of child.stdio) stream?.destroy();
          finish();
        }, DRAIN_MS);
      });
      child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
        exit ??= { code, signal };
        finish();
      });
    });
  }
}

/** One command (Bun's `ShellPromise`): runs when first awaited (or at `.run()`); its setters throw once it runs. */
class ShellPromise extends Promise<BunShellOutput> implements BunShellPromise {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }
  readonly #runtime: Runtime;
  readonly #base: string;
  #plan: Plan | undefined;
  #throws: boolean;
  #stdin: TransformStream<Uint8Array, Uint8Array> | undefined;
  #resolve: (output: BunShellOutput) => void;
  #reject: (error: unknown) => void;

  constructor(runtime: Runtime, plan: Plan, throws: boolean) {
    let resolve!: (output: BunShellOutput) => void;
    let reject!: (error: unknown) => void;
    super((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#runtime = runtime;
    this.#base = runtime.options.cwd;
    this.#plan = plan;
    this.#throws = throws;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  #pending(): Plan {
    if (!this.#plan) throw new Error('Shell is already running');
    return this.#plan;
  }

  get stdin(): WritableStream {
    this.#pending();
    this.#stdin ??= new TransformStream<Uint8Array, Uint8Array>();
    return this.#stdin.writable;
  }

  cwd(newCwd: string): this {
    const plan = this.#pending();
    plan.cwd = newCwd === undefined || newCwd === '.' || newCwd === '' || newCwd === './' ? this.#base : path.resolve(this.#base, newCwd);
    return this;
  }

  env(newEnv: Record<string, string> | undefined): this {
    this.#pending().env = newEnv === undefined ? undefined : cleanEnv(newEnv);
    return this;
  }

  quiet(isQuiet = true): this {
    this.#pending().quiet = isQuiet;
    return this;
  }

  nothrow(): this {
    this.#throws = false;
    return this;
  }

  throws(shouldThrow: boolean): this {
    this.#throws = !!shouldThrow;
    return this;
  }

  run(): this {
    const plan = this.#plan;
    if (!plan) return this;
    this.#plan = undefined;
    // A command started and never awaited must not end Pantheon with an unhandled rejection.
    super.then(undefined, () => {});
    void this.#runtime.run(plan, this.#stdin?.readable).then(({ output, failure }) => {
      if (failure !== undefined) this.#reject(new ShellError(output, failure));
      else if (this.#throws && output.exitCode !== 0) this.#reject(new ShellError(output));
      else this.#resolve(output);
    });
    return this;
  }

  override then<A = BunShellOutput, B = never>(
    onfulfilled?: ((value: BunShellOutput) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.run();
    return super.then(onfulfilled, onrejected);
  }

  #quietly(): this {
    if (this.#plan) this.#plan.quiet = true;
    return this;
  }

  async text(encoding?: BufferEncoding): Promise<string> {
    return (await this.#quietly()).stdout.toString(encoding);
  }

  async json(): Promise<unknown> {
    return JSON.parse((await this.#quietly()).stdout.toString());
  }

  async *lines(): AsyncIterable<string> {
    yield* (await this.#quietly()).stdout.toString().split('\n');
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.#quietly()).arrayBuffer();
  }

  async bytes(): Promise<Uint8Array> {
    return (await this.#quietly()).bytes();
  }

  async blob(): Promise<Blob> {
    return (await this.#quietly()).blob();
  }
}

interface Defaults {
  cwd: string;
  env: Env | undefined;
  throws: boolean;
}

function makeShell(runtime: Runtime, defaults: Defaults): BunShell {
  const base = runtime.options.cwd;
  const $ = ((strings: TemplateStringsArray, ...values: ShellExpression[]): BunShellPromise => {
    if (!Array.isArray(strings?.raw)) throw new TypeError("Please use '$' as a tagged template function: $`cmd arg1 arg2`");
    const plan: Plan = { script: buildScript(strings.raw, values), cwd: defaults.cwd, env: defaults.env, quiet: false };
    return new ShellPromise(runtime, plan, defaults.throws);
  }) as BunShell & { Shell: new () => BunShell; ShellError: typeof ShellError };
  $.braces = bunBraces;
  $.escape = bunEscape;
  $.env = (newEnv?: Record<string, string | undefined>) => {
    if (newEnv !== undefined && (newEnv === null || typeof newEnv !== 'object')) throw new TypeError('env must be an object or undefined');
    defaults.env = newEnv === undefined ? undefined : cleanEnv(newEnv);
    return $;
  };
  $.cwd = (newCwd?: string) => {
    if (newCwd !== undefined && typeof newCwd !== 'string') throw new TypeError('cwd must be a string or undefined');
    defaults.cwd = newCwd === undefined || newCwd === '.' || newCwd === '' || newCwd === './' ? base : path.resolve(base, newCwd);
    return $;
  };
  $.nothrow = () => {
    defaults.throws = false;
    return $;
  };
  $.throws = (shouldThrow: boolean) => {
    defaults.throws = !!shouldThrow;
    return $;
  };
  // `new $.Shell()`: a shell of its own, with the first defaults again (Bun's).
  $.Shell = function Shell() {
    return makeShell(runtime, { cwd: base, env: undefined, throws: true });
  } as unknown as new () => BunShell;
  $.ShellError = ShellError;
  return $;
}

/** A `$` for one plugin: its settings (`$.cwd()`, `$.nothrow()`...) change this `$` only, as they change Bun's own. */
export function createBunShell(options: BunShellOptions): BunShell {
  const runtime = new Runtime({ ...options, cwd: path.resolve(options.cwd) });
  return makeShell(runtime, { cwd: runtime.options.cwd, env: undefined, throws: true });
}
