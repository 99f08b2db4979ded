/**
 * Loads the CLI bundle (dist/bin/opencode.cjs, scripts/build-cli.ts) with V8's code cache; for
 * `run --attach` the attach bundle (dist/bin/attach.cjs: the thin client alone, a thirteenth of the
 * size), which hands an argv that is not an attached run back to the full CLI; for `config` the
 * config bundle (dist/bin/config.cjs: the parser and the config loader, a third of the size); for
 * `doctor --check …` the doctor bundle (dist/bin/doctor.cjs: the groups config, auth and runtime),
 * which hands any other group back to the full CLI; for a local `run` the run bundle
 * (dist/bin/run.cjs: what a run needs, half the size), whose side files
 * (dist/bin/run.<group>.cjs) it loads when a run first reaches them (scripts/lib/split-bundle.ts).
 *
 * Node's own compile cache keeps a module's code as compiled before it runs: the top level only,
 * so every function a command calls is compiled again in every process. Here the cache is made
 * after the command has run (`script.createCachedData()` on exit), so it holds every function the
 * command used; the next process of that command compiles next to nothing. One cache file per
 * bundle build, bundle file, Node version and command (`run`, `run --attach`, `config`, …), beside Node's compile cache
 * (`NODE_COMPILE_CACHE`, default `$TMPDIR/node-compile-cache`; `NODE_DISABLE_COMPILE_CACHE=1`
 * turns both off; a folder another user could write is not used: `privateFolder`). A cache is written once, after a command that succeeded (or earlier, when the
 * command asks: `serve` once ready, src/cli/code-cache.ts), or again when V8 rejects it (another
 * Node or V8 flags) or when a process ran more than the one that wrote it (a `run` whose model
 * called tools, after a plain answer: code-cache.ts); writing it is best effort and never fails a
 * command.
 */
import { makeDirSync } from '../make-dir.ts';
import { restartWithServerFlags } from './server-node-flags.ts';

// Built-ins taken as they are, not through an ES import: an ES import makes Node build each one's
// ES facade, which reads every export (fs.promises and its streams among them): ~3 MiB and a few
// ms of every command's start-up, measured (docs/performance.md).
const fs = process.getBuiltinModule('node:fs');
const { createRequire } = process.getBuiltinModule('node:module');
const path = process.getBuiltinModule('node:path');
const { pathToFileURL } = process.getBuiltinModule('node:url');
const vm = process.getBuiltinModule('node:vm');

export interface CliBundle {
  /** A partial bundle's (attach, config, doctor) resolves `false`, having done nothing, when argv is not its to run. */
  main(argv: string[]): Promise<void | boolean>;
  /** Takes the function that writes this process's cache, for a command to write it early (src/cli/code-cache.ts). */
  setCodeCacheSaver?(save: () => void): void;
  /** What the process ran beyond its command's usual path (`tools`), asked at exit (src/cli/code-cache.ts). */
  codeCacheRanList?(): string[];
  /** Takes the function that gives the start-up gate's slot back (src/cli/startup-done.ts). */
  setStartupDone?(release: () => void): void;
  /** Takes the folder and build hash for remembering configs found clean (the run bundle's: src/config/clean-memo.ts). */
  useCleanConfigMemo?(dir: string, build: string): void;
}

/** What a bundle with side files (scripts/lib/split-bundle.ts) calls for a group's split points: the side file's exports (`entries`), loaded once. */
type SplitLoader = (group: string, shared: Record<string, () => object>) => object;

type BundleFunction = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string, url: string, split: SplitLoader) => void;

const HEADER = /^\/\/ pantheon-bundle ([0-9a-f]{8,64})\n/;
const SUBDIR = 'pantheon';

/** The command argv names: its first word that is not a flag (`none` if there is none or it is not a command's name). */
function commandOf(argv: readonly string[]): string {
  const first = argv.find((a) => !a.startsWith('-'));
  return first !== undefined && /^[a-z][a-z-]{0,31}$/.test(first) ? first : 'none';
}

const hasAttach = (argv: readonly string[]) => argv.some((a) => a === '--attach' || a.startsWith('--attach='));

