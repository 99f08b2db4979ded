/**
 * An esbuild plugin for the CLI bundle (scripts/build-cli.ts): Node's built-in modules are taken
 * through `require` instead of an ES `import`. An ES import makes Node build the module's ES facade,
 * which reads every export, lazy getters included: for `node:http` that loads all of undici
 * (`http.WebSocket`, `MessageEvent`, …), for `node:crypto` WebCrypto, for `node:fs` its streams —
 * about a fifth of `opencode serve`'s start-up. The stand-in module exports the built-in's plain
 * values by name (esbuild fails the build if the bundle asks for one it does not have) and the
 * module itself as the default export, so getters run only when code reads them. A namespace
 * import (`import * as fs`) sees only the plain values: esbuild warns at build time about a property
 * it cannot find (today only `node:readline`, which has no getters, is imported that way).
 * `require('…')` calls in bundled CommonJS code are left alone (they already get the module itself).
 *
 * `node:http2` is imported only by @hono/node-server, for `instanceof Http2ServerRequest` checks on
 * requests of an HTTP/2 server; ours is HTTP/1.1, so it gets a class no request is an instance of
 * instead of loading HTTP/2 (~30 ms).
 */
import { createRequire } from 'node:module';
import type { Plugin } from 'esbuild';

const require = createRequire(import.meta.url);
/** Built-ins whose ES facade costs more than `require` (measured: http 180 → 15 ms, crypto 47 → 12 ms under load). */
const BY_REQUIRE = new Set(['http', 'https', 'crypto', 'fs', 'fs/promises', 'util', 'child_process', 'net', 'stream', 'readline', 'os', 'events', 'url', 'zlib']);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The names of a built-in's exports that are plain values (not getters), as code can name them. */
function plainExports(name: string): string[] {
  const mod = require(`node:${name}`) as object;
  return Object.keys(mod).filter((key) => IDENTIFIER.test(key) && key !== 'default' && !Object.getOwnPropertyDescriptor(mod, key)?.get);
}

/**
 * Each export is read by a call marked pure, so esbuild keeps only the ones the bundle imports:
 * reading every export (one destructuring) made `node:util` load what its lazy exports need —
 * worker_threads, locks, parseArgs, the diff of assert, trace_sigint (~6 ms and ~3 MiB of every
 * command's start-up, measured).
 */
function standIn(name: string): string {
  const names = plainExports(name);
  return [
    "import { createRequire } from 'node:module';",
    `const mod = createRequire(import.meta.url)('node:${name}');`,
    'export default mod;',
    'const __standInRead = (key) => mod[key];',
    ...names.map((key) => `export const ${key} = /* @__PURE__ */ __standInRead('${key}');`),
  ].join('\n');
}

const NO_HTTP2 = [
  '/** An HTTP/1.1 server never sees an HTTP/2 request (see builtins-by-require.ts). */',
  'export class Http2ServerRequest {}',
  'export const constants = { NGHTTP2_NO_ERROR: 0 };',
].join('\n');

export const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (args) => {
      // `require('stream')` in bundled CommonJS code already goes through require (the banner's).
      if (args.kind !== 'import-statement') return undefined;
      const name = args.path.replace(/^node:/, '');
      if (name === 'http2' && /[\\/]@hono[\\/]node-server[\\/]/.test(args.importer)) return { path: 'http2', namespace: 'no-http2' };
      if (!BY_REQUIRE.has(name) || args.namespace === 'builtin-by-require') return undefined;
      return { path: name, namespace: 'builtin-by-require' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin-by-require' }, (args) => ({ contents: standIn(args.path), loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: 'no-http2' }, () => ({ contents: NO_HTTP2, loader: 'js' }));
  },
};
