/**
 * An npm registry served on 127.0.0.1 for tests that install packages with the real npm: fixture
 * packages (a folder's files each) packed with `npm pack`, their metadata and tarballs served as
 * the npm registry serves them. No network.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface NpmRegistry {
  /** The registry's URL, with a trailing slash (for `npm_config_registry`). */
  url: string;
  close(): Promise<void>;
}

/** Writes a package folder with these files. */
export function makePackage(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

/**
 * Packs each package (its files; its package.json names it) under `root` with `npm`, and serves
 * them. A name in `hang` is never answered (an install's time bound); any other unknown name is a 404.
 */
export async function startNpmRegistry(npm: string, root: string, packages: readonly Record<string, string>[], options: { hang?: readonly string[] } = {}): Promise<NpmRegistry> {
  const packEnv = { ...process.env, PATH: [path.dirname(process.execPath), process.env.PATH].join(path.delimiter), npm_config_update_notifier: 'false' };
  const tarballs = new Map<string, { name: string; version: string; data: Buffer }>();
  for (const [i, files] of packages.entries()) {
    const dir = path.join(root, 'src', String(i));
    makePackage(dir, files);
    const file = execFileSync(npm, ['pack', '--silent', '--pack-destination', root], { cwd: dir, env: packEnv, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    const json = JSON.parse(files['package.json'] ?? '{}') as { name: string; version: string };
    tarballs.set(json.name, { ...json, data: fs.readFileSync(path.join(root, file)) });
  }
  let url = '';
  const server = http.createServer((req, res) => {
    const asked = decodeURIComponent(req.url ?? '');
    if (options.hang?.includes(asked.slice(1))) return;
    const tarball = /^\/-\/t\/(.+)\.tgz$/.exec(asked);
    const pkg = tarballs.get(tarball ? tarball[1]! : asked.slice(1));
    if (!pkg) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    if (tarball) {
      res.end(pkg.data);
      return;
    }
    const dist = {
      tarball: `${url}-/t/${pkg.name}.tgz`,
      integrity: `sha512-${crypto.createHash('sha512').update(pkg.data).digest('base64')}`,
      shasum: crypto.createHash('sha1').update(pkg.data).digest('hex'),
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: pkg.name, 'dist-tags': { latest: pkg.version }, versions: { [pkg.version]: { name: pkg.name, version: pkg.version, dist } } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
