/**
 * Bundles the CLI (src/cli/main.ts and everything it imports, npm packages included) into one
 * file, dist/bin/opencode.cjs, with esbuild. Modules a command imports on demand stay lazy inside
 * the file (esbuild runs a module's top level only when it is first imported), so `run` never
 * evaluates what `serve` or `doctor` need.
 *
 * The file is a CommonJS function expression that bin/opencode.js compiles with V8's code cache
 * (src/cli/bundle-cache.ts): the cache is written after a command has run, so it holds every
 * function the command used, not only the top level that Node's own compile cache keeps
 * (bench/run-vs-fetch.ts, docs/performance.md). Its first line names the build's
 * hash, which keys the cache. Four bundles hold a command alone: dist/bin/run.cjs a local `run`
 * (half the whole CLI's file: what a run reaches, less what it reaches only through a dynamic import
 * it rarely takes, which its side files dist/bin/run.<group>.cjs hold: scripts/lib/split-bundle.ts),
 * dist/bin/attach.cjs `run --attach` (a thin client: ~100 ms less to start than with the whole CLI's file), dist/bin/config.cjs
 * `config validate | show | init` (the config loader without the AI SDK, scheduler or server: ~40 ms less), dist/bin/doctor.cjs
 * `doctor --check` of the groups config, auth and runtime (the same, with the auth store). Run by `npm run build` after tsc; dist/ from tsc stays the library.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { ajvRuntimeInBundle } from './lib/ajv-runtime-in-bundle.ts';
import { builtinsByRequire } from './lib/builtins-by-require.ts';
import { jsoncSideEffectFree } from './lib/jsonc-side-effect-free.ts';
import { yargsShimStandIns } from './lib/yargs-shim.ts';
import { asLoaderFunction, buildSplit, type SplitPoint } from './lib/split-bundle.ts';
import { onlyEnglishZodLocale } from './lib/zod-locales.ts';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist', 'bin');

// Packages left to Node's own loader: CommonJS packages the CLI imports with a dynamic `import()`
// (ajv's 2020 compiler for the gateway's tool schemas among them). ajv's runtime helpers, which the
// generated validators require, are bundled (scripts/lib/ajv-runtime-in-bundle.ts).
// The terminals' pseudo-terminal library (a native .node binary, one package per platform) and its
// WebSocket server are loaded with createRequire on the first terminal (src/server/opencode/pty-*.ts).
const EXTERNAL = ['cosmiconfig', 'ajv', 'ajv/dist/2020.js', 'ajv-formats', '@redis/client', '@redis/client/*', '@lydell/node-pty', 'ws'];

/**
 * What a local `run` reaches only through a dynamic import it rarely takes, in side files of the run
 * bundle (scripts/lib/split-bundle.ts), one per name: the in-process server a plugin's client calls
 * (OpenCode's API: the server's routes), what only a project with plugins runs, MCP servers' client
 * (the MCP SDK), `openai/*` models' provider (`@ai-sdk/openai`), `@ai-sdk/openai-compatible` (Pantheon's
 * own client serves most providers), the ChatGPT and Copilot logins, the permission prompt, globbing
 * (`.opencode/command/*.md` and the like), LSP (vscode-jsonrpc), the Redis ledger and cache, the `diff`
 * package (an edit's patch), the config's schema check (a config this build found clean is not
 * checked again: src/config/clean-memo.ts). A plain run reads none of them; `load-plugins.ts` stays in the main file
 * (every run loads the built-in logins' plugin entries). `SPLIT_REPORT=1 npm run build` says which
 * modules two groups had in common (the main file takes those).
 */
const RUN_SPLITS: SplitPoint[] = [
  { name: 'server', target: 'src/plugins/run-server-api.ts' },
  { name: 'plugins', target: 'src/plugins/plugin-input.ts' },
  { name: 'plugins', target: 'src/plugins/config-hook.ts' },
  { name: 'plugins', target: 'src/plugins/provider-hook.ts' },
  { name: 'plugins', target: 'src/plugins/run-events.ts' },
  { name: 'mcp', target: 'src/mcp/connect.ts' },
  { name: 'mcp', target: 'src/mcp/oauth-provider.ts' },
  { name: 'openai', target: 'src/providers/openai-responses.ts' },
  { name: 'compatible', target: '@ai-sdk/openai-compatible' },
  { name: 'codex', target: 'src/plugins/builtin/codex-auth.ts' },
  { name: 'copilot', target: 'src/plugins/builtin/copilot-auth.ts' },
  { name: 'copilot', target: 'src/plugins/builtin/copilot-offered.ts' },
  { name: 'ask', target: '@inquirer/confirm' },
  { name: 'glob', target: 'tinyglobby' },
  { name: 'lsp', target: 'src/lsp/lsp.ts' },
  { name: 'redis', target: 'src/state/ledger-redis.ts' },
  { name: 'redis', target: '@keyv/redis' },
  { name: 'diff', target: 'diff' },
  { name: 'validate', target: 'src/config/validate.ts' },
];

