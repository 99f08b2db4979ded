/**
 * `openai` models as OpenCode 1.18.33 calls them: `@ai-sdk/openai`'s Responses API model
 * (`createOpenAI({apiKey, baseURL, fetch}).responses(id)`), with OpenCode's options for OpenAI in the
 * call's `openai` provider options (its ProviderTransform.options, checked against the requests its
 * binary sends): `store: false` (nothing kept on OpenAI's side, so every item is sent in full, and
 * no item's `id` is sent back: OpenCode strips them); for gpt-5 models (not `gpt-5-chat`, not
 * `gpt-5-pro`) `reasoningEffort: "medium"`, `reasoningSummary: "auto"` and `include:
 * ["reasoning.encrypted_content"]` (the reasoning carried from one step to the next), and for gpt-5.x
 * ones (not codex, not `-chat`) `textVerbosity: "low"`. The system prompt stays in the messages, which
 * the SDK sends as `developer` (a reasoning model) or `system` input items; only under the ChatGPT
 * (Codex) login (`systemAsInstructions`) it goes as the request's `instructions`, as OpenCode sends it
 * there and the Codex endpoint requires (plugins/builtin/codex-auth.ts). What the call's own options
 * say (the model's, the agent's, the variant's `options`) wins over the defaults.
 * The gpt-5 options are OpenCode's for an agent's calls (session-options.ts isAgentCall); a
 * gateway client's call gets `store: false` only, as it sends no sampling defaults either.
 */
import { createOpenAI, type OpenAIProviderSettings } from '@ai-sdk/openai';
import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4Prompt } from '@ai-sdk/provider';
import { isAgentCall } from './session-options.ts';

type OpenAIOptions = NonNullable<LanguageModelV4CallOptions['providerOptions']>[string];

/**
 * OpenCode's options for a call to model `modelId` (beneath the call's own). GitHub Copilot's
 * Responses models (`copilot`: they go through this package too) get what OpenCode gives its
 * Copilot package: no `include` (the SDK adds it for a reasoning model anyway) and no verbosity.
 */
export function openAIDefaults(modelId: string, copilot = false): Record<string, unknown> {
  const id = modelId.toLowerCase();
  const out: Record<string, unknown> = { store: false };
  if (!id.includes('gpt-5') || id.includes('gpt-5-chat') || id.includes('gpt-5-pro')) return out;
  Object.assign(out, { reasoningEffort: 'medium', reasoningSummary: 'auto' });
  if (copilot) return out;
  out.include = ['reasoning.encrypted_content'];
  if (id.includes('gpt-5.') && !id.includes('codex') && !id.includes('-chat')) out.textVerbosity = 'low';
  return out;
}

/** The prompt with no part's `openai.itemId` (OpenCode strips them when nothing is stored: the items go in full). */
function withoutItemIds(prompt: LanguageModelV4Prompt): LanguageModelV4Prompt {
  const strip = <T extends { providerOptions?: Record<string, Record<string, unknown>> | undefined }>(part: T): T => {
    const own = part.providerOptions?.openai;
    if (!own || !('itemId' in own)) return part;
    const { itemId: _itemId, ...rest } = own;
    return { ...part, providerOptions: { ...part.providerOptions, openai: rest } };
  };
  return prompt.map((message) => {
    const own = strip(message as { providerOptions?: Record<string, Record<string, unknown>> });
    if (typeof message.content === 'string') return own as typeof message;
    return { ...own, content: (message.content as { providerOptions?: Record<string, Record<string, unknown>> }[]).map(strip) } as typeof message;
  });
}

/**
 * The call's options with OpenCode's OpenAI options (see above). `systemAsInstructions`: the ChatGPT
 * login's calls, whose leading system messages become `instructions`, as OpenCode sends them there.
 */
export function withOpenAIDefaults(options: LanguageModelV4CallOptions, modelId: string, systemAsInstructions = false, copilot = false): LanguageModelV4CallOptions {
  const own = (options.providerOptions?.openai ?? {}) as Record<string, unknown>;
  let prompt = options.prompt;
  let instructions: string | undefined;
  if (systemAsInstructions) {
    const head = prompt.findIndex((m) => m.role !== 'system');
    const system = (head === -1 ? prompt : prompt.slice(0, head)).flatMap((m) => (m.role === 'system' && m.content ? [m.content] : []));
    if (system.length) {
      instructions = system.join('\n');
      prompt = head === -1 ? [] : prompt.slice(head);
    }
  }
  const defaults = isAgentCall(options) ? openAIDefaults(modelId, copilot) : { store: false };
  const openai: Record<string, unknown> = { ...defaults, ...own, ...(instructions === undefined ? {} : { instructions }) };
  if (openai.store !== true) prompt = withoutItemIds(prompt);
  return { ...options, prompt, providerOptions: { ...options.providerOptions, openai: openai as OpenAIOptions } };
}

/** The Responses API model of `@ai-sdk/openai` for `modelId`, with OpenCode's options on every call (`systemAsInstructions`: the ChatGPT login's). */
export function openaiResponsesModel(settings: OpenAIProviderSettings, modelId: string, systemAsInstructions = false, providerId = 'openai'): LanguageModelV4 {
  const model = createOpenAI(settings).responses(modelId) as unknown as LanguageModelV4;
  const copilot = providerId === 'github-copilot';
  return {
    specificationVersion: model.specificationVersion,
    provider: model.provider,
    modelId: model.modelId,
    get supportedUrls() {
      return model.supportedUrls;
    },
    doGenerate: (options) => model.doGenerate(withOpenAIDefaults(options, modelId, systemAsInstructions, copilot)),
    doStream: (options) => model.doStream(withOpenAIDefaults(options, modelId, systemAsInstructions, copilot)),
  };
}
