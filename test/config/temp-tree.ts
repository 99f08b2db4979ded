import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A temp folder with `home/`, `xdg/` (XDG_CONFIG_HOME), `presets/` and helpers to fill it. */
export interface TempTree {
  root: string;
  home: string;
  xdg: string;
  presets: string;
  /** `env` for LoadOptions: HOME and XDG_CONFIG_HOME inside the tree, nothing else. */
  env: NodeJS.ProcessEnv;
  write(rel: string, content: string | object): Promise<string>;
  mkdir(rel: string): Promise<string>;
  path(rel: string): string;
  remove(): Promise<void>;
}

export async function tempTree(): Promise<TempTree> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-config-')));
  const tree: TempTree = {
    root,
    home: path.join(root, 'home'),
    xdg: path.join(root, 'xdg'),
    presets: path.join(root, 'presets'),
    env: { HOME: path.join(root, 'home'), XDG_CONFIG_HOME: path.join(root, 'xdg') },
    path: (rel) => path.join(root, rel),
    async write(rel, content) {
      const file = path.join(root, rel);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return file;
    },
    async mkdir(rel) {
      const dir = path.join(root, rel);
      await fs.mkdir(dir, { recursive: true });
      return dir;
    },
    remove: () => fs.rm(root, { recursive: true, force: true }),
  };
  await Promise.all([tree.mkdir('home'), tree.mkdir('xdg'), tree.mkdir('presets')]);
  return tree;
}

/** Every file and folder under `dir` with its mtime and size, for "nothing was written" checks. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const full = path.join(e.parentPath, e.name);
    const st = await fs.stat(full);
    out[path.relative(dir, full)] = `${st.mtimeMs}:${st.size}:${e.isDirectory() ? 'd' : 'f'}`;
  }
  return out;
}
