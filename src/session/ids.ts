import { randomBytes } from '../random-bytes.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
let lastTime = 0;
let counter = 0;

/**
 * An id that sorts by creation time, as OpenCode's do: `<prefix>_` + 12 hex digits (the time in ms
 * times 4096 plus a counter, so ids made in the same millisecond still ascend) + 14 random characters.
 */
export function ascendingId(prefix: string, now: number = Date.now()): string {
  if (now > lastTime) {
    lastTime = now;
    counter = 0;
  } else {
    counter += 1;
  }
  const stamp = (BigInt(Math.max(now, lastTime)) * 0x1000n + BigInt(counter)) & 0xffffffffffffn;
  const random = [...randomBytes(14)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  return `${prefix}_${stamp.toString(16).padStart(12, '0')}${random}`;
}

export function newMessageId(now?: number): string {
  return ascendingId('msg', now);
}

/** The id of a message's part by its position: ids sort in part order. */
export function partId(messageID: string, index: number): string {
  return `prt_${messageID.replace(/^msg_/, '')}${index.toString().padStart(4, '0')}`;
}
