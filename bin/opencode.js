#!/usr/bin/env node
import module from 'node:module';

// Cache compiled bytecode between runs (Node 22.1+): start-up is dominated by module loading.
module.enableCompileCache?.();
const { main } = await import('../dist/cli/main.js');
await main(process.argv.slice(2));
