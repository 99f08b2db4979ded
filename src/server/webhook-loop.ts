/**
 * A webhook delivery never reaches a route. Pantheon's routes take no webhooks, so a request
 * carrying a delivery's header (`x-opencode-delivery`, on every one webhooks.ts sends) is a webhook
 * or `callback_url` pointed, by whatever name or address, at this server or at another Pantheon
 * whose webhooks point back: each event would make a session that makes an event (836 sessions in
 * 5 s). The URL check (api/webhook-url.ts) catches the plain cases before anything is sent; this
 * catches the rest (a DNS name for 127.0.0.1, the machine's LAN address, two servers in a ring).
 */
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './http-error.ts';
import type { ServerEnv } from './route.ts';

export const DELIVERY_HEADER = 'x-opencode-delivery';

export const refuseWebhookDeliveries: MiddlewareHandler<ServerEnv> = async (c, next) => {
  if (c.req.header(DELIVERY_HEADER) === undefined) return next();
  throw new HttpError(400, 'WEBHOOK_LOOP', `${c.req.method} ${c.req.path}: this is a webhook delivery (it has an ${DELIVERY_HEADER} header), and this server takes none.`, {
    hint: 'Point server.webhooks and callback_url at a receiver other than a Pantheon server.',
  });
};
