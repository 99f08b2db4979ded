/**
 * `runDoctor`: every check group and `--fix` (the library's doctor and the full CLI's). Each group's
 * module is loaded only when the group runs.
 */
import { runChecks, type CheckSet } from './run-checks.ts';
import type { DoctorOptions, DoctorReport } from './types.ts';

export { parseGroups } from './run-checks.ts';

const ALL: CheckSet = {
  checks: {
    config: async () => (await import('./check-config.ts')).checkConfig,
    auth: async () => (await import('./check-auth.ts')).checkAuth,
    models: async () => (await import('./check-models.ts')).checkModels,
    mcp: async () => (await import('./check-mcp.ts')).checkMcp,
    cache: async () => (await import('./check-state.ts')).checkState,
    runtime: async () => (await import('./check-runtime.ts')).checkRuntime,
  },
  fixes: async () => (await import('./fix.ts')).applyFixes,
};

/** Runs doctor: the selected groups (default all), in parallel, bounded by `totalTimeoutMs`. */
export function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  return runChecks(opts, ALL);
}
