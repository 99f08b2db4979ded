/**
 * Every route the server serves is named in the docs (server.md, gateway.md, dashboard.md,
 * stats.md), as `METHOD /path` or `/path` (a query or option list may follow), path parameters
 * spelt any way (`{id}`, `{sessionID}`):
 * a route added to the table without a word in the docs fails here. /doc is generated from the
 * same table, so it lists them all by construction.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROUTE_GROUPS } from '../../src/server/routes/index.ts';

const root = path.resolve(import.meta.dirname, '../..');
const PAGES = ['server.md', 'gateway.md', 'dashboard.md', 'stats.md'];

/** A path with each parameter written `{}`. */
const normal = (text: string): string => text.replace(/\{[^}\s]*\}/g, '{}');

describe('the docs name every route', () => {
  it('each route of the table is in docs/', () => {
    const docs = normal(PAGES.map((page) => fs.readFileSync(path.join(root, 'docs', page), 'utf8')).join('\n').replace(/\s+/g, ' '));
    const escape = (p: string): string => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // After a backtick or a method and a space; before a backtick, a query or an option list.
    const named = (p: string): boolean => new RegExp(`[\`\\s]${escape(p)}[\`?[]`).test(docs);
    const missing = ROUTE_GROUPS.flatMap((g) => g.routes).filter((r) => !named(normal(r.path))).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });
});
