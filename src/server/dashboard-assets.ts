/**
 * The dashboard page's files, built by `npm run build` into dist/dashboard/ (app.js, app.css, and
 * plot.js, the chart library the page imports after its first render) and
 * shipped in the package. Read once and kept in memory with their ETag; the page itself is an
 * HTML shell that loads them from the same origin (its Content-Security-Policy allows nothing else)
 * and carries the state of the moment it was asked for (a JSON data block, never run as a script),
 * so the page shows the lanes as soon as its script runs, without a second round trip.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.ts';

export interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

export const ASSET_TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'plot.js': 'text/javascript; charset=utf-8',
};

export const ASSET_DIR = path.join(packageRoot, 'dist', 'dashboard');

const cache = new Map<string, Asset>();

/** One built file of the page, or undefined when the page has not been built. */
export function readAsset(name: string): Asset | undefined {
  const type = ASSET_TYPES[name];
  if (!type) return undefined;
  const known = cache.get(name);
  if (known) return known;
  let body: Buffer;
  try {
    body = fs.readFileSync(path.join(ASSET_DIR, name));
  } catch {
    return undefined;
  }
  const asset = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
  cache.set(name, asset);
  return asset;
}

/** JSON that is safe inside a `<script type="application/json">`: no `<` (so no `</script>` or `<!--`) left as is. */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** The id of the page's inline state (ui/dashboard/connection.ts reads it). */
export const STATE_ELEMENT = 'pantheon-state';

/** The page: a shell with the two files and the state now; later changes come over /api/state/stream. */
export function pageHtml(version: string, assets: { js: string; css: string }, state: unknown): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Pantheon dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/app.css?v=${assets.css}">
<link rel="modulepreload" href="/dashboard/plot.js">
</head>
<body>
<div id="app" data-version="${version.replace(/[^\w.+-]/g, '')}"><p class="boot">Loading the dashboard…</p></div>
<noscript>The dashboard needs JavaScript; the same state is at <a href="/api/state">/api/state</a>.</noscript>
<script type="application/json" id="${STATE_ELEMENT}">${inlineJson(state)}</script>
<script type="module" src="/dashboard/app.js?v=${assets.js}"></script>
</body>
</html>
`;
}

/** Only same-origin scripts, styles, connections and images (and data: images for the charts). */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";
