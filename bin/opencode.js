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
const cache = module.enableCompileCache?.();
const { runBundledCli } = await import('../dist/cli/bundle-cache.js');
await runBundledCli(path.join(import.meta.dirname, '..', 'dist', 'bin'), process.argv.slice(2), cache?.directory);
