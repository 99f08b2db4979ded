/**
 * After `edit` or `write` (and the formatters): the language servers the config's `lsp` runs are
 * told the file changed, and the errors they report (severity 1 only, at most 20 a file) are added
 * to the tool's answer in OpenCode's words, so that the model fixes them: the file's own for both
 * tools, and for `write` those of up to 5 other files too.
 */
import type { LspDiagnostic } from '../lsp/client.ts';
import type { ToolContext } from './types.ts';

const MAX_PER_FILE = 20;
/** Other files whose errors `write` adds, at most (OpenCode's). */
const MAX_OTHER_FILES = 5;

function line(d: LspDiagnostic): string {
  const severity = ({ 1: 'ERROR', 2: 'WARN', 3: 'INFO', 4: 'HINT' } as Record<number, string>)[d.severity || 1] ?? 'ERROR';
  return `${severity} [${d.range.start.line + 1}:${d.range.start.character + 1}] ${d.message}`;
}

/** OpenCode's report of a file's errors, or '' when it has none. */
export function diagnosticsReport(file: string, diagnostics: readonly LspDiagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 1);
  if (errors.length === 0) return '';
  const more = errors.length - MAX_PER_FILE;
  return `<diagnostics file="${file}">\n${errors.slice(0, MAX_PER_FILE).map(line).join('\n')}${more > 0 ? `\n... and ${more} more` : ''}\n</diagnostics>`;
}

/** What to add to the answer of `edit` (`others` false) or `write` (true) on `file` (absolute), '' when nothing. */
export async function diagnosticsNote(ctx: ToolContext, file: string, others: boolean): Promise<string> {
  if (!ctx.diagnostics) return '';
  const all = await ctx.diagnostics(file).catch(() => new Map<string, LspDiagnostic[]>());
  let out = '';
  const own = diagnosticsReport(file, all.get(file) ?? []);
  if (own) out += `\n\nLSP errors detected in this file, please fix:\n${own}`;
  if (!others) return out;
  let count = 0;
  for (const [other, list] of all) {
    if (other === file || count >= MAX_OTHER_FILES) continue;
    const report = diagnosticsReport(other, list);
    if (!report) continue;
    count++;
    out += `\n\nLSP errors detected in other files:\n${report}`;
  }
  return out;
}

/**
 * The errors an `edit` or `write` answer reports, by file, read back from its text (for OpenCode's
 * `metadata.diagnostics`, which its TUI draws under the call): `{}` when it reports none. Each
 * error's range is its start (the answer names no end).
 */
export function diagnosticsInAnswer(answer: string): Record<string, LspDiagnostic[]> {
  const out: Record<string, LspDiagnostic[]> = {};
  if (!answer.includes('\n\nLSP errors detected in ')) return out;
  let list: LspDiagnostic[] | undefined;
  for (const text of answer.split('\n')) {
    const open = /^<diagnostics file="(.*)">$/.exec(text);
    if (open) {
      list = out[open[1] as string] ??= [];
      continue;
    }
    if (!list) continue;
    if (text === '</diagnostics>') {
      list = undefined;
      continue;
    }
    const entry = /^ERROR \[(\d+):(\d+)\] (.*)$/.exec(text);
    if (entry) {
      const start = { line: Number(entry[1]) - 1, character: Number(entry[2]) - 1 };
      list.push({ range: { start, end: start }, severity: 1, message: entry[3] as string });
    } else if (!/^\.\.\. and \d+ more$/.test(text) && list.length > 0) {
      // A message of several lines.
      (list.at(-1) as LspDiagnostic).message += `\n${text}`;
    }
  }
  return out;
}