/**
 * The cache file for this bundle file, Node and command; undefined without a cache folder or a bundle hash.
 * `bundle`: the file's name without `.cjs`; the full CLI's (`opencode`) caches keep their plain names.
 */
export function cacheFileFor(cacheRoot: string | undefined, source: string, argv: readonly string[], bundle = 'opencode'): string | undefined {
  const hash = HEADER.exec(source)?.[1];
  if (!cacheRoot || !hash) return undefined;
  const named = commandOf(argv);
  // `run --attach` runs other code than a local `run`: each keeps its own cache (a cache is written
  // once, so whichever ran first would otherwise leave the other compiling most of what it uses).
  const command = named === 'run' && hasAttach(argv) ? 'run-attach' : named;
  const key = bundle === 'opencode' ? command : `${bundle}.${command}`;
  return path.join(cacheRoot, SUBDIR, `${hash}-${process.version}-${process.arch}-${key}.v8cache`);
}

/**
 * Which bundle runs argv: `attach` (dist/bin/attach.cjs, the thin client) for `run … --attach …`,
 * `config` (dist/bin/config.cjs: the parser and the config loader) for `config …`, `doctor`
 * (dist/bin/doctor.cjs) for `doctor --check …` without `--fix` (a plain `doctor` runs every group,
 * which only the full CLI has), `run` (dist/bin/run.cjs) for a local `run …`, unless help, version
 * or completion is asked for (the full CLI renders those), else `opencode`.
 */
export function bundleFor(argv: readonly string[]): 'attach' | 'config' | 'doctor' | 'run' | 'opencode' {
  if (asksForHelp(argv)) return 'opencode';
  const command = commandOf(argv);
  if (command === 'run') return hasAttach(argv) ? 'attach' : 'run';
  if (command === 'doctor') return hasCheck(argv) && !argv.includes('--fix') ? 'doctor' : 'opencode';
  return command === 'config' ? 'config' : 'opencode';
}

const hasCheck = (argv: readonly string[]) => argv.some((a) => a === '--check' || a.startsWith('--check='));

/** Help, version or shell completion: what the full CLI renders instead of running a command. */
const asksForHelp = (argv: readonly string[]) => argv.some((a) => a === '-h' || a === '--help' || a === '-v' || a === '--version' || a.startsWith('--get-yargs-completions'));

/**
 * A cache file is V8's data after a first line naming what the process that wrote it ran beyond its
 * command's usual path (`#ran tools`; code-cache.ts), so that a later process that ran more writes
 * it again, holding that code too.
 */
const RAN = '#ran ';

interface CacheFile {
  data: Buffer;
  ran: string[];
}

function readCache(file: string | undefined): CacheFile | undefined {
  if (!file) return undefined;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    // No cache yet (or unreadable): the command runs compiled from source and writes one.
    return undefined;
  }
  const eol = bytes.subarray(0, 256).indexOf(10);
  if (eol < 0 || bytes.subarray(0, RAN.length).toString('latin1') !== RAN) return { data: bytes, ran: [] };
  const ran = bytes.subarray(RAN.length, eol).toString('latin1').split(' ').filter(Boolean);
  return { data: bytes.subarray(eol + 1), ran };
}

function cacheBytes(data: Buffer, ran: readonly string[]): Buffer {
  return Buffer.concat([Buffer.from(`${RAN}${ran.join(' ')}\n`, 'latin1'), data]);
}

/** Caches of other builds (an earlier version, another install) are removed once this old. */
const STALE_MS = 7 * 24 * 3600 * 1000;

/** Writes the cache atomically and removes other builds' caches not written for a week. */
function writeCache(file: string, data: Buffer): void {
  const dir = path.dirname(file);
  const hash = path.basename(file).split('-')[0] ?? '';
  try {
    makeDirSync(dir, 0o700);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, file);
    const now = Date.now();
    for (const name of fs.readdirSync(dir)) {
      const other = path.join(dir, name);
      if (!name.startsWith(`${hash}-`) && now - fs.statSync(other).mtimeMs > STALE_MS) fs.rmSync(other, { force: true });
    }
  } catch {
    // Best effort: a read-only or full cache folder only means the next run compiles again.
  }
}

