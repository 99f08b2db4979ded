import { describe, expect, it } from 'vitest';
import { byCodeUnit, thousands } from '../src/icu-free.ts';

describe('thousands', () => {
  it("writes numbers as toLocaleString('en-US') does", () => {
    const numbers = [0, 1, 12, 999, 1000, 1001, 12_345, 999_999, 1_000_000, 16_777_216, 2 ** 53, -1, -1234.5, 0.5, 2.5, 1.23456, 0.0004, 1234.9999, 1e20, 1e21, 2 ** 80, 123.4567e10, NaN, Infinity, -Infinity];
    for (let i = 0; i < 500; i++) numbers.push(Math.floor(Math.random() * 10 ** (1 + (i % 15))), Math.random() * 10 ** (i % 9));
    for (const n of numbers) expect(thousands(n), String(n)).toBe(n.toLocaleString('en-US'));
  });
});

describe('byCodeUnit', () => {
  it("sorts as Array.prototype.sort's default order does", () => {
    const words = ['b', 'B', 'a-b', 'a/b', 'ab', 'a', '', 'Z', 'é', 'e', 'z10', 'z9'];
    expect([...words].sort(byCodeUnit)).toEqual([...words].sort());
  });
});
