import type { DoctorArgs } from './commands/doctor.ts';
import { formatText } from '../doctor/format-text.ts';
import { parseGroups, runDoctor } from '../doctor/run-doctor.ts';

/** `opencode doctor`: runs the checks, prints the report (text or one JSON document), exit 1 when one fails. */
export async function doctorAction(args: DoctorArgs): Promise<void> {
  const groups = parseGroups(args.check);
  const report = await runDoctor({
    groups,
    fix: Boolean(args.fix),
    ...(args.config ? { configPath: args.config } : {}),
    ...(args.timeout ? { probeTimeoutMs: args.timeout } : {}),
  });
  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(formatText(report, { marks: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
  if (!report.ok) process.exitCode = 1;
}
