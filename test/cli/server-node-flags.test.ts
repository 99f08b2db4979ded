import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeFlagGiven, restartWithServerFlags, SERVER_NODE_FLAGS } from '../../src/cli/server-node-flags.ts';

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;
const proc = process as unknown as { execve?: Execve };
const original = proc.execve;
afterEach(() => {
  proc.execve = original;
  vi.restoreAllMocks();
});

describe('a server restarts with the Node flags it needs (src/cli/server-node-flags.ts)', () => {
  it('serve and dashboard are restarted in place with --no-memory-reducer and --min-semi-space-size=4, keeping Node’s other flags, the script and every argument', () => {
    const calls: Parameters<Execve>[] = [];
    proc.execve = ((...args: Parameters<Execve>) => void calls.push(args)) as Execve;
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue(['--enable-source-maps']);
    restartWithServerFlags('serve', ['serve', '--port', '4096', '--hostname=127.0.0.1']);
    restartWithServerFlags('dashboard', ['dashboard', '--no-open']);
    expect(SERVER_NODE_FLAGS).toEqual(['--no-memory-reducer', '--min-semi-space-size=4']);
    expect(calls).toEqual([
      [process.execPath, [process.execPath, '--enable-source-maps', '--no-memory-reducer', '--min-semi-space-size=4', process.argv[1], 'serve', '--port', '4096', '--hostname=127.0.0.1'], process.env],
      [process.execPath, [process.execPath, '--enable-source-maps', '--no-memory-reducer', '--min-semi-space-size=4', process.argv[1], 'dashboard', '--no-open'], process.env],
    ]);
  });

  it('other commands, and a server whose Node already has the flags, go on as they are', () => {
    const execve = vi.fn();
    proc.execve = execve as unknown as Execve;
    for (const command of ['run', 'workflow', 'doctor', 'config', 'none']) restartWithServerFlags(command, [command]);
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue(['--no-memory-reducer', '--min-semi-space-size=4']);
    restartWithServerFlags('serve', ['serve']);
    expect(execve).not.toHaveBeenCalled();
  });

  it('a flag of the same name the user gave Node (however spelt, or in NODE_OPTIONS) is theirs: only the others are added', () => {
    const calls: Parameters<Execve>[] = [];
    proc.execve = ((...args: Parameters<Execve>) => void calls.push(args)) as Execve;
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue(['--min_semi_space_size=16']);
    restartWithServerFlags('serve', ['serve']);
    expect(calls[0]?.[1]).toEqual([process.execPath, '--min_semi_space_size=16', '--no-memory-reducer', process.argv[1], 'serve']);
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue(['--memory-reducer']);
    vi.stubEnv('NODE_OPTIONS', '--max-old-space-size=512 --min-semi-space-size=2');
    restartWithServerFlags('serve', ['serve']);
    vi.unstubAllEnvs();
    expect(calls).toHaveLength(1);
  });

  it('a flag is the user’s when Node was given one of its name, however spelt, on its command line or in NODE_OPTIONS (serve’s run-time tier-up counts leave it as given)', () => {
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue(['--invocation_count_for_maglev=1000']);
    vi.stubEnv('NODE_OPTIONS', '');
    expect(nodeFlagGiven('--invocation-count-for-maglev=200')).toBe(true);
    expect(nodeFlagGiven('--minimum-invocations-after-ic-update=200')).toBe(false);
    vi.stubEnv('NODE_OPTIONS', '--max-old-space-size=512  --minimum-invocations-after-ic-update=50');
    expect(nodeFlagGiven('--minimum-invocations-after-ic-update=200')).toBe(true);
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue(['--memory-reducer']);
    expect(nodeFlagGiven('--no-memory-reducer')).toBe(true);
    vi.unstubAllEnvs();
  });

  it('where execve is missing (Windows, older Node) or fails, the server runs in this process', () => {
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue([]);
    proc.execve = undefined;
    expect(() => restartWithServerFlags('serve', ['serve'])).not.toThrow();
    const failing = vi.fn(() => {
      throw Object.assign(new Error('execve failed'), { code: 'ENOEXEC' });
    });
    proc.execve = failing as unknown as Execve;
    expect(() => restartWithServerFlags('serve', ['serve'])).not.toThrow();
    expect(failing).toHaveBeenCalledTimes(process.platform === 'win32' ? 0 : 1);
  });
});
