/**
 * The sampling settings OpenCode sends a model whose agent sets none: its per-family defaults
 * (`ProviderTransform.temperature`, `topP`, `topK` in packages/opencode/src/provider/transform.ts,
 * as of sst/opencode 47767a7), matched on the provider's own model id as OpenCode matches them. An
 * agent run here sends the same, so a setup moved from OpenCode samples as it did there (a Kimi K2
 * at 0.6, a MiniMax M2 at 1.0 with top-p 0.95); the gateway (`/v1`) sends what the client sent. They
 * change with OpenCode's releases: when OpenCode's change, these follow.
 */

export interface SamplingDefaults {
  temperature?: number;
  topP?: number;
  topK?: number;
}

/** Gemini models that have sampling defaults in OpenCode (2.5, 3 flash/pro, 3.1, 3.5 flash). */
const GEMINI_WITH_DEFAULTS = [/gemini-2[.-]5(?:[.-]|$)/, /gemini-3-(?:flash|pro)(?:[.-]|$)/, /gemini-3[.-]1(?:[.-]|$)/, /gemini-3[.-]5-flash(?!-lite)(?:[.-]|$)/];

const NONE: SamplingDefaults = Object.freeze({});

/** The defaults for the model `upstreamId` (the id the provider knows it by) of provider `providerId`. */
export function samplingDefaults(upstreamId: string, providerId: string): SamplingDefaults {
  const id = upstreamId.toLowerCase();
  const has = (...parts: string[]): boolean => parts.some((part) => id.includes(part));
  const out: SamplingDefaults = {};
  if (has('gemini')) {
    if (!GEMINI_WITH_DEFAULTS.some((family) => family.test(id))) return NONE;
    return { temperature: 1, topP: 0.95, topK: 64 };
  }
  if (has('north-mini-code', 'glm-4.6', 'glm-4.7', 'minimax-m2')) out.temperature = 1;
  else if (has('kimi-k2')) out.temperature = has('thinking', 'k2.', 'k2p', 'k2-5') ? 1 : 0.6;
  if (has('minimax-m2', 'kimi-k2.5', 'kimi-k2p5', 'kimi-k2-5')) out.topP = 0.95;
  else if (has('deepseek-v4-flash-0731', 'deepseek-v4-flash:0731') || (has('deepseek-v4-flash') && (providerId === 'deepseek' || providerId.startsWith('opencode')))) out.topP = 0.95;
  if (has('minimax-m2')) out.topK = has('m2.', 'm25', 'm21') ? 40 : 20;
  return out;
}
