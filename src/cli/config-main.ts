/**
 * Entry point of the config bundle (dist/bin/config.cjs, scripts/build-cli.ts): `opencode config
 * validate | show | init` on their own. It holds the parser (the same flags and rules as the full
 * CLI: src/cli/cli.ts, `configCommand`), the config loader and its generated validator, and none of
 * the AI SDK, the scheduler, the server or SQLite. The loader (src/cli/bundle-cache.ts) picks it only
 * when argv names `config` without help, version or completion flags, which the full CLI renders.
 */
import { runCli } from './cli.ts';
import { configCommand } from './commands/config.ts';

/** Runs a `config` action; resolves `true` (the loader's partial bundles answer whether argv was theirs). */
export async function main(argv: string[]): Promise<boolean> {
  await runCli(argv, [configCommand]);
  return true;
}
