/**
 * An esbuild plugin for the CLI bundle (scripts/build-cli.ts): zod's `locales` namespace keeps
 * only English. zod re-exports every translation of its error messages (`z.locales.fr()` and 50
 * more, ~300 KB) from its entry points, and a bundler cannot drop them; zod itself, the AI SDK and
 * Pantheon only use the English one, which zod configures by default.
 */
import path from 'node:path';
import type { Plugin } from 'esbuild';

export const onlyEnglishZodLocale: Plugin = {
  name: 'only-english-zod-locale',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      const dir = path.resolve(args.resolveDir, path.dirname(args.path));
      if (!dir.split(path.sep).includes('zod')) return undefined;
      return { path: path.join(dir, 'index.js'), namespace: 'zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(path.join(path.dirname(args.path), 'en.js'))};\n`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};
