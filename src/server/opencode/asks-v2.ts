/**
 * Permission requests in OpenCode v2's shape (`PermissionV2Request`), as its v2 routes list them:
 * `action` for v1's `permission`, `resources` for `patterns`, `save` for `always`, `source` for `tool`.
 */
import type { PermissionQuestion } from '../../core/permission-asks.ts';

export function permissionV2(q: PermissionQuestion) {
  return { id: q.id, sessionID: q.sessionID, action: q.permission, resources: q.patterns, save: q.always, ...(Object.keys(q.metadata).length ? { metadata: q.metadata } : {}), ...(q.tool ? { source: { type: 'tool', ...q.tool } } : {}) };
}
