import { catalogProvider, catalogProviderIds } from './models-dev.ts';

/** A provider Pantheon knows by id, so a config may name it in a model ref without declaring it. */
export interface KnownProvider {
  id: string;
  /** Display name. */
  name: string;
  /** AI SDK provider package. */
  npm: string;
  /** Base URL of the API; absent when the package knows it or the user must set `options.baseURL`. */
  baseURL?: string;
  /** Environment variables that may hold the API key, in order (after `<ID>_API_KEY`). */
  env: string[];
  /** Where to create an API key. */
  keysUrl?: string;
  /** False for local servers that accept any key. */
  needsKey: boolean;
  /** The id of the same provider in the models.dev catalogue, for its models' limits and prices. */
  catalogId?: string;
  /** From the models.dev catalogue rather than Pantheon's own list. */
  fromCatalog?: boolean;
}

const OPENAI_COMPATIBLE = '@ai-sdk/openai-compatible';

const zen = (id: string): KnownProvider => ({
  id,
  catalogId: 'opencode',
  name: 'OpenCode Zen',
  npm: OPENAI_COMPATIBLE,
  baseURL: 'https://opencode.ai/zen/v1',
  env: ['OPENCODE_API_KEY'],
  keysUrl: 'https://opencode.ai/auth',
  needsKey: true,
});

const entries: KnownProvider[] = [
  {
    id: 'nvidia-nim',
    catalogId: 'nvidia',
    name: 'NVIDIA NIM',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://integrate.api.nvidia.com/v1',
    env: ['NVIDIA_API_KEY', 'NVIDIA_NIM_API_KEY'],
    keysUrl: 'https://build.nvidia.com',
    needsKey: true,
  },
  zen('opencode-zen'),
  zen('opencode'),
  {
    id: 'moonshot-ai',
    catalogId: 'moonshotai',
    name: 'Moonshot AI',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.moonshot.ai/v1',
    env: ['MOONSHOT_API_KEY'],
    keysUrl: 'https://platform.moonshot.ai/console/api-keys',
    needsKey: true,
  },
  {
    id: 'kimi-for-coding',
    name: 'Kimi For Coding',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.kimi.com/coding/v1',
    env: ['KIMI_API_KEY'],
    keysUrl: 'https://www.kimi.com/code/console',
    needsKey: true,
  },
  {
    id: 'openai',
    name: 'OpenAI',
    npm: '@ai-sdk/openai',
    baseURL: 'https://api.openai.com/v1',
    env: ['OPENAI_API_KEY'],
    keysUrl: 'https://platform.openai.com/api-keys',
    needsKey: true,
  },
  {
    id: 'anthropic',
    name: 'Anthropic',
    npm: '@ai-sdk/anthropic',
    baseURL: 'https://api.anthropic.com/v1',
    env: ['ANTHROPIC_API_KEY'],
    keysUrl: 'https://console.anthropic.com/settings/keys',
    needsKey: true,
  },
  {
    id: 'google',
    name: 'Google Gemini',
    npm: '@ai-sdk/google',
    baseURL: 'https://generativelanguage.googleapis.com/v1beta',
    env: ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY'],
    keysUrl: 'https://aistudio.google.com/apikey',
    needsKey: true,
  },
  {
    id: 'openrouter',
    name: 'OpenRouter',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://openrouter.ai/api/v1',
    env: ['OPENROUTER_API_KEY'],
    keysUrl: 'https://openrouter.ai/settings/keys',
    needsKey: true,
  },
  {
    id: 'groq',
    name: 'Groq',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.groq.com/openai/v1',
    env: ['GROQ_API_KEY'],
    keysUrl: 'https://console.groq.com/keys',
    needsKey: true,
  },
  {
    id: 'mistral',
    name: 'Mistral',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.mistral.ai/v1',
    env: ['MISTRAL_API_KEY'],
    keysUrl: 'https://console.mistral.ai/api-keys',
    needsKey: true,
  },
  {
    id: 'deepseek',
    name: 'DeepSeek',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.deepseek.com/v1',
    env: ['DEEPSEEK_API_KEY'],
    keysUrl: 'https://platform.deepseek.com/api_keys',
    needsKey: true,
  },
  {
    id: 'together',
    catalogId: 'togetherai',
    name: 'Together AI',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.together.xyz/v1',
    env: ['TOGETHER_API_KEY'],
    keysUrl: 'https://api.together.ai/settings/api-keys',
    needsKey: true,
  },
  {
    id: 'fireworks',
    catalogId: 'fireworks-ai',
    name: 'Fireworks AI',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.fireworks.ai/inference/v1',
    env: ['FIREWORKS_API_KEY'],
    keysUrl: 'https://fireworks.ai/account/api-keys',
    needsKey: true,
  },
  {
    id: 'xai',
    name: 'xAI',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.x.ai/v1',
    env: ['XAI_API_KEY'],
    keysUrl: 'https://console.x.ai',
    needsKey: true,
  },
  {
    id: 'cerebras',
    name: 'Cerebras',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://api.cerebras.ai/v1',
    env: ['CEREBRAS_API_KEY'],
    keysUrl: 'https://cloud.cerebras.ai',
    needsKey: true,
  },
  {
    id: 'qwencode',
    name: 'Qwen Code (qwen.ai OAuth)',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'https://portal.qwen.ai/v1',
    env: ['QWENCODE_API_KEY'],
    needsKey: true,
  },
  {
    id: 'ollama',
    name: 'Ollama (local)',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'http://127.0.0.1:11434/v1',
    env: [],
    needsKey: false,
  },
  {
    id: 'lmstudio',
    name: 'LM Studio (local)',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'http://127.0.0.1:1234/v1',
    env: [],
    needsKey: false,
  },
  {
    id: 'llama-cpp',
    name: 'llama.cpp server (local)',
    npm: OPENAI_COMPATIBLE,
    baseURL: 'http://127.0.0.1:8080/v1',
    env: [],
    needsKey: false,
  },
];

