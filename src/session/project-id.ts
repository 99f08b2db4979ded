import { createHash } from 'node:crypto';

/** A stable id for a project folder (OpenCode uses the first commit; a hash of the path serves as well). */
export function projectId(projectRoot: string): string {
  return createHash('sha256').update(projectRoot).digest('hex').slice(0, 16);
}
