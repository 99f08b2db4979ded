/**
 * Balances and remaining quota on /api/state and its stream, from what the scripted provider's
 * answers say: Venice's `x-venice-balance-*` and the `x-ratelimit-*-requests` headers, against the
 * real `opencode serve`; a later answer's balance replaces the earlier one; an odd value is left out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v2Calls } from './sdk-clients.ts';
import { getJson, serve, type Served } from './serve-helper.ts';
import { openStateStream } from './state-stream.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
afterEach(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
  s = undefined;
  model = undefined;
  sb = undefined;
});

interface Lane {
  model: string;
  balances: { unit: string; amount: number; source: string; at: number }[];
  learned: { name: string; remaining: number; limit?: number; source: string }[];
}

describe('balances and remaining quota', () => {
  it('come from the provider’s headers into the lane on /api/state and the stream; the latest balance wins', async () => {
    const headers: Record<string, string> = {
      'x-venice-balance-usd': '12.5',
      'x-venice-balance-diem': '100.25',
      'x-venice-balance-vcu': 'lots',
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-reset-requests': '1m0s',
    };
    model = await startScriptedServer({ apiKey: SECRET, models: { m: { headers }, f: {} } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { m: {}, f: {} }), model: 'p/m', cache: { enabled: false } });
    s = await serve(sb);
    const api = v2Calls(s.url, sb.project);
    const stream = await openStateStream(s.url);
    try {
      await stream.until((f) => f.event === 'snapshot');
      const before = (await getJson(`${s.url}/api/state`)).body as { lanes: Lane[] };
      expect(before.lanes.find((l) => l.model === 'p/m')).toMatchObject({ balances: [], learned: [] });
      const id = ((await api.create()).data as { id: string }).id;
      const sent = Date.now();
      await api.prompt(id, 'first');
      const pushed = await stream.until((f) => f.event === 'lanes' && (f.data as Lane[]).some((l) => l.model === 'p/m' && l.balances.length > 0));
      const lane = (pushed.data as Lane[]).find((l) => l.model === 'p/m') as Lane;
      // `lots` is no amount: left out (a --debug note says so).
      expect(lane.balances.map(({ unit, amount, source }) => ({ unit, amount, source }))).toEqual([
        { unit: 'DIEM', amount: 100.25, source: 'x-venice-balance-diem' },
        { unit: 'USD', amount: 12.5, source: 'x-venice-balance-usd' },
      ]);
      expect(lane.balances[0]?.at).toBeGreaterThanOrEqual(sent);
      const state = (await getJson(`${s.url}/api/state`)).body as { lanes: Lane[] };
      const now = state.lanes.find((l) => l.model === 'p/m') as Lane;
      expect(now.learned).toEqual([expect.objectContaining({ name: 'requests', remaining: 499, limit: 500, source: 'x-ratelimit-*' })]);
      expect(state.lanes.find((l) => l.model === 'p/f')).toMatchObject({ balances: [], learned: [] });
      headers['x-venice-balance-usd'] = '12.4';
      headers['x-ratelimit-remaining-requests'] = '498';
      await api.prompt(id, 'second');
      const later = (await getJson(`${s.url}/api/state`)).body as { lanes: Lane[] };
      const lane2 = later.lanes.find((l) => l.model === 'p/m') as Lane;
      expect(lane2.balances.find((b) => b.unit === 'USD')?.amount).toBe(12.4);
      expect(lane2.learned[0]?.remaining).toBe(498);
    } finally {
      stream.close();
    }
  });
});
