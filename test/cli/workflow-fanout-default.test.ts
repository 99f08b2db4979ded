/**
 * A `forEach` over more items than a provider takes at once, with no `concurrency` in the
 * workflow: at most 64 tasks are in flight (DEFAULT_CONCURRENCY), not one per item. The scripted
 * model answers 429 to a 65th request in flight, and every answer takes a while, so starting all
 * 80 items at once fails the run.
 */
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, useScriptedSandbox, type Sandbox } from './cli-helper.ts';

const ITEMS = 80;

describe('workflow forEach without a concurrency', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
    },
    (server) => ({
      ...providerConfig(server, { m1: {} }),
      model: 'p/m1',
      retry: { maxRetries: 0 },
      cache: { enabled: false },
      workflow: { fan: { steps: [{ id: 'each', agent: 'explore', forEach: '{{input.items}}', prompt: 'item {{item}}' }] } },
    }),
    { models: { m1: { concurrencyLimit: 64, default: { type: 'text', text: 'ok', delayMs: 2500 } } } },
  );

  it(`runs ${ITEMS} items at most 64 at a time`, async () => {
    const items = Array.from({ length: ITEMS }, (_, i) => `i${i}`).join(',');
    const r = await sb.run(['workflow', 'run', 'fan', '--input', `items=${items}`]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const stats = server.stats();
    expect(stats.overLimit).toBe(0);
    expect(stats.requests).toBe(ITEMS);
    expect(stats.peakConcurrency).toBe(64);
  }, 60_000);
});
