/**
 * Permission rules: for each tool, `allow` / `deny` / `ask`, or glob patterns mapped to actions.
 * The agent's own `permission` sits over the top-level one (per tool: the agent's entry replaces
 * the top-level entry whole); tools neither sets fall back to the built-in defaults below.
 */
import type { Permission, PermissionAction, PermissionRule, PermissionTable } from '../config/schema-types.ts';
import { mostSpecificMatch } from './wildcard.ts';

export type { Permission, PermissionAction, PermissionRule, PermissionTable };

/** Built-in defaults: read-only tools run, changes and the network ask first. */
export const DEFAULT_PERMISSION: Readonly<Record<string, PermissionAction>> = Object.freeze({
  read: 'allow',
  list: 'allow',
  glob: 'allow',
  grep: 'allow',
  task: 'allow',
  edit: 'ask',
  bash: 'ask',
  webfetch: 'ask',
  external_directory: 'ask',
});

/** The action for tools the table above does not name (MCP tools, for instance). */
export const UNLISTED_TOOL_ACTION: PermissionAction = 'allow';

/** The permission key that governs a tool: `write` and `edit` share `edit`. */
export function permissionKeyFor(tool: string): string {
  return tool === 'write' ? 'edit' : tool;
}

export interface PermissionDecision {
  action: PermissionAction;
  /** The permission key that was looked up (`edit`, `bash`, …). */
  key: string;
  /** The key written in the config when it was a wildcard (`"github_*"`). */
  keyPattern?: string;
  /** The pattern that decided, when the rule was an object of patterns. */
  pattern?: string;
  /** Where the action came from: a rule in the config or the built-in default. */
  source: 'config' | 'default';
}

/** A `permission` value as a table by tool: one action for everything (`"allow"`) is `{"*": "allow"}`. */
export function permissionTable(permission: Permission | undefined): PermissionTable {
  if (permission === undefined) return {};
  return typeof permission === 'string' ? { '*': permission } : permission;
}

/**
 * Merges top-level and agent permissions: the agent's entry for a tool replaces the top-level one,
 * and an agent's one action for everything replaces the top-level permission whole.
 */
export function mergePermission(topLevel?: Permission, agent?: Permission): PermissionTable {
  if (typeof agent === 'string') return permissionTable(agent);
  return { ...permissionTable(topLevel), ...permissionTable(agent) };
}

function ruleFor(given: Permission | undefined, key: string): { rule: PermissionRule; keyPattern?: string } | undefined {
  if (!given) return undefined;
  const permission = permissionTable(given);
  const own = Object.hasOwn(permission, key) ? permission[key] : undefined;
  if (own !== undefined) return { rule: own };
  const wildcardKeys = Object.keys(permission).filter((k) => k.includes('*') || k.includes('?'));
  const keyPattern = mostSpecificMatch(key, wildcardKeys);
  const rule = keyPattern === undefined ? undefined : permission[keyPattern];
  return rule === undefined || keyPattern === undefined ? undefined : { rule, keyPattern };
}

function defaultDecision(key: string): PermissionDecision {
  return { action: DEFAULT_PERMISSION[key] ?? UNLISTED_TOOL_ACTION, key, source: 'default' };
}

/**
 * The action for one use of a tool. `subject` is what patterns match: the command line for
 * `bash`, the path relative to the project root for `edit`, the URL for `webfetch`, the agent
 * name for `task`. An object rule with no matching pattern falls back to the built-in default.
 */
export function evaluatePermission(permission: Permission | undefined, key: string, subject = ''): PermissionDecision {
  const found = ruleFor(permission, key);
  if (!found) return defaultDecision(key);
  const keyPattern = found.keyPattern === undefined ? {} : { keyPattern: found.keyPattern };
  if (typeof found.rule === 'string') return { action: found.rule, key, ...keyPattern, source: 'config' };
  const patterns = found.rule;
  const pattern = mostSpecificMatch(subject, Object.keys(patterns));
  const action = pattern === undefined ? undefined : patterns[pattern];
  if (pattern === undefined || action === undefined) return { ...defaultDecision(key), ...keyPattern };
  return { action, key, ...keyPattern, pattern, source: 'config' };
}

const STRICTNESS: Record<PermissionAction, number> = { allow: 0, ask: 1, deny: 2 };

/** The strictest of several decisions (deny over ask over allow); the first wins a tie. */
export function strictest<T extends { decision: PermissionDecision }>(items: readonly T[]): T | undefined {
  let worst: T | undefined;
  for (const item of items) {
    if (!worst || STRICTNESS[item.decision.action] > STRICTNESS[worst.decision.action]) worst = item;
  }
  return worst;
}

/** A short description of the rule behind a decision: `"rm *": deny`, `bash: ask (default)`. */
export function describeRule(decision: PermissionDecision): string {
  if (decision.pattern !== undefined) return `rule "${decision.pattern}": ${decision.action}`;
  const key = decision.keyPattern ?? decision.key;
  return decision.source === 'default' ? `${key}: ${decision.action} by default` : `rule ${key}: ${decision.action}`;
}
