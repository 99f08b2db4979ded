/**
 * An esbuild plugin for the CLI bundle (scripts/build-cli.ts): jsonc-parser's modules are marked
 * free of side effects (its package.json does not say so), so the bundle leaves out what Pantheon
 * never calls. Its formatter builds 1,200 indentation strings when it loads (impl/string-intern.js)
 * and came along with the parser in every command that reads a config (~1–2 ms, measured).
 */
import path from 'node:path';
import type { Plugin } from 'esbuild';

const IN_JSONC = /[\\/]jsonc-parser[\\/]lib[\\/]esm[\\/]/;

export const jsoncSideEffectFree: Plugin = {
  name: 'jsonc-side-effect-free',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!IN_JSONC.test(args.importer)) return undefined;
      const file = path.resolve(args.resolveDir, args.path);
      return { path: file.endsWith('.js') ? file : `${file}.js`, sideEffects: false };
    });
  },
};
