/**
 * `opencode stats --tools`: how often each tool was called, counted from the saved sessions (the
 * usage log holds model calls, not tool calls), as OpenCode counts its sessions' tool parts.
 */
import type { SessionMessage, SessionStore } from '../session/store.ts';

export interface ToolCountOptions {
  /** Only turns that ended at or after this time (ms). */
  since: number;
  /** Only turns of this agent. */
  agent?: string;
  /** Only the sessions of this project folder. */
  projectRoot?: string;
}

function toolNames(message: SessionMessage): string[] {
  if (message.role !== 'assistant' || !Array.isArray(message.content)) return [];
  const names: string[] = [];
  for (const part of message.content as { type?: unknown; toolName?: unknown }[]) {
    if (part?.type === 'tool-call' && typeof part.toolName === 'string') names.push(part.toolName);
  }
  return names;
}

/** Calls by tool name, the most used first (equal counts by name); child sessions' calls count too. */
export async function countToolCalls(store: SessionStore, options: ToolCountOptions): Promise<[string, number][]> {
  const counts = new Map<string, number>();
  const { sessions } = await store.list();
  for (const summary of sessions) {
    if (summary.updatedAt < options.since) continue;
    if (options.projectRoot !== undefined && summary.projectRoot !== options.projectRoot) continue;
    const record = await store.load(summary.id).catch(() => undefined);
    let counted = false;
    for (const message of record?.messages ?? []) {
      if (message.info) {
        const end = message.info.reply.completed ?? message.info.time;
        counted = end >= options.since && (options.agent === undefined || message.info.agent === options.agent);
        continue;
      }
      if (!counted) continue;
      for (const name of toolNames(message)) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
