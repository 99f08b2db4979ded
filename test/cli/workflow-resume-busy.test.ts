/**
 * A workflow run being run by a live process is not resumed beside it: `--resume RUN` is refused
 * (exit 2, naming the process) and `--resume` picks the newest unfinished run nobody is running.
 * Once that process is gone (`kill -9`), the run shows as interrupted and the next resume takes it.
 */
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, userText, useScriptedSandbox, type Sandbox } from './cli-helper.ts';

describe('workflow --resume of a run another process is running', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
    },
    (server) => ({
      ...providerConfig(server, { m1: {} }),
      model: 'p/m1',
      retry: { maxRetries: 0 },
      cache: { enabled: false },
      workflow: { two: { steps: [{ id: 'a', agent: 'explore', prompt: 'first {{input.n}}' }, { id: 'b', agent: 'explore', needs: ['a'], prompt: 'second {{steps.a.output}}' }] } },
    }),
  );

  it('is refused while that process lives, skipped by a bare --resume, and taken over once it died', async () => {
    // An older run that failed: what a bare --resume should pick while the newer one is busy.
    server.script('m1', { type: 'status', status: 400, message: 'bad request' });
    const failed = await sb.run(['workflow', 'run', 'two', '--input', 'n=1']);
    expect(failed.code, failed.stderr).toBe(1);
    const older = /run (wr_[a-z0-9]+)/.exec(failed.stderr)?.[1] as string;

    // A newer run, held in its first request.
    server.script('m1', { type: 'hang' });
    const busy = sb.start(['workflow', 'run', 'two', '--input', 'n=2']);
    await server.waitForRequests(2);
    const newer = /run (wr_[a-z0-9]+)/.exec(await busy.stderrMatches(/run wr_[a-z0-9]+/))?.[1] as string;
    expect(newer).not.toBe(older);
    const pid = busy.child.pid as number;

    const refused = await sb.run(['workflow', 'run', 'two', '--resume', newer]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `error: Run ${newer} of workflow two is being run now by process ${pid}.\n` +
        `hint: Wait for it to end (\`opencode workflow show ${newer}\` shows how far it is), or stop that process and resume then.\n`,
    );
    const listed = await sb.run(['workflow', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`${newer}\\s+two\\s+running \\(process ${pid}\\)`));
    expect(listed.stdout).toMatch(new RegExp(`${older}\\s+two\\s+failed`));

    // A bare --resume takes the older failed run, not the one being run.
    const resumed = await sb.run(['workflow', 'run', 'two', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming run ${older}`);
    expect(resumed.stdout).toBe('echo: second echo: first 1\n');
    // Nothing of the busy run was asked for again.
    expect(server.log.filter((e) => userText(e) === 'first 2')).toHaveLength(1);

    busy.child.kill('SIGKILL');
    await busy.exited;
    const after = await sb.run(['workflow', 'show', newer]);
    expect(after.stdout.split('\n')[0]).toBe(`${newer}  workflow two  interrupted`);
    const taken = await sb.run(['workflow', 'run', 'two', '--resume']);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stderr).toContain(`resuming run ${newer}`);
    expect(taken.stdout).toBe('echo: second echo: first 2\n');
  });
});
