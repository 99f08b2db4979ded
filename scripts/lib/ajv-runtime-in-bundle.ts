/**
 * The generated validators (scripts/gen-config.ts, scripts/gen-tool-validators.ts) `require` ajv's
 * runtime helpers (`ucs2length`, ajv-formats' `uri`) through `createRequire(import.meta.url)`, which
 * loads them the same way under Node and under vitest. In the bundle that local `require` left them
 * to Node's loader at run time: a search of node_modules, two files read and compiled outside the
 * bundle's code cache, ~4 ms of CPU in every command that loads a config (docs/performance.md).
 * Here the bundle's copy of a generated file drops the local `require`, so esbuild bundles them.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'esbuild';

const LOCAL_REQUIRE = 'const require = createRequire(import.meta.url);\n';
/** The helpers, resolved here: the packages themselves stay external (the MCP SDK loads ajv whole, lazily). */
const HELPERS = /^(ajv\/dist\/runtime\/[\w-]+|ajv-formats\/dist\/formats)$/;

export const ajvRuntimeInBundle: Plugin = {
  name: 'ajv-runtime-in-bundle',
  setup(build) {
    build.onResolve({ filter: HELPERS }, (args) => ({ path: createRequire(args.importer).resolve(args.path) }));
    build.onLoad({ filter: /[\\/]generated[\\/][\w-]+\.ts$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      if (!source.includes(LOCAL_REQUIRE)) return undefined;
      return { contents: source.replace(LOCAL_REQUIRE, ''), loader: 'ts' };
    });
  },
};
