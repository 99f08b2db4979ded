/**
 * `openai` models as OpenCode calls them: `@ai-sdk/openai`'s Responses API model
 * (`createOpenAI({apiKey, baseURL, fetch}).responses(id)`), with OpenCode's defaults for OpenAI in
 * the call's `openai` provider options — `store: false` (nothing kept on OpenAI's side, so every
 * item is sent in full) and, for reasoning models, `include: ["reasoning.encrypted_content"]` (the
 * reasoning carried from one step to the next) — and the leading system messages as `instructions`
 * when the options give none (ChatGPT's Codex endpoint, which the built-in ChatGPT login's fetch
 * sends the same requests to, requires them: plugins/builtin/codex-auth.ts). What the call's own
 * options say wins.
 */
import { createOpenAI, type OpenAIProviderSettings } from '@ai-sdk/openai';
import type { LanguageModelV4, LanguageModelV4CallOptions } from '@ai-sdk/provider';

/** Models that reason (their reasoning items can be carried encrypted): o-series, gpt-5 and later, codex. */
const REASONING = /^(o\d|gpt-(?:[5-9]|\d{2,})(?!-chat)|codex)/;

/** The call's options with OpenCode's OpenAI defaults (see above). */
export function withOpenAIDefaults(options: LanguageModelV4CallOptions, modelId: string): LanguageModelV4CallOptions {
  const own = (options.providerOptions?.openai ?? {}) as Record<string, unknown>;
  let prompt = options.prompt;
  let instructions: string | undefined;
  if (typeof own.instructions !== 'string' || own.instructions === '') {
    const head = prompt.findIndex((m) => m.role !== 'system');
    const system = (head === -1 ? prompt : prompt.slice(0, head)).flatMap((m) => (m.role === 'system' && m.content ? [m.content] : []));
    if (system.length) {
      instructions = system.join('\n');
      prompt = head === -1 ? [] : prompt.slice(head);
    }
  }
  const defaults = { store: false, ...(REASONING.test(modelId) ? { include: ['reasoning.encrypted_content'] } : {}) };
  const openai = { ...defaults, ...own, ...(instructions === undefined ? {} : { instructions }) };
  return { ...options, prompt, providerOptions: { ...options.providerOptions, openai: openai as NonNullable<LanguageModelV4CallOptions['providerOptions']>[string] } };
}

/** The Responses API model of `@ai-sdk/openai` for `modelId`, with OpenCode's defaults on every call. */
export function openaiResponsesModel(settings: OpenAIProviderSettings, modelId: string): LanguageModelV4 {
  const model = createOpenAI(settings).responses(modelId) as unknown as LanguageModelV4;
  return {
    specificationVersion: model.specificationVersion,
    provider: model.provider,
    modelId: model.modelId,
    get supportedUrls() {
      return model.supportedUrls;
    },
    doGenerate: (options) => model.doGenerate(withOpenAIDefaults(options, modelId)),
    doStream: (options) => model.doStream(withOpenAIDefaults(options, modelId)),
  };
}
