/**
 * The error body of OpenCode's v2 routes (`/api/session`, `/api/pty`): `{_tag, message, …}`, the tag
 * by Pantheon's error code or else the status, with the ids the error concerns and Pantheon's hint.
 */
import type { HttpError } from '../http-error.ts';

/** v2's tagged error bodies, by Pantheon's error codes (a 400 is an InvalidRequestError). */
const TAGS: Record<string, string> = {
  SESSION_NOT_FOUND: 'SessionNotFoundError',
  MESSAGE_NOT_FOUND: 'MessageNotFoundError',
  PERMISSION_NOT_FOUND: 'PermissionNotFoundError',
  QUESTION_NOT_FOUND: 'QuestionNotFoundError',
  PTY_NOT_FOUND: 'PtyNotFoundError',
  PROVIDER_NOT_FOUND: 'ProviderNotFoundError',
  INVALID_CURSOR: 'InvalidCursorError',
  UNAUTHORIZED: 'UnauthorizedError',
};
const TAG_OF_STATUS: Record<number, string> = { 400: 'InvalidRequestError', 401: 'UnauthorizedError', 403: 'ForbiddenError', 404: 'NotFoundError', 409: 'ConflictError', 413: 'InvalidRequestError', 503: 'ServiceUnavailableError' };

/** Where a fault is, by how Pantheon's message begins. */
const PLACE_OF_PREFIX: [string, string][] = [
  ['query parameter ', 'Query'],
  ['path parameter ', 'Params'],
];

/** The error body of v2's routes: `{_tag, message, …}` (the ids it concerns; `field` and `kind` for a 400), with Pantheon's hint. */
export function v2Error(error: HttpError): unknown {
  const tag = TAGS[error.code] ?? TAG_OF_STATUS[error.status];
  if (!tag) return { name: 'UnknownError', data: { message: error.message, ...(error.hint ? { hint: error.hint } : {}) } };
  const { field, kind, sessionID, messageID, requestID, ptyID, providerID } = error.details as Record<string, string | undefined>;
  const ids = tag === 'SessionNotFoundError' ? { sessionID } : tag === 'MessageNotFoundError' ? { sessionID, messageID } : tag === 'PtyNotFoundError' ? { ptyID } : tag === 'ProviderNotFoundError' ? { providerID } : tag.endsWith('NotFoundError') && tag !== 'NotFoundError' ? { requestID } : {};
  // OpenCode names a body's fault `Payload`; a message that names a query or path parameter says which.
  const at = kind === 'Body' ? 'Payload' : (kind ?? PLACE_OF_PREFIX.find(([prefix]) => error.message.startsWith(prefix))?.[1]);
  const invalid = tag === 'InvalidRequestError' ? { ...(at ? { kind: at } : field ? { kind: 'Payload' } : {}), ...(field ? { field } : {}) } : {};
  return { _tag: tag, message: error.message, ...ids, ...invalid, ...(error.hint ? { hint: error.hint } : {}) };
}
