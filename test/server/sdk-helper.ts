/**
 * Runs `@opencode-ai/sdk`'s own createOpencodeServer(): it spawns `opencode serve` from PATH, so PATH
 * gets a folder whose `opencode` is this project's bin (on the project's Node), and the environment
 * gets the sandbox's XDG folders. Events from the SDK's SSE stream are collected for assertions.
 */
import fs from 'node:fs/promises';
import { createOpencodeClient } from '@opencode-ai/sdk';
import path from 'node:path';
import type { Sandbox } from '../cli/cli-helper.ts';
import { BIN } from '../cli/cli-helper.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/**
 * How long createOpencodeServer() waits for the readiness line. Its default, 5 s, is ample on a
 * quiet machine (`opencode serve` is ready in ~0.14 s: bench/startup.ts), but not under the stress
 * run's load (two CPU hogs beside the suite's own processes, load average up to 16), where one start
 * took longer. The vitest hook timeout (60 s) stays the outer bound.
 */
export const SDK_START_TIMEOUT_MS = 45_000;

/** Puts this project's `opencode` (and its Node) first on PATH and the sandbox's folders in the environment. */
export async function useSandboxEnv(sb: Sandbox, extra: Record<string, string> = {}): Promise<() => void> {
  const binDir = path.join(sb.root, 'bin');
  await fs.mkdir(binDir, { recursive: true });
  await fs.symlink(BIN, path.join(binDir, 'opencode'));
  const saved = { ...process.env };
  Object.assign(process.env, sb.env, { PATH: [binDir, path.join(repoRoot, 'node_modules', '.bin'), process.env.PATH].join(path.delimiter) }, extra);
  return () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };
}

export interface OcEventLike {
  type: string;
  properties: Record<string, unknown>;
}

/** Collects events from an SDK SSE stream; `until` resolves when one matches. */
export function collect(stream: AsyncIterable<unknown>, unwrap: (e: unknown) => OcEventLike = (e) => e as OcEventLike) {
  const events: OcEventLike[] = [];
  const waiters: { test: (e: OcEventLike) => boolean; resolve: (e: OcEventLike) => void }[] = [];
  const done = (async () => {
    for await (const raw of stream) {
      const e = unwrap(raw);
      events.push(e);
      for (const w of [...waiters]) {
        if (w.test(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  })().catch(() => undefined);
  return {
    events,
    done,
    until(test: (e: OcEventLike) => boolean): Promise<OcEventLike> {
      const found = events.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    of: (type: string) => events.filter((e) => e.type === type),
  };
}

type MessageInfo = { id: string; time: { created: number } };

/**
 * A session's messages as OpenCode's TUI keeps them from the events (its sync store, 1.18.33): a
 * list ordered by `time.created + id`, a `message.updated` found by that key replacing its entry and
 * otherwise inserted. Starts from `initial` (what the TUI read of the session) when given. A message
 * whose creation time changes between updates ends up in this list twice, and is drawn twice.
 */
export function tuiMessages(events: readonly OcEventLike[], sessionID: string, initial: readonly MessageInfo[] = []): MessageInfo[] {
  const key = (m: MessageInfo) => `${m.time.created}${m.id}`;
  const list = [...initial];
  for (const e of events) {
    const info = e.properties.info as MessageInfo | undefined;
    if (e.type !== 'message.updated' || e.properties.sessionID !== sessionID || !info) continue;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(list[mid] as MessageInfo) < key(info)) lo = mid + 1;
      else hi = mid;
    }
    if (lo < list.length && key(list[lo] as MessageInfo) === key(info)) list[lo] = info;
    else list.splice(lo, 0, info);
  }
  return list;
}

export function idleOf(sessionID: string) {
  return (e: OcEventLike) => e.type === 'session.idle' && e.properties.sessionID === sessionID;
}

/** Resolves once nothing answers at `url` any more (the server process has gone), checking every 50 ms for at most `ms`. */
export async function untilGone(url: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const up = await fetch(url).then(
      () => true,
      () => false,
    );
    if (!up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} still answers after ${ms} ms`);
}

/** An SDK client of the server at `url` for `directory`, a new session there, and the event stream, connected. */
export async function watchedSession(url: string, directory: string) {
  const client = createOpencodeClient({ baseUrl: url, directory });
  const id = (await client.session.create({ body: {} })).data?.id ?? '';
  const abort = new AbortController();
  const stream = collect((await client.event.subscribe({ signal: abort.signal, sseMaxRetryAttempts: 0 } as never)).stream);
  await stream.until((e) => e.type === 'server.connected');
  return { client, id, stream, close: () => abort.abort() };
}
