/**
 * Bundles the CLI (src/cli/main.ts and everything it imports, npm packages included) into
 * dist/bin/ with esbuild: one entry file plus lazily loaded chunks, one per group of modules a
 * command imports on demand (`run` never loads what `serve` or `doctor` need). bin/opencode.js runs
 * dist/bin/opencode.js. Loading a few large files instead of ~400 small ones saves Node's module
 * resolution and linking per file (bench/run-vs-fetch.ts, README "what each step gained").
 * Run by `npm run build` after tsc; dist/ from tsc stays the library (`exports`, types).
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { builtinsByRequire } from './lib/builtins-by-require.ts';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist', 'bin');

// Packages left to Node's own loader: CommonJS packages the CLI imports with a dynamic `import()`
// (esbuild gives such a chunk only a default export), and ajv's runtime files, which the generated
// config validator requires by name.
const EXTERNAL = ['cosmiconfig', 'ajv', 'ajv/*', 'ajv-formats', 'ajv-formats/*', '@redis/client', '@redis/client/*'];

fs.rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { opencode: path.join(root, 'src', 'cli', 'main.ts') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // Packages with both builds: the ES module one (jsonc-parser's CommonJS build requires its files by relative path).
  mainFields: ['module', 'main'],
  external: EXTERNAL,
  // The `ai` package's gateway provider (never used here) would load @vercel/oidc at start-up.
  alias: { '@vercel/oidc': path.join(root, 'scripts', 'lib', 'no-vercel-oidc.ts') },
  // Node's built-ins through `require`: their ES facades run every lazy getter (scripts/lib/builtins-by-require.ts).
  plugins: [builtinsByRequire],
  chunkNames: 'chunk-[hash]',
  // CommonJS code inside the bundle calls `require` for Node's built-ins.
  banner: { js: "import { createRequire as __pantheonRequire } from 'node:module'; const require = __pantheonRequire(import.meta.url);" },
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
