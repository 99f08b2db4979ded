/**
 * The dashboard's pace (src/core/live/pace.ts) on a clock the test moves: a few pushes at once after a
 * quiet spell, then one every 1/perSecond while they keep coming, and a clock that goes back adds nothing.
 */
import { describe, expect, it } from 'vitest';
import { Pace } from '../../src/core/live/pace.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, move: (ms: number) => (t += ms) };
}

describe('Pace', () => {
  it('lets a burst go at once, then one push every 250 ms at 4 a second', () => {
    const c = clock();
    const pace = new Pace(4, 4, c.now);
    for (let i = 0; i < 4; i++) {
      expect(pace.wait()).toBe(0);
      pace.took();
    }
    expect(pace.wait()).toBe(250);
    c.move(100);
    expect(pace.wait()).toBe(150);
    c.move(150);
    expect(pace.wait()).toBe(0);
    pace.took();
    expect(pace.wait()).toBe(250);
  });

  it('over a stream of pushes, sends no more than the burst plus 4 a second', () => {
    const c = clock();
    const pace = new Pace(4, 4, c.now);
    let sent = 0;
    // A push wanted every 10 ms for 10 s; each goes when the pace allows.
    let due = 0;
    for (let t = 0; t < 10_000; t += 10) {
      if (t >= due) {
        const wait = pace.wait();
        if (wait === 0) {
          pace.took();
          sent += 1;
        } else due = t + wait;
      }
      c.move(10);
    }
    expect(sent).toBeGreaterThanOrEqual(4 + 39);
    expect(sent).toBeLessThanOrEqual(4 + 40);
  });

  it('fills up again after a quiet spell, never past the burst', () => {
    const c = clock();
    const pace = new Pace(4, 4, c.now);
    for (let i = 0; i < 4; i++) pace.took();
    c.move(60_000);
    for (let i = 0; i < 4; i++) {
      expect(pace.wait()).toBe(0);
      pace.took();
    }
    expect(pace.wait()).toBeGreaterThan(0);
  });

  it('takes a push that could not wait (a lane whose wait begins) without going below empty', () => {
    const c = clock();
    const pace = new Pace(4, 4, c.now);
    for (let i = 0; i < 10; i++) pace.took();
    expect(pace.wait()).toBe(250);
  });

  it('adds nothing when the clock goes back', () => {
    const c = clock();
    const pace = new Pace(4, 4, c.now);
    for (let i = 0; i < 4; i++) pace.took();
    c.move(-5_000);
    expect(pace.wait()).toBe(250);
    c.move(5_000 + 250);
    expect(pace.wait()).toBe(0);
  });
});
