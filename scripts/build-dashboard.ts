/**
 * Bundles the dashboard page (ui/dashboard/) into dist/dashboard/app.js and app.css with esbuild:
 * Preact and uPlot included, minified, no source maps, nothing loaded from elsewhere at run time.
 * uPlot is a file of its own, plot.js (ui/dashboard/plot.ts says why); the build fails when esbuild
 * writes any other file than the three the server serves (src/server/dashboard-assets.ts).
 * Run by `npm run build` after tsc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ASSET_TYPES } from '../src/server/dashboard-assets.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'dashboard');
fs.rmSync(out, { recursive: true, force: true });

await build({
  entryPoints: { app: path.join(root, 'ui', 'dashboard', 'main.tsx') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  // uPlot goes into plot.js, imported by the page after its first render (ui/dashboard/plot.ts).
  splitting: true,
  chunkNames: '[name]',
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
const written = fs.readdirSync(out).sort();
const served = Object.keys(ASSET_TYPES).sort();
if (written.join() !== served.join()) {
  throw new Error(`dist/dashboard/ holds ${written.join(', ')}, but the server serves ${served.join(', ')}: name the new file in ASSET_TYPES (src/server/dashboard-assets.ts) or keep the bundle to those files.`);
}
