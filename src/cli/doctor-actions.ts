import type { DoctorArgs } from './commands/doctor.ts';
import { formatText } from '../doctor/format-text.ts';
import { parseGroups, runDoctor } from '../doctor/run-doctor.ts';
import { printJson, printPrepared } from './print.ts';
import { safeStrings } from './terminal-text.ts';

/** `opencode doctor`: runs the checks, prints the report (text or one JSON document), exit 1 when one fails. */
export async function doctorAction(args: DoctorArgs): Promise<void> {
  const groups = parseGroups(args.check);
  const report = await runDoctor({
    groups,
    fix: Boolean(args.fix),
    ...(args.config ? { configPath: args.config } : {}),
    ...(args.timeout ? { probeTimeoutMs: args.timeout } : {}),
  });
  if (args.json) printJson(report);
  // The report's words come from providers and files: made safe before the marks add their colour.
  else printPrepared(formatText(safeStrings(report), { marks: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
  if (!report.ok) process.exitCode = 1;
}
