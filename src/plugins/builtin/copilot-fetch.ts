/**
 * The requests of a GitHub Copilot login, as OpenCode 1.18.33's built-in plugin sends them: the
 * GitHub token of auth.json as the bearer (the SDK's own `authorization` and `x-api-key` dropped),
 * `x-initiator` (`user` when a person's message is the last of the request, else `agent`; a
 * `chat.headers` value wins), `Copilot-Vision-Request` when an image is sent, `Openai-Intent`,
 * and the User-Agent. A 401 or 403 from Copilot says which login it refused and how to log in again,
 * a 400 for a model served on another endpoint or not at all is one sentence; no answer ever
 * carries the token back.
 */
import type { AuthEntry } from '../../auth/store.ts';

/** What OpenCode's synthetic user message that carries a tool's media begins with (it is not a person's). */
const ATTACHMENT_PROMPT = 'Attached media from tool result:';

type GetAuth = () => Promise<AuthEntry | undefined>;

function partsOf(content: unknown): Record<string, unknown>[] {
  return Array.isArray(content) ? (content as unknown[]).filter((p): p is Record<string, unknown> => p !== null && typeof p === 'object') : [];
}

function synthetic(message: Record<string, unknown> | undefined): boolean {
  if (message?.role !== 'user') return false;
  if (typeof message.content === 'string') return message.content === ATTACHMENT_PROMPT;
  return partsOf(message.content).some((p) => (p.type === 'text' || p.type === 'input_text') && p.text === ATTACHMENT_PROMPT);
}

/** Whether the request sends an image, and whether its last message is not a person's: chat completions, responses, or Anthropic messages. */
export function requestKind(url: string, body: unknown): { vision: boolean; agent: boolean } {
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { messages?: unknown; input?: unknown } | undefined;
    const last = (list: unknown[]): Record<string, unknown> | undefined => list[list.length - 1] as Record<string, unknown> | undefined;
    if (Array.isArray(parsed?.messages) && url.includes('completions')) {
      const messages = parsed.messages as Record<string, unknown>[];
      const end = last(messages);
      return { vision: messages.some((m) => partsOf(m?.content).some((p) => p.type === 'image_url')), agent: end?.role !== 'user' || synthetic(end) };
    }
    if (Array.isArray(parsed?.input)) {
      const input = parsed.input as Record<string, unknown>[];
      const end = last(input);
      return { vision: input.some((m) => partsOf(m?.content).some((p) => p.type === 'input_image')), agent: end?.role !== 'user' || synthetic(end) };
    }
    if (Array.isArray(parsed?.messages)) {
      const messages = parsed.messages as Record<string, unknown>[];
      const end = last(messages);
      const person = end?.role === 'user' && partsOf(end.content).some((p) => p.type !== 'tool_result');
      const image = (p: Record<string, unknown>) => p.type === 'image' || (p.type === 'tool_result' && partsOf(p.content).some((q) => q.type === 'image'));
      return { vision: messages.some((m) => partsOf(m?.content).some(image)), agent: !person || synthetic(end) };
    }
  } catch {
    // Not JSON: neither.
  }
  return { vision: false, agent: false };
}

/** The fetch of a Copilot login's requests (the loader's `fetch`). */
export function copilotFetch(getAuth: GetAuth, userAgent: string): typeof globalThis.fetch {
  return async (request, init) => {
    const auth = await getAuth();
    if (auth?.type !== 'oauth' || typeof auth.refresh !== 'string' || !auth.refresh) return fetch(request, init);
    const token = auth.refresh;
    const url = request instanceof URL ? request.href : typeof request === 'string' ? request : request.url;
    const kind = requestKind(url, init?.body);
    const headers = new Headers(init?.headers);
    // The call's own `x-initiator` (chat.headers': a sub-task's, a compaction's) wins over the request's reading.
    if (!headers.has('x-initiator')) headers.set('x-initiator', kind.agent ? 'agent' : 'user');
    headers.set('User-Agent', userAgent);
    headers.set('Authorization', `Bearer ${token}`);
    headers.set('Openai-Intent', 'conversation-edits');
    if (kind.vision) headers.set('Copilot-Vision-Request', 'true');
    headers.delete('x-api-key');
    const response = await fetch(request, { ...init, headers });
    return response.ok ? response : refusal(response, token, typeof auth.enterpriseUrl === 'string' ? auth.enterpriseUrl : undefined);
  };
}

/**
 * Copilot's 400 for a model it does not serve this way, as one sentence: a model it serves over
 * another endpoint (`unsupported_api_for_model`) or not at all to this login (`model_not_supported`).
 */
function unsupported(text: string): string | undefined {
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
  } catch {
    return undefined;
  }
  const said = typeof error?.message === 'string' ? error.message.trim().slice(0, 200) : '';
  const message =
    error?.code === 'unsupported_api_for_model' || /not accessible via the/.test(said)
      ? `GitHub Copilot does not serve this model over this API (it said: ${said}); Copilot's model list names each model's endpoint: check that \`opencode models github-copilot\` lists it, and that provider.github-copilot.models does not give it another id.`
      : error?.code === 'model_not_supported'
        ? `GitHub Copilot does not offer this model to the login in auth.json (it said: ${said}); \`opencode models github-copilot\` lists the models it offers.`
        : undefined;
  return message ? JSON.stringify({ error: { message, type: 'invalid_request_error', code: error?.code } }) : undefined;
}

/**
 * A failed answer, as the caller reads it: its body without the token (should the server quote
 * it), and for 401/403 a message that says which login was refused and the command that renews it.
 */
async function refusal(response: Response, token: string, enterpriseUrl: string | undefined): Promise<Response> {
  const text = (await response.text().catch(() => '')).split(token).join('[the GitHub token]');
  let body = text;
  if (response.status === 401 || response.status === 403) {
    let said = '';
    try {
      const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
      const given = typeof parsed.error === 'object' ? parsed.error?.message : (parsed.error ?? parsed.message);
      if (typeof given === 'string' && given.trim()) said = ` (it said: ${given.trim().slice(0, 200)})`;
    } catch {
      if (text.trim() && text.length < 200) said = ` (it said: ${text.trim()})`;
    }
    const where = enterpriseUrl ? `GitHub Enterprise (${enterpriseUrl})` : 'GitHub';
    const advice =
      response.status === 401
        ? `the ${where} login in auth.json is not valid any more: log in again with \`opencode auth login github-copilot\``
        : `the ${where} account of the login in auth.json may have no Copilot subscription or no access to this model: check https://github.com/settings/copilot, or log in with another account (\`opencode auth login github-copilot\`)`;
    body = JSON.stringify({ error: { message: `GitHub Copilot refused the request (HTTP ${response.status})${said}; ${advice}.`, type: 'authentication_error' } });
  }
  if (response.status === 400) body = unsupported(text) ?? text;
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.delete('content-encoding');
  if (body !== text) headers.set('content-type', 'application/json');
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
