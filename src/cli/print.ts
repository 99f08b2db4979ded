import type { ConfigWarning } from '../config/load.ts';

/** Config warnings go to stderr, one line each. */
export function printWarnings(warnings: readonly ConfigWarning[]): void {
  for (const w of warnings) {
    const where = [w.file, w.path].filter(Boolean).join(' ');
    process.stderr.write(`warning: ${where ? `${where}: ` : ''}${w.message}\n`);
  }
}
