import { isPantheonError } from '../errors.ts';
import { jsonText, safeText } from './terminal-text.ts';

/**
 * Renders any thrown value as one sentence, its details and a hint: the only place errors are
 * printed. Messages may quote providers and files, so the text is made safe for a terminal.
 */
export function renderError(error: unknown, options: { debug: boolean; json: boolean }): { text: string; exitCode: number } {
  if (isPantheonError(error)) {
    if (options.json) {
      const body = { error: { code: error.code, message: error.message, details: error.details, hint: error.hint } };
      return { text: jsonText(body) + '\n', exitCode: error.exitCode };
    }
    const lines = [`error: ${error.message}`];
    for (const detail of error.details) lines.push(`  ${detail}`);
    if (error.hint) lines.push(`hint: ${error.hint}`);
    if (options.debug && error.stack) lines.push(error.stack);
    return { text: safeText(lines.join('\n')) + '\n', exitCode: error.exitCode };
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`error: internal error: ${message}`];
  if (options.debug && error instanceof Error && error.stack) lines.push(error.stack);
  else lines.push('hint: run again with --debug for details, and report it if it persists.');
  return { text: safeText(lines.join('\n')) + '\n', exitCode: 1 };
}
