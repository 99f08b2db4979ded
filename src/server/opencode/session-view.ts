import type { PermissionTable } from '../../permissions/rules.ts';
import { revertDiffText, revertState } from '../../session/revert-diff.ts';
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

/**
 * The session's model as OpenCode's ModelRef: the one its turns use when they name none (set
 * through v2's API, `provider/model[:variant]`), else the last that answered in it.
 */
function sessionModel(s: SessionRecord | SessionSummary): { model?: { id: string; providerID: string; variant: string } } {
  const set = 'model' in s ? s.model : undefined;
  const ref = set ?? s.models.at(-1);
  if (!ref) return {};
  const slash = ref.indexOf('/');
  const providerID = slash < 0 ? '' : ref.slice(0, slash);
  const rest = slash < 0 ? ref : ref.slice(slash + 1);
  const colon = set === undefined ? -1 : rest.lastIndexOf(':');
  return { model: colon > 0 ? { id: rest.slice(0, colon), providerID, variant: rest.slice(colon + 1) } : { id: rest, providerID, variant: 'default' } };
}

type Revert = NonNullable<SessionRecord['revert']>;

/** A revert mark as OpenCode's Session shows it: `diff`, what it did to the files as one git-style patch (its TUI's banner lists the files from it). */
export function revertV1(revert: Revert): Record<string, unknown> {
  return { messageID: revert.messageID, ...(revert.files ? { diff: revertDiffText(revert.files) } : {}) };
}

/** A revert mark as OpenCode v2's RevertState: `diff` and each file as its FileDiff. */
export function revertV2(revert: Revert): Record<string, unknown> {
  return revertState(revert);
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
    // OpenCode's: 0 until a priced model answers; the model of the session's turns, its variant `default` when none is named.
    cost: s.costUSD ?? 0,
    ...sessionModel(s),
    tokens: tokensOf(s.usage),
    time: { created: s.createdAt, updated: s.updatedAt },
    ...(permission ? { permission } : {}),
    ...(s.revert ? { revert: revertV1(s.revert) } : {}),
    ...(s.parentID ? { parentID: s.parentID } : {}),
  };
}
