/**
 * The instruction files already in a session's context when a turn starts, so that its `read`
 * calls do not bring them in again (tools/nested-instructions.ts): the system prompt's, and those
 * the session's earlier reads brought in, read back from their answers (as OpenCode finds them in
 * its earlier read parts' `metadata.loaded`).
 */
import path from 'node:path';
import type { ModelMessage } from 'ai';
import { loadedByRead } from '../tools/nested-instructions.ts';

interface Part {
  type?: unknown;
  toolCallId?: unknown;
  toolName?: unknown;
  input?: unknown;
  output?: unknown;
}

function partsOf(message: ModelMessage): Part[] {
  return Array.isArray(message.content) ? (message.content as Part[]) : [];
}

/** The files of `system`, and those `history`'s successful `read` calls brought in. */
export function loadedInstructions(system: readonly string[], history: readonly ModelMessage[], projectRoot: string): Set<string> {
  const loaded = new Set(system);
  const readPaths = new Map<string, string>();
  for (const message of history) {
    for (const part of partsOf(message)) {
      if (part.type === 'tool-call' && part.toolName === 'read' && typeof part.toolCallId === 'string') {
        const filePath = (part.input as { filePath?: unknown } | null | undefined)?.filePath;
        if (typeof filePath === 'string') readPaths.set(part.toolCallId, path.resolve(projectRoot, filePath));
      } else if (part.type === 'tool-result' && part.toolName === 'read' && typeof part.toolCallId === 'string') {
        const file = readPaths.get(part.toolCallId);
        const output = part.output as { type?: unknown; value?: unknown } | undefined;
        if (file === undefined || output?.type !== 'text' || typeof output.value !== 'string') continue;
        for (const taken of loadedByRead(output.value, file, projectRoot)) loaded.add(taken);
      }
    }
  }
  return loaded;
}
