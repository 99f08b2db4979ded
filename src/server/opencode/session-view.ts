import type { PermissionTable } from '../../permissions/rules.ts';
import type { SessionRecord, SessionSummary } from '../../session/store.ts';
import { titleFrom } from '../../session/title.ts';
import { permissionRules, projectId } from './catalog-view.ts';
import { tokensOf } from './message-view.ts';

/** A rule list as OpenCode v2 sends it, as Pantheon's permission map (later rules win; prototype keys refused). */
export function rulesToPermission(rules: readonly { permission: string; pattern?: string; action: string }[]): PermissionTable {
  const out = Object.create(null) as Record<string, Record<string, string>>;
  for (const rule of rules) {
    if (['__proto__', 'constructor', 'prototype'].includes(rule.permission)) continue;
    const patterns = (out[rule.permission] ??= Object.create(null) as Record<string, string>);
    patterns[rule.pattern || '*'] = rule.action;
  }
  return out as PermissionTable;
}

/** A session as OpenCode's API shows it. */
export function openCodeSession(s: SessionRecord | SessionSummary, version: string): Record<string, unknown> {
  const permission = 'permission' in s && s.permission ? permissionRules(s.permission) : undefined;
  return {
    id: s.id,
    slug: s.id,
    projectID: projectId(s.projectRoot),
    directory: s.projectRoot,
    // A record not yet saved with a title of its own is titled as saving it would (its first message).
    title: s.title || ('messages' in s ? titleFrom(s.messages) : '') || `${s.parentID ? 'Child' : 'New'} session - ${new Date(s.createdAt).toISOString()}`,
    version,
    ...(s.agent ? { agent: s.agent } : {}),
    ...(s.costUSD === undefined ? {} : { cost: s.costUSD }),
    tokens: tokensOf(s.usage),
    time: { created: s.createdAt, updated: s.updatedAt },
    ...(permission ? { permission } : {}),
    ...(s.revert ? { revert: { messageID: s.revert.messageID } } : {}),
    ...(s.parentID ? { parentID: s.parentID } : {}),
  };
}
