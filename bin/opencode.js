#!/usr/bin/env node
import module from 'node:module';

// node:sqlite (the ledger, the journal) needs Node.js 22.13+; say so instead of failing on an import.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `error: Pantheon needs Node.js 22.13 or later; this is ${process.version}.\n` +
      'hint: Use `npx opencode …` inside the project (it runs on the Node.js the project pins), or install Node.js 22.13+.\n',
  );
  process.exit(2);
}

// Cache compiled bytecode between runs (Node 22.1+): start-up is dominated by module loading.
module.enableCompileCache?.();
const { main } = await import('../dist/bin/opencode.js');
await main(process.argv.slice(2));
