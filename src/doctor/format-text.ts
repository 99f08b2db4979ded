/**
 * The report as text for people: grouped, aligned, one line per check with its mark, the hint
 * under a problem, and a closing count. Marks and colour on a terminal; plain words otherwise.
 */
import { type CheckResult, type CheckStatus, type DoctorReport } from './types.ts';
import { plural } from './words.ts';

export interface TextStyle {
  /** ✓ ! ✗ - and ANSI colour (a terminal without NO_COLOR); else the words ok, warn, fail, skip. */
  marks: boolean;
}

const MARKS: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };
const COLOURS: Record<CheckStatus, number> = { ok: 32, warn: 33, fail: 31, skip: 90 };

function label(status: CheckStatus, style: TextStyle): string {
  if (!style.marks) return status.padEnd(4);
  return `\u001b[${COLOURS[status]}m${MARKS[status]}\u001b[0m`;
}

/** `5 ok, 1 warning, 0 failures` (and `, 2 skipped` when any were). */
export function summaryLine(checks: readonly CheckResult[]): string {
  const count = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
  const skipped = count('skip');
  return `${count('ok')} ok, ${plural(count('warn'), 'warning')}, ${plural(count('fail'), 'failure')}${skipped ? `, ${skipped} skipped` : ''}`;
}

export function formatText(report: DoctorReport, style: TextStyle): string {
  const lines: string[] = [];
  for (const fixed of report.fixed) lines.push(`fixed: ${fixed}`);
  if (report.fixed.length) lines.push('');
  const width = Math.max(0, ...report.checks.map((c) => c.name.length));
  const indent = ' '.repeat(2 + (style.marks ? 1 : 4) + 2 + width + 2);
  let group: string | undefined;
  for (const check of report.checks) {
    if (check.group !== group) {
      if (group !== undefined) lines.push('');
      group = check.group;
      lines.push(group);
    }
    lines.push(`  ${label(check.status, style)}  ${check.name.padEnd(width)}  ${check.message}`);
    for (const detail of check.details ?? []) lines.push(`${indent}${detail}`);
    if (check.hint) lines.push(`${indent}hint: ${check.hint}`);
  }
  if (report.checks.length) lines.push('');
  lines.push(summaryLine(report.checks));
  return `${lines.join('\n')}\n`;
}