function freeze(provider: KnownProvider): KnownProvider {
  Object.freeze(provider.env);
  return Object.freeze(provider);
}

/** Providers usable by id alone: `nvidia-nim/qwen-3.5-397b` works without a `provider.nvidia-nim` block. */
export const WELL_KNOWN_PROVIDERS: Readonly<Record<string, KnownProvider>> = Object.freeze(
  Object.fromEntries(entries.map((provider) => [provider.id, freeze(provider)])),
);

/**
 * A provider by id: Pantheon's own entry (aliases such as `nvidia-nim`, local servers), else the
 * models.dev catalogue's (read on first use), else undefined.
 */
export function knownProvider(id: string): KnownProvider | undefined {
  if (Object.hasOwn(WELL_KNOWN_PROVIDERS, id)) return WELL_KNOWN_PROVIDERS[id];
  const listed = catalogProvider(id);
  if (!listed) return undefined;
  return {
    id,
    name: listed.name,
    npm: listed.npm ?? OPENAI_COMPATIBLE,
    ...(listed.api ? { baseURL: listed.api } : {}),
    env: listed.env,
    needsKey: listed.env.length > 0,
    catalogId: id,
    fromCatalog: true,
  };
}

/** Every provider id usable without declaring it: Pantheon's list and the models.dev catalogue. */
export function knownProviderIds(): string[] {
  return [...new Set([...Object.keys(WELL_KNOWN_PROVIDERS), ...catalogProviderIds()])];
}

/** The conventional key variable of a provider id: upper-cased, `-` (and any other non-word character) → `_`. */
export function apiKeyEnvName(providerId: string): string {
  return `${providerId.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_API_KEY`;
}

/**
 * Environment variables that may hold a provider's API key, in lookup order: `<ID>_API_KEY`
 * first, then the catalogue's names (e.g. `NVIDIA_API_KEY` for `nvidia-nim`), without repeats.
 */
export function envVarsFor(providerId: string): string[] {
  return [...new Set([apiKeyEnvName(providerId), ...(knownProvider(providerId)?.env ?? [])])];
}
