/**
 * Workflows of thousands of steps through the CLI, in a process with a small heap: checking a
 * long chain of steps (at every config load) takes memory linear in the steps. Working out every
 * step's whole upstream took quadratic memory: 5,000 steps in a chain needed ~600 MB and ran out
 * of this heap; 15,000 took 42 s and 3.4 GB.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const STEPS = 5000;
/** A heap the quadratic check could not fit in. */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=200' };

/** `s0 → s1 → … → sN-1`, each step using its predecessor's output and the last one s0's too. */
function chain(n: number, extraNeeds: Record<number, string[]> = {}): object[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    agent: 'explore',
    prompt: i === 0 ? 'start {{input.task}}' : `go on from {{steps.s${i - 1}.output}}${i === n - 1 ? ' and {{steps.s0.output}}' : ''}`,
    needs: [...(i === 0 ? [] : [`s${i - 1}`]), ...(extraNeeds[i] ?? [])],
  }));
}

describe('workflows of thousands of steps', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  it(`a chain of ${STEPS} steps is checked and listed in a small heap, in dependency order`, async () => {
    // Listed in reverse: the order comes from `needs`, not from the file.
    sb.write('opencode.json', { workflow: { long: { steps: chain(STEPS).reverse() } } });
    const r = await sb.run(['workflow', 'list', '--json'], { env: SMALL_HEAP });
    expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
    const listed = JSON.parse(r.stdout) as { workflows: { name: string; inputs?: string[]; steps?: { id: string }[]; error?: string }[] };
    const long = listed.workflows.find((w) => w.name === 'long');
    expect(long?.error).toBeUndefined();
    expect(long?.inputs).toEqual(['task']);
    expect(long?.steps?.map((s) => s.id)).toEqual(Array.from({ length: STEPS }, (_, i) => `s${i}`));
  }, 60_000);

  it('a cycle at the end of a long chain is found and named (exit 2), and a step not upstream too', async () => {
    const steps = chain(STEPS, { [STEPS - 3]: [`s${STEPS - 1}`] });
    (steps[10] as { prompt: string }).prompt = `{{steps.s20.output}}`;
    sb.write('opencode.json', { workflow: { long: { steps } } });
    const r = await sb.run(['config', 'validate'], { env: SMALL_HEAP });
    expect(r.code, r.stderr.slice(0, 2000)).toBe(2);
    expect(hasStack(r.stderr)).toBe(false);
    expect(r.stderr).toContain('workflow.long.steps[4997].needs: steps need each other in a cycle: s4997 → s4999 → s4998 → s4997');
    expect(r.stderr).toContain('workflow.long.steps[10].prompt: {{steps.s20.output}} names step "s20", which is not upstream of "s10"');
  }, 60_000);
});
