import { evaluatePermission, permissionKeyFor, type Permission } from '../permissions/rules.ts';
import { mostSpecificMatch } from '../permissions/wildcard.ts';

/**
 * Whether `tools` (name or glob → enabled) leaves a tool on: the exact name first, else the most
 * specific matching glob (`"github_*": false`); a tool no entry names is on.
 */
export function toolEnabled(tools: Readonly<Record<string, boolean>>, name: string): boolean {
  if (Object.hasOwn(tools, name)) return tools[name] !== false;
  const globs = Object.keys(tools).filter((k) => k.includes('*') || k.includes('?'));
  const match = mostSpecificMatch(name, globs);
  return match === undefined ? true : tools[match] !== false;
}

/**
 * A tool whose permission is a plain `deny` (no patterns) can never run, so it is not offered to
 * the model at all; a tool with patterns (`edit: {"*.md": "allow"}`) stays and is judged per call.
 */
export function deniedOutright(permission: Permission, name: string): boolean {
  const decision = evaluatePermission(permission, permissionKeyFor(name));
  return decision.source === 'config' && decision.pattern === undefined && decision.action === 'deny';
}

/** The tools an agent is offered: enabled by `tools` and not denied outright by `permission`. */
export function offeredTools<T>(all: Readonly<Record<string, T>>, tools: Readonly<Record<string, boolean>>, permission: Permission): Record<string, T> {
  return Object.fromEntries(Object.entries(all).filter(([name]) => toolEnabled(tools, name) && !deniedOutright(permission, name)));
}
