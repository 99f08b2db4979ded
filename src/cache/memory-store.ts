/**
 * The in-process store: a Map that keeps at most `maxSize` entries and drops the least recently
 * used one when full. A Map keeps insertion order, so "recently used" means "moved to the end":
 * every `get` hit and every `set` re-inserts its key. Keyv accepts any Map as a store and handles
 * expiry itself (expired entries are deleted when read, or pushed out by newer ones).
 */
export class LruMap<K, V> extends Map<K, V> {
  readonly maxSize: number;

  constructor(maxSize: number) {
    super();
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`maxSize must be a positive integer, got ${maxSize}`);
    this.maxSize = maxSize;
  }

  override get(key: K): V | undefined {
    if (!super.has(key)) return undefined;
    const value = super.get(key) as V;
    super.delete(key);
    super.set(key, value);
    return value;
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    for (const oldest of super.keys()) {
      if (this.size <= this.maxSize) break;
      super.delete(oldest);
    }
    return this;
  }
}
