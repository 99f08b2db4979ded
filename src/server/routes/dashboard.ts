/**
 * The live dashboard: `GET /` (the one HTML route of the server) and the page's two built files.
 * Same auth as every route; the page talks only to its own origin (/api/state/stream).
 */
import { ASSET_TYPES, PAGE_CSP, pageHtml, readAsset } from '../dashboard-assets.ts';
import { HttpError } from '../http-error.ts';
import type { RouteGroup } from '../route.ts';

function notBuilt(): HttpError {
  return new HttpError(503, 'DASHBOARD_NOT_BUILT', 'The dashboard page is not built.', { hint: 'Run `npm run build` (it bundles the page into dist/dashboard/); GET /api/state works without it.' });
}

export const dashboardRoutes: RouteGroup = {
  name: 'dashboard',
  description: 'The live dashboard page (queues, limits, fallbacks, spend) and its files.',
  routes: [
    {
      method: 'get',
      path: '/',
      operationId: 'dashboard.page',
      summary: 'The live dashboard',
      description: 'An HTML page that shows /api/state/stream: lanes, event log, usage and cost, sessions and workflow runs. It carries the state of the moment (as GET /api/state answers it) in a JSON block, so it renders without waiting for the stream.',
      responses: { 200: { description: 'The page', contentType: 'text/html' }, 503: { description: 'The page was not built (npm run build)' } },
      handler: async (c) => {
        const js = readAsset('app.js');
        const css = readAsset('app.css');
        if (!js || !css) throw notBuilt();
        // The state now, in the page: it renders as soon as its script runs (the stream then sends what changed).
        const state = await c.get('state').live.snapshot();
        c.header('content-security-policy', PAGE_CSP);
        c.header('x-content-type-options', 'nosniff');
        c.header('referrer-policy', 'no-referrer');
        c.header('cache-control', 'no-cache');
        return c.html(pageHtml(c.get('state').version, { js: js.etag.slice(1, 9), css: css.etag.slice(1, 9) }, state));
      },
    },
    {
      method: 'get',
      path: '/dashboard/{file}',
      operationId: 'dashboard.asset',
      summary: 'A file of the dashboard page',
      params: { file: { description: 'app.js, app.css or plot.js (the chart library, imported by app.js)', schema: { type: 'string', enum: Object.keys(ASSET_TYPES) } } },
      responses: { 200: { description: 'The file', contentType: 'text/javascript' }, 304: { description: 'Not modified' }, 404: { description: 'No such file' } },
      handler: (c, { params }) => {
        const name = params.file ?? '';
        if (!ASSET_TYPES[name]) throw new HttpError(404, 'ROUTE_NOT_FOUND', `No dashboard file ${JSON.stringify(name.slice(0, 60))}.`, { hint: `The page has ${Object.keys(ASSET_TYPES).join(', ')}.` });
        const asset = readAsset(name);
        if (!asset) throw notBuilt();
        c.header('etag', asset.etag);
        c.header('cache-control', 'no-cache');
        c.header('x-content-type-options', 'nosniff');
        if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
        c.header('content-type', asset.type);
        return c.body(asset.body as Uint8Array<ArrayBuffer>);
      },
    },
  ],
};
