import { describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from '../src/random-bytes.ts';

describe('randomBytes (from /dev/urandom, without node:crypto)', () => {
  it('gives each caller bytes of its own, across the 256-byte pool and beyond it', () => {
    const sizes = [1, 6, 12, 14, 16, 100, 200, 255, 256, 257, 1000];
    const seen = new Set<string>();
    for (const size of sizes) {
      const bytes = randomBytes(size);
      expect(bytes.length).toBe(size);
      const hex = bytes.toString('hex');
      if (size >= 12) {
        expect(seen.has(hex)).toBe(false);
        seen.add(hex);
      }
    }
    // A buffer handed out is a copy: changing it changes nothing given later.
    const a = randomBytes(8);
    a.fill(0);
    expect(randomBytes(8).equals(Buffer.alloc(8))).toBe(false);
  });

  it('is not predictable from its first bytes: 4,096 draws of 8 bytes are all different and every byte value shows up', () => {
    const draws = Array.from({ length: 4096 }, () => randomBytes(8));
    expect(new Set(draws.map((b) => b.toString('hex'))).size).toBe(4096);
    const counts = new Array<number>(256).fill(0);
    for (const b of draws) for (const byte of b) counts[byte] = (counts[byte] as number) + 1;
    // 32,768 bytes: ~128 of each value expected; a value never seen would mean a broken source.
    expect(Math.min(...counts)).toBeGreaterThan(40);
  });
});

describe('randomUUID', () => {
  it('writes version 4, variant 1 UUIDs, all different', () => {
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(1000);
  });
});
