/** The shapes `opencode doctor` produces: one result per check, grouped, and the report around them. */

/** `skip`: the check could not apply (a provider whose API is not OpenAI-compatible, a config that did not load). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** Check groups, in the order they are printed. */
export const CHECK_GROUPS = ['config', 'auth', 'models', 'mcp', 'cache', 'runtime'] as const;
export type CheckGroup = (typeof CHECK_GROUPS)[number];

export interface CheckResult {
  group: CheckGroup;
  name: string;
  status: CheckStatus;
  /** One line: what was found. */
  message: string;
  /** One line: how to fix it (only when not ok). */
  hint?: string;
  /** How long the probe took (providers, MCP servers, config loading). */
  ms?: number;
  /** Extra lines under the message (every validation problem, every file). */
  details?: string[];
}

export interface DoctorReport {
  /** True when no check failed (warnings allowed). */
  ok: boolean;
  checks: CheckResult[];
  /** What `--fix` changed, one sentence each. */
  fixed: string[];
}

export interface DoctorOptions {
  /** Groups to run (default: all), in any order; printed in CHECK_GROUPS order. */
  groups?: readonly CheckGroup[];
  /** Repair what is safe (file modes, missing folders, stale ledger rows) before checking. */
  fix?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** `--config PATH`. */
  configPath?: string;
  /** Timeout of each provider probe (default 3000 ms). */
  probeTimeoutMs?: number;
  /** Bound on the whole run (default 10000 ms); checks still running then fail. */
  totalTimeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 3000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 10_000;

/** A result builder bound to one group. */
export function resultsFor(group: CheckGroup) {
  const make =
    (status: CheckStatus) =>
    (name: string, message: string, extra: Partial<Pick<CheckResult, 'hint' | 'ms' | 'details'>> = {}): CheckResult => ({
      group,
      name,
      status,
      message,
      ...(extra.hint !== undefined && status !== 'ok' ? { hint: extra.hint } : {}),
      ...(extra.ms !== undefined ? { ms: Math.round(extra.ms) } : {}),
      ...(extra.details?.length ? { details: extra.details } : {}),
    });
  return { ok: make('ok'), warn: make('warn'), fail: make('fail'), skip: make('skip') };
}
