/**
 * Runs the selected check groups in parallel under one bound on the whole run, after the safe
 * repairs of `--fix`, and returns one report with every secret scrubbed out. Which groups exist is
 * the caller's: run-doctor.ts gives every group (the library's `runDoctor`, the full CLI),
 * light-doctor.ts the three that need no provider, MCP or store code (the doctor bundle).
 */
import { closestMatch } from '../config/did-you-mean.ts';
import { secretMasker } from '../config/secrets.ts';
import { PantheonError } from '../errors.ts';
import { closeContext, createContext, knownSecrets, type DoctorContext } from './context.ts';
import type { FixOutcome } from './fix.ts';
import { CHECK_GROUPS, DEFAULT_TOTAL_TIMEOUT_MS, resultsFor, type CheckGroup, type CheckResult, type DoctorOptions, type DoctorReport } from './types.ts';
import { formatDuration } from './words.ts';

export type Check = (ctx: DoctorContext) => Promise<CheckResult[]>;
/** What `--fix` repairs before the checks (fix.ts). */
export type ApplyFixes = (groups: readonly CheckGroup[], ctx: DoctorContext) => Promise<FixOutcome>;

/** The groups a runner can run, each loaded only when it runs, and the repairs of `--fix`. */
export interface CheckSet {
  checks: Partial<Record<CheckGroup, () => Promise<Check>>>;
  fixes?: () => Promise<ApplyFixes>;
}

/** Time left for groups to clean up (close MCP servers, abort requests) once the bound is reached. */
const CLEANUP_GRACE_MS = 1000;

/** `--check` values (repeatable, comma-separated allowed) as groups; an unknown name is a usage error. */
export function parseGroups(values: readonly string[] | undefined): CheckGroup[] {
  const names = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase()).filter(Boolean);
  for (const name of names) {
    if ((CHECK_GROUPS as readonly string[]).includes(name)) continue;
    const match = closestMatch(name, CHECK_GROUPS);
    throw new PantheonError('USAGE', `--check: unknown check "${name}"${match ? `; did you mean "${match}"?` : '.'}`, {
      hint: `Checks: ${CHECK_GROUPS.join(', ')}.`,
    });
  }
  return CHECK_GROUPS.filter((g) => names.length === 0 || names.includes(g));
}

function onAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function guarded(load: () => Promise<Check>, group: CheckGroup, ctx: DoctorContext): Promise<CheckResult[]> {
  return load()
    .then((run) => run(ctx))
    .catch((error: unknown) => [
    resultsFor(group).fail('check', `the check itself failed: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Run again with --debug and report it if it persists.',
    }),
  ]);
}

function scrubResult(result: CheckResult, scrub: (text: string) => string): CheckResult {
  return {
    ...result,
    message: scrub(result.message),
    ...(result.hint === undefined ? {} : { hint: scrub(result.hint) }),
    ...(result.details === undefined ? {} : { details: result.details.map(scrub) }),
  };
}

/** Runs doctor: the selected groups (default all), in parallel, bounded by `totalTimeoutMs`. */
export async function runChecks(opts: DoctorOptions, set: CheckSet): Promise<DoctorReport> {
  const groups = CHECK_GROUPS.filter((g) => !opts.groups?.length || opts.groups.includes(g));
  const missing = groups.find((g) => !set.checks[g]) ?? (opts.fix && !set.fixes ? 'fix' : undefined);
  if (missing) throw new Error(`doctor: this runner has no ${missing} step`);
  const total = opts.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
  const controller = new AbortController();
  const deadline = performance.now() + total;
  const timer = setTimeout(() => controller.abort(), total);
  let ctx: DoctorContext | undefined;
  try {
    ctx = await createContext(opts, { signal: controller.signal, deadline }, groups.some((g) => g !== 'runtime'));
    const opened = ctx;
    const fixes = opts.fix && set.fixes ? await (await set.fixes())(groups, opened) : { fixed: [], failed: [] };
    const running = groups.map((group) => guarded(set.checks[group] as () => Promise<Check>, group, opened));
    const late = (group: CheckGroup): CheckResult[] => [
      resultsFor(group).fail('time', `did not finish within doctor's bound of ${formatDuration(total)}`, {
        hint: 'A probe hung; run this group alone with --check to see which.',
      }),
    ];
    const results = await Promise.all(running.map((run, i) => Promise.race([run, onAbort(controller.signal).then(() => late(groups[i] as CheckGroup))])));
    if (controller.signal.aborted) await Promise.race([Promise.allSettled(running), delay(CLEANUP_GRACE_MS)]);
    const byGroup = new Map<CheckGroup, CheckResult[]>(groups.map((g, i) => [g, results[i] ?? []]));
    for (const failure of fixes.failed) byGroup.get(failure.group)?.unshift(failure);
    const scrub = secretMasker(knownSecrets(opened));
    const checks = groups.flatMap((g) => byGroup.get(g) ?? []).map((c) => scrubResult(c, scrub));
    return { ok: !checks.some((c) => c.status === 'fail'), checks, fixed: fixes.fixed.map(scrub) };
  } finally {
    clearTimeout(timer);
    await closeContext(ctx);
  }
}