/** The bundles: the whole CLI; `run` alone (src/cli/run-main.ts, with side files); `run --attach` alone (src/cli/attach-main.ts: no config, AI SDK, scheduler or SQLite); `config` alone (src/cli/config-main.ts); `doctor --check` of config, auth and runtime alone (src/cli/doctor-main.ts). */
const BUNDLES: { entry: string; file: string; splits?: SplitPoint[] }[] = [
  { entry: path.join(root, 'src', 'cli', 'main.ts'), file: path.join(out, 'opencode.cjs') },
  { entry: path.join(root, 'src', 'cli', 'run-main.ts'), file: path.join(out, 'run.cjs'), splits: RUN_SPLITS },
  { entry: path.join(root, 'src', 'cli', 'attach-main.ts'), file: path.join(out, 'attach.cjs') },
  { entry: path.join(root, 'src', 'cli', 'config-main.ts'), file: path.join(out, 'config.cjs') },
  { entry: path.join(root, 'src', 'cli', 'doctor-main.ts'), file: path.join(out, 'doctor.cjs') },
];

/** The bundle's files: its own (`file`) and its side files (`<name>.<group>.cjs` beside it), each as the loader compiles it. */
async function bundle(entry: string, outfile: string, splits?: SplitPoint[]): Promise<{ file: string; code: string }[]> {
  const options: BuildOptions & { entryPoints: string[] } = {
    entryPoints: [entry],
    bundle: true,
    write: false,
    outfile,
    format: 'cjs',
    platform: 'node',
    target: 'node22',
    // Packages with both builds: the ES module one (jsonc-parser's CommonJS build requires its files by relative path).
    mainFields: ['module', 'main'],
    external: EXTERNAL,
    alias: {
      // The `ai` package's gateway provider (never used here) would load @vercel/oidc at start-up.
      '@vercel/oidc': path.join(root, 'scripts', 'lib', 'no-vercel-oidc.ts'),
    },
    // Node's built-ins through `require` (scripts/lib/builtins-by-require.ts); zod's English messages only;
    // yargs's shim without node:assert and its package.json search; jsonc-parser's formatter left out;
    // ajv's runtime helpers in the bundle (scripts/lib/*.ts).
    plugins: [yargsShimStandIns, builtinsByRequire, onlyEnglishZodLocale, jsoncSideEffectFree, ajvRuntimeInBundle],
    // The code is ES modules; as one CommonJS function its `import.meta` is the bundle file's.
    define: { 'import.meta.url': '__pantheonUrl', 'import.meta.dirname': '__dirname' },
    // Whitespace out: the source V8 keeps in memory is a third smaller (names stay for stack traces).
    // BUNDLE_KEEP_WHITESPACE=1 keeps it, and esbuild's `// path` line above each module, for bench/profile-tool-loop.ts.
    minifySyntax: true,
    minifyWhitespace: !process.env.BUNDLE_KEEP_WHITESPACE,
    legalComments: 'eof',
    logLevel: 'warning',
  };
  if (splits) {
    const { main, sides } = await buildSplit(root, options, splits);
    const base = outfile.slice(0, -'.cjs'.length);
    return [{ file: outfile, code: asLoaderFunction(main) }, ...sides.map((s) => ({ file: `${base}.${s.group}.cjs`, code: asLoaderFunction(s.code) }))];
  }
  const code = (await build(options)).outputFiles?.[0]?.text;
  if (!code) throw new Error(`esbuild wrote no bundle for ${entry}`);
  return [{ file: outfile, code: asLoaderFunction(code) }];
}

/**
 * A bundle with one character beyond ASCII is a two-byte string in V8: twice the memory, and slower
 * to read and compile at every start (docs/performance.md). esbuild escapes such characters
 * everywhere but in regular-expression literals, so the build stops on any that is left.
 */
function assertAscii(code: string, entry: string): void {
  // Comments are kept with the whitespace (BUNDLE_KEEP_WHITESPACE, for profiling), and may have any character.
  const at = process.env.BUNDLE_KEEP_WHITESPACE ? -1 : code.search(/\P{ASCII}/u);
  if (at < 0) return;
  const around = JSON.stringify(code.slice(Math.max(0, at - 40), at + 20));
  process.stderr.write(`error: the bundle of ${path.relative(root, entry)} has a character beyond ASCII at offset ${at}: ${around}.\nhint: Write it as an escape (\\u00b5) in the source; esbuild leaves regular-expression literals as they are.\n`);
  process.exit(1);
}

fs.rmSync(out, { recursive: true, force: true });
const files = (await Promise.all(BUNDLES.map((b) => bundle(b.entry, b.file, b.splits)))).flat();
for (const f of files) assertAscii(f.code, f.file);
// One hash over all files names this build's code caches (each file's cache is also named by the file).
const hash = createHash('sha256').update(files.map((f) => f.code).join('\0')).digest('hex').slice(0, 16);
fs.mkdirSync(out, { recursive: true });
for (const f of files) fs.writeFileSync(f.file, `// pantheon-bundle ${hash}\n${f.code}\n`);
