import type { ModelMessage, ToolSet } from 'ai';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { estimateTokens, trimHistory } from '../session/trim.ts';
import type { SessionMessage } from '../session/store.ts';

/** Output budget assumed for a model that declares no `limit.output`. */
const DEFAULT_OUTPUT_RESERVE = 4096;

export interface FitHistoryOptions {
  history: readonly ModelMessage[];
  current: ModelMessage;
  head: ResolvedModel;
  system: string | undefined;
  tools: ToolSet;
  onTrimmed?: ((dropped: number, contextTokens: number) => void) | undefined;
}

/** The tools as the model sees them (descriptions and argument schemas), for the token estimate. */
function toolsSize(tools: ToolSet): number {
  return estimateTokens(
    Object.entries(tools).map(([name, tool]) => [name, tool.description, (tool.inputSchema as { jsonSchema?: unknown } | undefined)?.jsonSchema]),
  );
}

/**
 * The messages to send: the earlier turns and this one, with the oldest whole turns left out when
 * they would not fit the head model's `limit.context` beside the system prompt, the tools and the
 * output budget. The current turn is always sent.
 */
export function fitHistory(options: FitHistoryOptions): ModelMessage[] {
  const all = [...options.history, options.current];
  const context = options.head.contextLimit;
  if (options.history.length === 0 || context === undefined) return all;
  const reserve = (options.head.maxOutputTokens ?? DEFAULT_OUTPUT_RESERVE) + estimateTokens(options.system ?? '') + toolsSize(options.tools);
  const { messages, dropped } = trimHistory(all as SessionMessage[], context, reserve);
  if (dropped > 0) options.onTrimmed?.(dropped, context);
  return messages as ModelMessage[];
}
