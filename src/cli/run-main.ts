/**
 * Entry point of the run bundle (dist/bin/run.cjs, scripts/build-cli.ts): a local `opencode run`
 * on its own. It holds the parser (the same flags and rules as the full CLI: src/cli/cli.ts,
 * `runCommand`) and what a run reaches, less what it reaches only through a dynamic import it
 * rarely takes (a plugin's in-process server, `openai/*` models, LSP, …), which its side files
 * hold (scripts/lib/split-bundle.ts). The loader (src/cli/bundle-cache.ts) picks it for `run`
 * without `--attach`, help, version or completion flags, which the full CLI renders.
 */
import { runCli } from './cli.ts';
import { runCommand } from './commands/run.ts';
export { codeCacheRanList, setCodeCacheSaver } from './code-cache.ts';
export { setStartupDone } from './startup-done.ts';
export { useCleanConfigMemo } from '../config/clean-memo.ts';

/** Runs `opencode run`; resolves `true` (the loader's partial bundles answer whether argv was theirs). */
export async function main(argv: string[]): Promise<boolean> {
  await runCli(argv, [runCommand]);
  return true;
}
