/** Tool permissions: rules, the decision for one call, and the terminal prompt for `ask`. */
export { authorize, decide, isPermissionDenied, PermissionDeniedError } from './authorize.ts';
export type { PermissionContext, PermissionRequest } from './authorize.ts';
export { ttyConfirm } from './ask.ts';
export type { TtyConfirmOptions } from './ask.ts';
export { splitCommandLine } from './bash-commands.ts';
export {
  DEFAULT_PERMISSION,
  UNLISTED_TOOL_ACTION,
  describeRule,
  evaluatePermission,
  mergePermission,
  permissionKeyFor,
} from './rules.ts';
export type { Permission, PermissionAction, PermissionDecision, PermissionRule } from './rules.ts';
export { matchesWildcard, mostSpecificMatch, specificity } from './wildcard.ts';
