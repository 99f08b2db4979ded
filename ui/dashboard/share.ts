/**
 * Structural sharing for the page's lists: items of a new list that equal the old item with the same
 * key keep the old object, so memoised components see no change and do not render again; the list
 * itself keeps its old identity when nothing in it changed.
 */
import type { Lane } from './types.ts';

export function share<T>(old: readonly T[], next: T[], key: (item: T) => string, signature: (item: T) => string = (item) => JSON.stringify(item)): T[] {
  const before = new Map(old.map((item) => [key(item), item]));
  let same = old.length === next.length;
  const out = next.map((item, i) => {
    const prev = before.get(key(item));
    if (prev !== undefined && signature(prev) === signature(item)) {
      if (old[i] !== prev) same = false;
      return prev;
    }
    same = false;
    return item;
  });
  return same ? (old as T[]) : out;
}

/**
 * What a lane card shows: the snapshot's time (`at`) only matters through when the next slot frees,
 * so two reads of an unchanged lane compare equal.
 */
export function laneSignature(lane: Lane): string {
  const { at, nextSlotMs, cooldown, ...rest } = lane;
  return JSON.stringify({ ...rest, nextSlot: nextSlotMs > 0 ? at + nextSlotMs : 0, cooldown: cooldown && { until: cooldown.until, failures: cooldown.failures, refusedKey: cooldown.refusedKey, unreachable: cooldown.unreachable } });
}
