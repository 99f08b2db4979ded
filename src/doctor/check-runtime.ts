/** runtime: the Node.js running Pantheon is 22 or newer. */
import type { DoctorContext } from './context.ts';
import { resultsFor, type CheckResult } from './types.ts';

const r = resultsFor('runtime');
export const MIN_NODE_MAJOR = 22;

/** Judges a Node version string such as `24.21.0`. */
export function nodeResult(version: string, execPath: string): CheckResult {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  if (Number.isFinite(major) && major >= MIN_NODE_MAJOR) return r.ok('node', `Node ${version} (${execPath})`);
  return r.fail('node', `Node ${version} is too old: Pantheon needs ${MIN_NODE_MAJOR} or newer`, {
    hint: `Install Node ${MIN_NODE_MAJOR}+ (e.g. \`nvm install 24\`), or run through npm so the pinned Node is used.`,
  });
}

export async function checkRuntime(_ctx: DoctorContext): Promise<CheckResult[]> {
  return [nodeResult(process.versions.node, process.execPath)];
}
