/**
 * The check groups that need nothing but the config loader, the auth store and the process
 * (config, auth, runtime): the doctor bundle's (dist/bin/doctor.cjs, src/cli/doctor-main.ts), which
 * holds none of the provider probes, MCP clients or stores the other groups and `--fix` load.
 */
import { runChecks, type CheckSet } from './run-checks.ts';
import type { CheckGroup, DoctorOptions, DoctorReport } from './types.ts';

const LIGHT: CheckSet = {
  checks: {
    config: async () => (await import('./check-config.ts')).checkConfig,
    auth: async () => (await import('./check-auth.ts')).checkAuth,
    runtime: async () => (await import('./check-runtime.ts')).checkRuntime,
  },
};

/** Whether these groups (and no `--fix`) are all the light runner's. */
export function lightGroups(groups: readonly CheckGroup[], fix: boolean): boolean {
  return !fix && groups.length > 0 && groups.every((g) => LIGHT.checks[g] !== undefined);
}

/** Runs the light groups, as `runDoctor` would. */
export function runLightDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  return runChecks(opts, LIGHT);
}
