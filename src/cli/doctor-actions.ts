import type { DoctorArgs } from './commands/doctor-flags.ts';
import { formatText } from '../doctor/format-text.ts';
import { parseGroups } from '../doctor/run-checks.ts';
import type { DoctorOptions, DoctorReport } from '../doctor/types.ts';
import { printJson, printPrepared } from './print.ts';
import { safeStrings } from './terminal-text.ts';

/**
 * `opencode doctor`: runs the checks, prints the report (text or one JSON document), exit 1 when one
 * fails. `run`: the full runner (run-doctor.ts) or, in the doctor bundle, the light one.
 */
export async function doctorAction(args: DoctorArgs, run: (opts: DoctorOptions) => Promise<DoctorReport>): Promise<void> {
  const groups = parseGroups(args.check);
  const report = await run({
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
