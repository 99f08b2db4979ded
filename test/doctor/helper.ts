/**
 * A hermetic place to run doctor in-process: a project folder (a git root) and XDG folders of its
 * own, an environment with nothing else in it but PATH, and small servers for the probes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runDoctor } from '../../src/doctor/run-doctor.ts';
import type { CheckResult, DoctorOptions, DoctorReport } from '../../src/doctor/types.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
/** The key every test config uses; it must never appear in doctor's output. */
export const SECRET = 'sk-doctor-abcdefghijk9Qa';
export const MEMORY_SERVER = path.join(repoRoot, 'node_modules', '.bin', 'mcp-server-memory');

export interface DoctorTree {
  root: string;
  project: string;
  dataHome: string;
  cacheHome: string;
  env: NodeJS.ProcessEnv;
  /** Writes a file (objects as JSON) relative to the project folder; returns its path. */
  write(rel: string, content: string | object): string;
  /** Writes `$XDG_DATA_HOME/opencode/auth.json` with `mode`. */
  writeAuth(entries: object, mode?: number): string;
  doctor(opts?: DoctorOptions): Promise<DoctorReport>;
  remove(): Promise<void>;
}

export async function doctorTree(): Promise<DoctorTree> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-doctor-')));
  const project = path.join(root, 'project');
  const dataHome = path.join(root, 'data');
  const cacheHome = path.join(root, 'cache');
  mkdirSync(path.join(project, '.git'), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: path.join(root, 'home'),
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_DATA_HOME: dataHome,
    XDG_CACHE_HOME: cacheHome,
  };
  const write = (rel: string, content: string | object): string => {
    const file = path.resolve(project, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  };
  return {
    root,
    project,
    dataHome,
    cacheHome,
    env,
    write,
    writeAuth(entries, mode = 0o600) {
      const dir = path.join(dataHome, 'opencode');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, 'auth.json');
      writeFileSync(file, JSON.stringify(entries), { mode });
      return file;
    },
    doctor: (opts = {}) => runDoctor({ cwd: project, env, ...opts }),
    remove: () => fs.rm(root, { recursive: true, force: true }),
  };
}

/** The one check of a group with that name (fails the test when there is not exactly one). */
export function check(report: DoctorReport, group: string, name: string): CheckResult {
  const found = report.checks.filter((c) => c.group === group && c.name === name);
  if (found.length !== 1) throw new Error(`expected one ${group}/${name} check, found ${found.length}:\n${JSON.stringify(report.checks, null, 2)}`);
  return found[0] as CheckResult;
}

/** An HTTP server on 127.0.0.1 that accepts requests and never answers them. */
export async function hangingServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createServer(() => {
    requests += 1;
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A provider behind HTTP Basic: GET /models lists `up-m1` for `user`:`password` and is 401 otherwise; it keeps each request's authorization. */
export async function basicAuthServer(user: string, password: string): Promise<{ url: string; authorizations: () => (string | undefined)[]; close: () => Promise<void> }> {
  const authorizations: (string | undefined)[] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const ok = req.headers.authorization === expected;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(ok ? { object: 'list', data: [{ id: 'up-m1', object: 'model' }] } : { error: { message: 'no' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v1`, authorizations: () => authorizations, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * `n` providers that answer GET /models only once every one of them has a request waiting: probed one
 * after the other, the first never answers; probed in parallel, all answer at once.
 */
export async function barrierServers(n: number, ids: string[]): Promise<{ urls: string[]; close: () => Promise<void> }> {
  const waiting: ServerResponse[] = [];
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer((_req, res) => {
      waiting.push(res);
      if (waiting.length < n) return;
      for (const r of waiting.splice(0)) r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model' })) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  return {
    urls: servers.map((s) => `http://127.0.0.1:${(s.address() as { port: number }).port}/v1`),
    close: async () => {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

/** A port nothing listens on: listen on a free one, then close it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
