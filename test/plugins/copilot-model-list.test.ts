/**
 * Copilot's `/models` entries as the built-in plugin reads them (plugins/builtin/copilot-models.ts):
 * which entries count, the endpoint each one gets (its `supported_endpoints`, else OpenCode's name
 * rule), its price from `billing.token_prices`, and how the list merges with the provider's models.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { endpointOf, fetchModelList, mergeModels, readListed } from '../../src/plugins/builtin/copilot-models.ts';
import { copilotEntry } from '../support/fake-copilot.ts';

describe("Copilot's model list", () => {
  it('counts entries as OpenCode does: not disabled by policy, with prompt and output limits and tool support', () => {
    expect(readListed(copilotEntry({ id: 'gpt-4.1', endpoints: ['/chat/completions'], vision: true }))).toMatchObject({ id: 'gpt-4.1', picker: true, image: true, toolCalls: true, output: 16000 });
    expect(readListed(copilotEntry({ id: 'x', endpoints: [], disabled: true }))).toBeUndefined();
    const entry = copilotEntry({ id: 'embed', endpoints: [] }) as { capabilities: { limits: Record<string, unknown>; supports: Record<string, unknown> } };
    delete entry.capabilities.limits.max_output_tokens;
    expect(readListed(entry)).toBeUndefined();
    expect(readListed({ id: 'no-caps' })).toBeUndefined();
    expect(readListed('junk')).toBeUndefined();
  });

  it('gives each model its endpoint: supported_endpoints first, else gpt-5 and later (but gpt-5-mini) over Responses', () => {
    expect(endpointOf('gpt-5-mini', ['/responses'])).toBe('responses');
    expect(endpointOf('gpt-5.3-codex', ['/chat/completions', '/responses'])).toBe('responses');
    expect(endpointOf('claude-sonnet-4.6', ['/chat/completions', '/v1/messages'])).toBe('chat');
    expect(endpointOf('gpt-5.4')).toBe('responses');
    expect(endpointOf('gpt-10-luna')).toBe('responses');
    expect(endpointOf('gpt-5-mini')).toBe('chat');
    expect(endpointOf('gpt-4.1')).toBe('chat');
    expect(endpointOf('claude-opus-4.8')).toBe('chat');
  });

  it('prices from billing.token_prices (per million), 0 without them', () => {
    const priced = { ...copilotEntry({ id: 'p', endpoints: ['/responses'] }), billing: { token_prices: { batch_size: 10000, default: { input_price: 2, output_price: 8, cache_price: 0.5 } } } };
    expect(readListed(priced)?.cost).toEqual({ input: 2, output: 8, cache: 0.5 });
    expect(readListed(copilotEntry({ id: 'q', endpoints: ['/responses'] }))?.cost).toEqual({ input: 0, output: 0, cache: 0 });
  });

  it("merges as OpenCode does: the provider's models Copilot lists keep their own words, the others go, Copilot's are added; only the picker's remain", () => {
    const list = [
      readListed(copilotEntry({ id: 'gpt-4.1', name: 'GPT-4.1', endpoints: ['/chat/completions'] })),
      readListed(copilotEntry({ id: 'gpt-5.3-codex', name: 'GPT-5.3-Codex', endpoints: ['/responses'] })),
      readListed(copilotEntry({ id: 'hidden', endpoints: ['/chat/completions'], picker: false })),
    ].flatMap((m) => m ?? []);
    const merged = mergeModels(
      {
        mine: { name: 'My 4.1', api: { id: 'gpt-4.1' }, options: { reasoningEffort: 'low' } },
        gone: { name: 'gone', api: { id: 'gpt-3' } },
      },
      list,
      'https://api.githubcopilot.com',
    );
    // Copilot's models under their own ids too (OpenCode keys them so): `mine` is an alias of gpt-4.1.
    expect(Object.keys(merged).sort()).toEqual(['gpt-4.1', 'gpt-5.3-codex', 'mine']);
    expect(merged.mine).toMatchObject({ name: 'My 4.1', options: { reasoningEffort: 'low' }, api: { id: 'gpt-4.1', endpoint: 'chat' } });
    expect(merged['gpt-5.3-codex']).toMatchObject({ name: 'GPT-5.3-Codex', api: { id: 'gpt-5.3-codex', endpoint: 'responses', url: 'https://api.githubcopilot.com' }, limit: { context: 128000, output: 16000 } });
  });

  it('a /models answer past its size limit (a proxy sending without end) is refused as it comes, not read whole nor kept', async () => {
    const entry = JSON.stringify(copilotEntry({ id: 'gpt-4.1', endpoints: ['/chat/completions'] }));
    let sent = 0;
    const server = http.createServer((_req, res) => {
      // No content-length: chunk after chunk of valid entries, 64 MB in all unless the client stops reading.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = `${Array.from({ length: 256 }, () => entry).join(',')},`;
      res.write('{"data":[');
      const more = (): void => {
        while (sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end(`${entry}]}`);
      };
      res.on('error', () => undefined);
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const state = mkdtempSync(path.join(os.tmpdir(), 'copilot-list-'));
    try {
      const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await expect(fetchModelList({ baseURL, token: 't', headers: {}, env: { XDG_DATA_HOME: state } })).rejects.toThrow(`GET ${baseURL}/models answered over 8 MiB`);
      expect(sent).toBeLessThan(64 * 1024 * 1024);
      expect(existsSync(path.join(state, 'pantheon', 'copilot-models.json'))).toBe(false);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(state, { recursive: true, force: true });
    }
  });
});
