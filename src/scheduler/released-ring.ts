/**
 * The ids of a ledger's last RELEASED_KEPT released reservations. A markSent may still come after
 * a release (the response began after its attempt ended) and moves the start later, so a ledger
 * keeps finding a released reservation by id for a while; not for as long as its rows count.
 */

/** How many released reservations a ledger can still find by id. */
export const RELEASED_KEPT = 1024;

export class ReleasedRing {
  readonly #ids: (string | undefined)[] = new Array<string | undefined>(RELEASED_KEPT);
  #at = 0;

  /** Records `id` as released; the id that falls out (released RELEASED_KEPT releases ago), if any. */
  add(id: string): string | undefined {
    const out = this.#ids[this.#at];
    this.#ids[this.#at] = id;
    this.#at = (this.#at + 1) % RELEASED_KEPT;
    return out;
  }
}
