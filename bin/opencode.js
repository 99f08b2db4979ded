#!/usr/bin/env node
// node:sqlite (the ledger, the journal) needs Node.js 22.13+; say so instead of failing on an import.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `error: Pantheon needs Node.js 22.13 or later; this is ${process.version}.\n` +
      'hint: Use `npx opencode …` inside the project (it runs on the Node.js the project pins), or install Node.js 22.13+.\n',
  );
  process.exit(2);
}

// Cache compiled bytecode between runs (Node 22.1+): start-up is dominated by loading code. Node's
// compile cache serves the few files outside the bundle; the bundle has its own code cache beside it.
// (Built-ins by process.getBuiltinModule, not an ES import: no ES facade to build; src/cli/bundle-cache.ts.)
const module = process.getBuiltinModule('node:module');
const path = process.getBuiltinModule('node:path');
const cache = module.enableCompileCache?.(compileCacheDir());
const { runBundledCli } = await import('../dist/cli/bundle-cache.js');
await runBundledCli(path.join(import.meta.dirname, '..', 'dist', 'bin'), process.argv.slice(2), cache?.directory);

/**
 * Node's default folder is $TMPDIR/node-compile-cache, which other users share: one who made it
 * first could plant compiled code there that would run as this user. Unless NODE_COMPILE_CACHE names
 * a folder, the default is used only when it is this user's alone (made here 0700 when missing);
 * else a folder under $XDG_CACHE_HOME (~/.cache). src/cli/bundle-cache.ts's `privateFolder` asks the
 * same of its own sub-folder; the test is written out here because this runs before Node's compile
 * cache is on, and importing a shared module for it first cost `config validate` ~4 ms (measured).
 */
function compileCacheDir() {
  if (process.env.NODE_COMPILE_CACHE || process.getuid === undefined) return undefined;
  const fs = process.getBuiltinModule('node:fs');
  const os = process.getBuiltinModule('node:os');
  const shared = path.join(os.tmpdir(), 'node-compile-cache');
  try {
    fs.mkdirSync(shared, { mode: 0o700 });
  } catch {
    // There already (or $TMPDIR cannot be written: Node then caches nothing).
  }
  const stat = fs.statSync(shared, { throwIfNoEntry: false });
  if (!stat || (stat.isDirectory() && stat.uid === process.getuid() && (stat.mode & 0o022) === 0)) return undefined;
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'pantheon', 'node-compile-cache');
}
