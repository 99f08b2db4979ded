/**
 * A permission question (a tool call whose permission is `ask`) as ACP's `session/request_permission`,
 * as OpenCode's `acp` puts it: the call (its kind, title, the files it touches, an edit's diff) and
 * three options — allow once, always allow (what "always" covers is the question's `always`
 * patterns, kept until the process ends, as OpenCode's v1 answers are), reject. An answer the editor
 * cancels, or one it cannot give, is a rejection.
 */
import type { PermissionOption, RequestPermissionResponse, ToolCallUpdate } from '@agentclientprotocol/sdk';
import type { PermissionQuestion, PermissionReply } from '../core/permission-asks.ts';
import { toolCallTitle, toolDiff, toolKind, toolLocations } from './tool-calls.ts';

export const PERMISSION_OPTIONS: PermissionOption[] = [
  { optionId: 'once', kind: 'allow_once', name: 'Allow once' },
  { optionId: 'always', kind: 'allow_always', name: 'Always allow' },
  { optionId: 'reject', kind: 'reject_once', name: 'Reject' },
];

export function askedToolCall(question: PermissionQuestion, tool: string, input: unknown, projectRoot: string): ToolCallUpdate {
  const args = input ?? question.metadata;
  const title = question.permission === 'external_directory' ? `Access outside the project: ${question.patterns.join(', ')}` : toolCallTitle(tool, args, projectRoot);
  const diff = toolKind(tool) === 'edit' ? toolDiff(tool, args, projectRoot) : [];
  return {
    toolCallId: question.tool?.callID ?? question.id,
    title,
    kind: toolKind(tool),
    status: 'pending',
    locations: toolLocations(tool, args, projectRoot),
    rawInput: args,
    ...(diff.length ? { content: diff } : {}),
  };
}

export function replyOf(answer: RequestPermissionResponse): PermissionReply {
  if (answer.outcome.outcome !== 'selected') return 'reject';
  const id = answer.outcome.optionId;
  return id === 'once' || id === 'always' ? id : 'reject';
}
