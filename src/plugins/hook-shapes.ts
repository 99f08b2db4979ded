/**
 * What OpenCode hands a plugin's model-call hooks (`chat.params`, `chat.headers`,
 * `experimental.chat.system.transform`), made from Pantheon's: the model in OpenCode's `Model`
 * shape, its provider as a `ProviderContext` ({source, info, options}), and the turn's user message
 * as OpenCode's `UserMessage`. Never a key: the provider's options carry its address, not its
 * credential (OpenCode's carry `apiKey`; a plugin that needs one reads its own variable).
 */
import { withoutCredentials } from '../basic-auth.ts';
import { WELL_KNOWN_PROVIDERS, envVarsFor } from '../providers/catalog.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';

const media = (image: boolean) => ({ text: true, audio: false, image, video: false, pdf: false });

/** A model as OpenCode's `Model` (the shape of its `/config/providers` models). */
export function pluginModel(model: ResolvedModel): Record<string, unknown> {
  return {
    id: model.modelKey,
    providerID: model.provider,
    api: { id: model.upstreamId, url: withoutCredentials(model.baseURL ?? ''), npm: model.npm },
    name: model.modelKey,
    capabilities: { temperature: model.acceptsTemperature, reasoning: false, attachment: model.acceptsImages, toolcall: true, input: media(model.acceptsImages), output: media(false) },
    cost: { input: model.cost?.input ?? 0, output: model.cost?.output ?? 0, cache: { read: model.cost?.cache_read ?? 0, write: model.cost?.cache_write ?? 0 } },
    limit: { context: model.contextLimit ?? 0, output: model.maxOutputTokens ?? 0 },
    status: 'active',
    options: {},
    headers: {},
    release_date: '',
    variants: {},
    ...(model.ref.variant ? { variant: model.ref.variant } : {}),
  };
}

/** Where OpenCode says a provider's key came from: the environment, the config, or a stored login (`api`). */
function sourceOf(model: ResolvedModel): 'env' | 'config' | 'api' {
  if (model.credential.source === 'env') return 'env';
  if (model.credential.source === 'auth.json') return 'api';
  return 'config';
}

/** A model's provider as OpenCode's `ProviderContext`. */
export function pluginProvider(model: ResolvedModel, shownModel: Record<string, unknown>): Record<string, unknown> {
  const source = sourceOf(model);
  const options = model.baseURL ? { baseURL: withoutCredentials(model.baseURL) } : {};
  return {
    source,
    info: { id: model.provider, name: WELL_KNOWN_PROVIDERS[model.provider]?.name ?? model.provider, source, env: envVarsFor(model.provider), options, models: { [model.modelKey]: shownModel } },
    options,
  };
}

/** The turn's user message as OpenCode's `UserMessage`. */
export interface TurnMessage {
  id: string;
  sessionID: string;
  created: number;
  agent: string;
  /** The model the turn asked for (the head of the agent's chain). */
  model: { providerID: string; modelID: string };
  system?: string;
  tools?: Record<string, boolean>;
}

export function pluginUserMessage(message: TurnMessage): Record<string, unknown> {
  return {
    id: message.id,
    sessionID: message.sessionID,
    role: 'user',
    time: { created: message.created },
    agent: message.agent,
    model: message.model,
    ...(message.system ? { system: message.system } : {}),
    ...(message.tools ? { tools: message.tools } : {}),
  };
}