/**
 * `import()` inside the bundle (packages left outside it, provider packages named in a config) goes
 * to Node's own loader through vm's USE_MAIN_CONTEXT_DEFAULT_LOADER, whose one-time notice that it
 * is experimental would reach the user's terminal: that notice, and only it, is dropped.
 */
function quietVmLoaderNotice(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    if (typeof warning === 'string' && warning.startsWith('vm.USE_MAIN_CONTEXT_DEFAULT_LOADER ')) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}

interface Compiled {
  exports: object;
  script: InstanceType<typeof vm.Script>;
  cacheFile: string | undefined;
  cached: CacheFile | undefined;
}

/** Compiles `file` (with its code cache under `cacheRoot` when given) and runs it with `require`; a side file's loader when it has side files. */
function compileFile(file: string, argv: readonly string[], cacheRoot: string | undefined, require: NodeJS.Require, source = fs.readFileSync(file, 'utf8')): Compiled {
  const named = cacheFileFor(cacheRoot, source, argv, path.basename(file, '.cjs'));
  const cacheFile = named !== undefined && privateFolder(path.dirname(named)) ? named : undefined;
  const cached = readCache(cacheFile);
  const script = new vm.Script(source, {
    filename: file,
    ...(cached ? { cachedData: cached.data } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const fn = script.runInThisContext() as BundleFunction;
  const mod = { exports: {} };
  fn.call(mod.exports, mod.exports, require, mod, file, path.dirname(file), pathToFileURL(file).href, sideLoader(file, HEADER.exec(source)?.[1], argv, cacheRoot));
  return { exports: mod.exports, script, cacheFile, cached };
}

const SHARED = 'pantheon-shared:';

/**
 * A side file's code, checked to be of the same build as its main file (`hash`, its header's): a
 * side file of another build asks the main file for modules and exports it may not share, which
 * would fail later as `undefined is not a function`; one missing fails here, naming the file.
 */
function readSideFile(sideFile: string, file: string, hash: string | undefined): string {
  let source: string;
  try {
    source = fs.readFileSync(sideFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`${sideFile} (a part of ${path.basename(file)}) cannot be read (${code}): reinstall Pantheon, or rebuild it (npm run build).`, { cause: error });
  }
  const own = HEADER.exec(source)?.[1];
  if (own !== hash) throw new Error(`${sideFile} is of another build (${own ?? 'none'}) than ${path.basename(file)} (${hash ?? 'none'}) beside it: reinstall Pantheon, or rebuild it (npm run build).`);
  return source;
}

/**
 * The loader of `file`'s side files (`<file>.<group>.cjs`): each compiled once, when a split point of
 * its group is first imported, with a `require` that answers `pantheon-shared:<module>` with the
 * main file's instance of that module (`shared`, the main file's registry) and anything else as
 * the side file's own `require` would. Its code cache is written on a successful exit, once.
 */
function sideLoader(file: string, hash: string | undefined, argv: readonly string[], cacheRoot: string | undefined): SplitLoader {
  const loaded = new Map<string, object>();
  return (group, shared) => {
    const done = loaded.get(group);
    if (done) return done;
    const sideFile = `${file.slice(0, -'.cjs'.length)}.${group}.cjs`;
    const source = readSideFile(sideFile, file, hash);
    const own = createRequire(sideFile);
    // Each group's registry names what its own side file uses of a module: an object per group.
    const modules = new Map<string, object>();
    const require = Object.assign((id: string): unknown => {
      if (!id.startsWith(SHARED)) return own(id);
      const key = id.slice(SHARED.length);
      let m = modules.get(key);
      if (!m) {
        const get = shared[key];
        if (!get) throw new Error(`${path.basename(sideFile)} asks for ${key}, which ${path.basename(file)} does not share: rebuild (npm run build)`);
        m = get();
        modules.set(key, m);
      }
      return m;
    }, own) as NodeJS.Require;
    const side = compileFile(sideFile, argv, cacheRoot, require, source);
    loaded.set(group, side.exports);
    const { script, cacheFile, cached } = side;
    if (cacheFile && (!cached || script.cachedDataRejected)) {
      process.once('exit', (code) => {
        if (code === 0) writeCache(cacheFile, cacheBytes(script.createCachedData(), []));
      });
    }
    return side.exports;
  };
}

const privateFolders = new Map<string, boolean>();

/**
 * Whether only this user can write `dir`, or it does not exist yet (writeCache makes it 0700). The
 * default cache root is in $TMPDIR, which other users share: one may have made the folder first, and
 * a code cache planted there would run as this user's code (or a config memo skip a config's
 * check: src/config/clean-memo.ts). In such a folder nothing is read or written. Node's own compile
 * cache beside it does not ask this; it holds only the launcher's few modules.
 */
function privateFolder(dir: string): boolean {
  const known = privateFolders.get(dir);
  if (known !== undefined) return known;
  const uid = process.getuid?.();
  const stat = uid === undefined ? undefined : fs.statSync(dir, { throwIfNoEntry: false });
  const ok = stat === undefined || (stat.isDirectory() && stat.uid === uid && (stat.mode & 0o022) === 0);
  privateFolders.set(dir, ok);
  return ok;
}

/** Compiles and runs the bundle `file` (with the code cache under `cacheRoot` when given) and returns its exports. */
export function loadBundle(file: string, argv: readonly string[], cacheRoot: string | undefined): CliBundle {
  quietVmLoaderNotice();
  const { exports, script, cacheFile, cached } = compileFile(file, argv, cacheRoot, createRequire(file));
  const bundle = exports as CliBundle;
  if (!cacheFile) return bundle;
  // A config this build found clean is not checked again (its name: the build's hash, as the cache's).
  bundle.useCleanConfigMemo?.(path.dirname(cacheFile), path.basename(cacheFile).split('-')[0] ?? '');
  // Written when there is none (or V8 rejected it), or again when this process ran more than the one
  // that wrote it (what it loaded from the cache is in the new one too).
  const fresh = !cached || script.cachedDataRejected;
  const before = fresh ? [] : (cached?.ran ?? []);
  let save: (() => void) | undefined = () => {
    save = undefined;
    const ran = [...new Set([...before, ...(bundle.codeCacheRanList?.() ?? [])])].sort();
    writeCache(cacheFile, cacheBytes(script.createCachedData(), ran));
  };
  process.once('exit', (code) => {
    if (code !== 0) return;
    if (fresh || (bundle.codeCacheRanList?.() ?? []).some((r) => !before.includes(r))) save?.();
  });
  if (fresh) bundle.setCodeCacheSaver?.(() => save?.());
  return bundle;
}

/** Whether argv is a local `opencode run` (not attached, not help or version), which loads through the start-up gate. */
export function gatedRun(argv: readonly string[]): boolean {
  return commandOf(argv) === 'run' && !hasAttach(argv) && !asksForHelp(argv);
}

/**
 * Runs the CLI on argv from the bundles in `dir` (dist/bin): the attach or config bundle when it applies, else
 * (or if it declines) the full CLI; a local `run` loads only once the start-up gate lets it
 * (src/cli/start-gate.ts). A server (`serve`, `dashboard`) first restarts with the Node flags it
 * needs (src/cli/server-node-flags.ts).
 */
export async function runBundledCli(dir: string, argv: string[], cacheRoot: string | undefined): Promise<void> {
  if (!asksForHelp(argv)) restartWithServerFlags(commandOf(argv), argv);
  const partial = bundleFor(argv);
  if (partial !== 'opencode' && partial !== 'run') {
    const { main } = loadBundle(path.join(dir, `${partial}.cjs`), argv, cacheRoot);
    if ((await main(argv)) !== false) return;
  }
  const gate = gatedRun(argv) ? await (await import('./start-gate.ts')).enterStartGate() : undefined;
  const bundle = loadBundle(path.join(dir, partial === 'run' ? 'run.cjs' : 'opencode.cjs'), argv, cacheRoot);
  if (gate?.slot) bundle.setStartupDone?.(gate.release);
  await bundle.main(argv);
}
