import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyKey } from '../../src/auth/verify.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

const KEY = 'sk-right-key-0123456789';
const WRONG = 'sk-wrong-key-9876543210';

function target(baseURL: string | undefined, npm = '@ai-sdk/openai-compatible') {
  return { id: 'p', npm, ...(baseURL ? { baseURL } : {}), headers: {}, queryParams: {} };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

describe('verifyKey: GET <baseURL>/models with the key', () => {
  let scripted: ScriptedServer;
  let hanging: Server;
  let hangingUrl: string;
  const seen: { url: string; auth: string | undefined }[] = [];
  let recorder: Server;
  let recorderUrl: string;

  beforeAll(async () => {
    scripted = await startScriptedServer({ apiKey: KEY });
    // Accepts the request and never answers.
    hanging = createServer(() => undefined);
    hangingUrl = await listen(hanging);
    recorder = createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      res.writeHead(req.url?.startsWith('/v1/models') ? 404 : 500).end();
    });
    recorderUrl = await listen(recorder);
  });
  afterAll(async () => {
    await scripted.close();
    hanging.closeAllConnections();
    recorder.closeAllConnections();
    await Promise.all([hanging, recorder].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('the right key: verified, with the status and the URL (no key in it)', async () => {
    const v = await verifyKey(target(scripted.url), KEY);
    expect(v).toMatchObject({ outcome: 'verified', status: 200, url: `${scripted.url}/models` });
  });

  it('a wrong key: refused with the status', async () => {
    expect(await verifyKey(target(scripted.url), WRONG)).toEqual({ outcome: 'refused', status: 401, url: `${scripted.url}/models` });
  });

  it('connection refused: unverified, saying so', async () => {
    const closed = createServer();
    const url = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    expect(await verifyKey(target(url), KEY)).toEqual({ outcome: 'unverified', url: `${url}/models`, reason: 'connection refused' });
  });

  it('a server that never answers: unverified once the timeout passes (fake clock)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const arrived = new Promise<void>((resolve) => hanging.once('request', () => resolve()));
      let settled = false;
      const pending = verifyKey(target(hangingUrl), KEY).finally(() => {
        settled = true;
      });
      await arrived;
      await vi.advanceTimersByTimeAsync(4999);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await pending).toEqual({ outcome: 'unverified', url: `${hangingUrl}/models`, reason: 'no answer within 5 s' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('another status (404): unverified; the configured headers and query go along, the Bearer key wins', async () => {
    const v = await verifyKey({ ...target(recorderUrl), headers: { Authorization: 'Bearer other', 'x-team': 't' }, queryParams: { 'api-version': '1' } }, KEY);
    expect(v).toEqual({ outcome: 'unverified', url: `${recorderUrl}/models`, reason: `GET ${recorderUrl}/models answered 404` });
    expect(seen.at(-1)).toEqual({ url: '/v1/models?api-version=1', auth: `Bearer ${KEY}` });
  });

  it('a base URL with a user and password (a proxy behind Basic): the key is checked, the password never shown', async () => {
    const withUser = scripted.url.replace('http://', 'http://me:pass%2Fw0rd@');
    expect(await verifyKey(target(withUser), KEY)).toMatchObject({ outcome: 'verified', url: `${scripted.url}/models` });
    const closed = createServer();
    const url = (await listen(closed)).replace('http://', 'http://me:pass%2Fw0rd@');
    await new Promise((resolve) => closed.close(resolve));
    const down = await verifyKey(target(url), KEY);
    expect(down).toMatchObject({ outcome: 'unverified', reason: 'connection refused' });
    expect(JSON.stringify(down)).not.toContain('w0rd');
  });

  it('skips APIs that are not OpenAI-shaped, and providers without a base URL, without any request', async () => {
    const before = seen.length;
    expect(await verifyKey(target(recorderUrl, '@ai-sdk/anthropic'), KEY)).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/@ai-sdk\/anthropic/) });
    expect(await verifyKey(target(recorderUrl, '@ai-sdk/google'), KEY)).toMatchObject({ outcome: 'skipped' });
    expect(await verifyKey(target(undefined), KEY)).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/no base URL/) });
    expect(seen.length).toBe(before);
  });
});
