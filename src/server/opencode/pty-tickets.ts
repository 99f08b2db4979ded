/**
 * OpenCode's terminal connect tickets (`POST /pty/{ptyID}/connect-token`): a browser cannot put the
 * server password in a WebSocket's headers, so a page that may call the server asks for a ticket
 * (with `x-opencode-ticket: 1`, a header no other site's page can send without a preflight) and
 * opens `/pty/{ptyID}/connect?ticket=…`. A ticket opens that terminal of that project once, within
 * a minute.
 */
import { randomUUID } from 'node:crypto';

/** Seconds a ticket lives (OpenCode's). */
export const TICKET_TTL_S = 60;
/** Tickets held at once; the oldest goes first past it. */
const CAPACITY = 1000;

interface Ticket {
  ptyID: string;
  projectRoot: string;
  expires: number;
}

export class PtyTickets {
  readonly #tickets = new Map<string, Ticket>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  issue(ptyID: string, projectRoot: string): { ticket: string; expires_in: number } {
    const now = this.#now();
    for (const [key, held] of this.#tickets) if (held.expires <= now) this.#tickets.delete(key);
    while (this.#tickets.size >= CAPACITY) this.#tickets.delete(this.#tickets.keys().next().value as string);
    const ticket = randomUUID();
    this.#tickets.set(ticket, { ptyID, projectRoot, expires: now + TICKET_TTL_S * 1000 });
    return { ticket, expires_in: TICKET_TTL_S };
  }

  /** The project whose terminal `ptyID` the ticket opens now, if it does; it is spent either way. */
  consume(ticket: string, ptyID: string): string | undefined {
    const held = this.#tickets.get(ticket);
    if (!held) return undefined;
    this.#tickets.delete(ticket);
    return held.expires > this.#now() && held.ptyID === ptyID ? held.projectRoot : undefined;
  }
}
