/**
 * A webhook receiver started by a test (a real HTTP server on 127.0.0.1) and the guide's §33.1
 * signature check, as the guide writes it (HMAC-SHA256 + timingSafeEqual).
 */
import crypto from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The guide's §33.1 verification, as written there. */
export function verifyWebhookSignature(payload: string, signature: string, secret: string): boolean {
  const expectedSignature = crypto.createHmac('sha256', secret).update(payload).digest('hex');
  return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(`sha256=${expectedSignature}`));
}

export interface Delivery {
  raw: string;
  body: { event: string; webhook_id: string; timestamp: string; data: Record<string, unknown> };
  signature: string | undefined;
}

/** A webhook receiver; `next(pred)` resolves with the first delivery matching. */
export async function receiver(port = 0) {
  const got: Delivery[] = [];
  const waiters: { pred: (d: Delivery) => boolean; resolve: (d: Delivery) => void }[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const d: Delivery = { raw, body: JSON.parse(raw) as Delivery['body'], signature: req.headers['x-opencode-signature'] as string | undefined };
      got.push(d);
      for (const w of [...waiters]) {
        if (!w.pred(d)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(d);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    next: (pred: (d: Delivery) => boolean) => new Promise<Delivery>((resolve) => (got.find(pred) ? resolve(got.find(pred) as Delivery) : waiters.push({ pred, resolve }))),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

