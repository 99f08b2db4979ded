/**
 * SSE readers in a process of their own, as other clients would be (bench/serve.ts,
 * bench/profile-serve.ts): `sseReaders(url, count, headers)` starts this file as a child that opens
 * `count` streams of `url`, reads everything, and says when every stream has its first chunk;
 * `stop()` ends it and resolves with the child's own CPU time (ms).
 */
import { spawn } from 'node:child_process';

export async function sseReaders(url: string, count: number, headers: Record<string, string>): Promise<{ stop: () => Promise<number> }> {
  const child = spawn(process.execPath, [import.meta.filename, JSON.stringify({ url, count, headers })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let wake: (() => void) | undefined;
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    wake?.();
  });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  void closed.then(() => wake?.());
  const line = async (n: number): Promise<string> => {
    for (;;) {
      const lines = out.split('\n');
      if (lines.length > n) return lines[n - 1] as string;
      if (child.exitCode !== null) throw new Error(`sse-readers exited (${child.exitCode}) before line ${n}`);
      await new Promise<void>((r) => (wake = r));
    }
  };
  await line(1);
  return {
    async stop() {
      child.kill('SIGTERM');
      const last = await line(2);
      await closed;
      return (JSON.parse(last) as { cpuMs: number }).cpuMs;
    },
  };
}

if (import.meta.main) {
  const { url, count, headers } = JSON.parse(process.argv[2] as string) as { url: string; count: number; headers: Record<string, string> };
  let bytes = 0;
  const abort = new AbortController();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await fetch(url, { headers, signal: abort.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      bytes += (await reader.read()).value?.byteLength ?? 0;
      void (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          bytes += value.byteLength;
        }
      })().catch(() => undefined);
    }),
  );
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  process.on('SIGTERM', () => {
    const usage = process.resourceUsage();
    process.stdout.write(`${JSON.stringify({ bytes, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 })}\n`);
    abort.abort();
    process.exit(0);
  });
}
