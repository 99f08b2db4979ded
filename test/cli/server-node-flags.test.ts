import { afterEach, describe, expect, it, vi } from 'vitest';
import { restartWithServerFlags, SERVER_NODE_FLAGS } from '../../src/cli/server-node-flags.ts';

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;
const proc = process as unknown as { execve?: Execve };
const original = proc.execve;
afterEach(() => {
  proc.execve = original;
  vi.restoreAllMocks();
});

describe('a server restarts with the Node flags it needs (src/cli/server-node-flags.ts)', () => {
  it('serve and dashboard are restarted in place with --no-memory-reducer, keeping Node’s other flags, the script and every argument', () => {
    const calls: Parameters<Execve>[] = [];
    proc.execve = ((...args: Parameters<Execve>) => void calls.push(args)) as Execve;
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue(['--enable-source-maps']);
    restartWithServerFlags('serve', ['serve', '--port', '4096', '--hostname=127.0.0.1']);
    restartWithServerFlags('dashboard', ['dashboard', '--no-open']);
    expect(SERVER_NODE_FLAGS).toEqual(['--no-memory-reducer']);
    expect(calls).toEqual([
      [process.execPath, [process.execPath, '--enable-source-maps', '--no-memory-reducer', process.argv[1], 'serve', '--port', '4096', '--hostname=127.0.0.1'], process.env],
      [process.execPath, [process.execPath, '--enable-source-maps', '--no-memory-reducer', process.argv[1], 'dashboard', '--no-open'], process.env],
    ]);
  });

  it('other commands, and a server whose Node already has the flags, go on as they are', () => {
    const execve = vi.fn();
    proc.execve = execve as unknown as Execve;
    for (const command of ['run', 'workflow', 'doctor', 'config', 'none']) restartWithServerFlags(command, [command]);
    vi.spyOn(process, 'execArgv', 'get').mockReturnValue(['--no-memory-reducer']);
    restartWithServerFlags('serve', ['serve']);
    expect(execve).not.toHaveBeenCalled();
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
