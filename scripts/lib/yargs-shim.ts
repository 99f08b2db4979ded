/**
 * An esbuild plugin for the CLI bundle (scripts/build-cli.ts): two imports of yargs's platform shim
 * get stand-ins.
 *
 * - `node:assert` (`strictEqual`, `notStrictEqual` for yargs's internal checks) loads the whole
 *   assert module. The stand-in compares as those functions do (`Object.is`) and calls `node:assert`
 *   only when a check fails, so the error thrown is the one yargs would have seen.
 * - `escalade/sync` is how yargs finds "the program's package.json" to guess a version as every
 *   parser is made (the CLI then sets its own): it listed every folder from the working directory up
 *   to the root, and where none held a package.json the failed check built an AssertionError
 *   (loading node:assert and its diff). The stand-in names Pantheon's own package.json (two folders
 *   above the bundle, dist/bin/), which is the program's.
 *
 * Together ~2 MiB and several ms of every command's start (docs/performance.md, issue #18).
 */
import type { Plugin } from 'esbuild';

const ASSERT = [
  "const real = () => process.getBuiltinModule('node:assert');",
  'export function strictEqual(actual, expected, message) {',
  '  if (!Object.is(actual, expected)) real().strictEqual(actual, expected, message);',
  '}',
  'export function notStrictEqual(actual, expected, message) {',
  '  if (Object.is(actual, expected)) real().notStrictEqual(actual, expected, message);',
  '}',
].join('\n');

// `__dirname` is the bundle's folder (the bundle is one CommonJS function; scripts/build-cli.ts).
const FIND_PACKAGE_JSON = "export default () => process.getBuiltinModule('node:path').join(__dirname, '..', '..', 'package.json');";

const IN_SHIM = /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]/;

export const yargsShimStandIns: Plugin = {
  name: 'yargs-shim-stand-ins',
  setup(build) {
    build.onResolve({ filter: /^((node:)?assert|escalade\/sync)$/ }, (args) => {
      if (!IN_SHIM.test(args.importer)) return undefined;
      return { path: args.path, namespace: args.path.startsWith('escalade') ? 'yargs-find-up' : 'yargs-assert' };
    });
    build.onLoad({ filter: /.*/, namespace: 'yargs-assert' }, () => ({ contents: ASSERT, loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: 'yargs-find-up' }, () => ({ contents: FIND_PACKAGE_JSON, loader: 'js' }));
  },
};
