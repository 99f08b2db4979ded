/**
 * Rate-limit headers in the style of a real provider, describing the model's own window as the
 * server counts it: limit, what is left after this request, and when the window is full again
 * (the newest counted start leaves it). Gemini announces only in its 429 body.
 */
import type { AnnounceStyle } from './types.ts';

export interface WindowState {
  limit: number;
  remaining: number;
  /** ms until every counted start has left the window (0 when none is counted). */
  resetMs: number;
}

/** `1.234s`, `6m0s`, `20ms`: the duration form OpenAI and Groq send. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = (ms - minutes * 60_000) / 1000;
  const s = `${Number(seconds.toFixed(3))}s`;
  return minutes > 0 ? `${minutes}m${s}` : s;
}

export function announceHeaders(style: AnnounceStyle, w: WindowState, now: number): Record<string, string> {
  const reset = Math.ceil(w.resetMs);
  switch (style) {
    case 'openai':
      return {
        'x-ratelimit-limit-requests': String(w.limit),
        'x-ratelimit-remaining-requests': String(w.remaining),
        'x-ratelimit-reset-requests': goDuration(reset),
      };
    case 'anthropic':
      return {
        'anthropic-ratelimit-requests-limit': String(w.limit),
        'anthropic-ratelimit-requests-remaining': String(w.remaining),
        'anthropic-ratelimit-requests-reset': new Date(now + reset).toISOString(),
      };
    case 'openrouter':
      return { 'x-ratelimit-limit': String(w.limit), 'x-ratelimit-remaining': String(w.remaining), 'x-ratelimit-reset': String(now + reset) };
    case 'nim':
      return { 'x-ratelimit-limit': String(w.limit), 'x-ratelimit-remaining': String(w.remaining), 'x-ratelimit-reset': (reset / 1000).toFixed(3) };
    case 'ietf':
      return { ratelimit: `limit=${w.limit}, remaining=${w.remaining}, reset=${(reset / 1000).toFixed(3)}` };
    case 'gemini':
      return {};
  }
}

/** Gemini's 429 body: RESOURCE_EXHAUSTED with the quota and the delay until a slot frees. */
export function geminiQuotaBody(limit: number, retryMs: number): unknown {
  return {
    error: {
      code: 429,
      message: 'You exceeded your current quota, please check your plan and billing details.',
      status: 'RESOURCE_EXHAUSTED',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaValue: String(limit) }] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${(retryMs / 1000).toFixed(3)}s` },
      ],
    },
  };
}
