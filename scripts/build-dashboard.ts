/**
 * Bundles the dashboard page (ui/dashboard/) into dist/dashboard/app.js and app.css with esbuild:
 * Preact and uPlot included, minified, no source maps, nothing loaded from elsewhere at run time.
 * Run by `npm run build` after tsc.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'dashboard');

await build({
  entryPoints: { app: path.join(root, 'ui', 'dashboard', 'main.tsx') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
await build({
  entryPoints: { app: path.join(root, 'ui', 'dashboard', 'style.css') },
  outdir: out,
  bundle: true,
  minify: true,
  logLevel: 'warning',
});
