/**
 * OpenCode's built-in GitHub Copilot plugin, for Pantheon (OpenCode 1.18.33's behaviour, Pantheon's
 * code): the `github-copilot` provider with a GitHub login.
 * - `auth.methods`: "Login with GitHub Copilot", asking github.com or GitHub Enterprise (and its
 *   URL), then GitHub's device flow (copilot-login.ts);
 * - `auth.loader`: with an OAuth login in auth.json, every request of the provider goes to the
 *   Copilot API (github.com's, or `copilot-api.<domain>` of the login's enterprise host; the
 *   config's `provider.github-copilot.options.baseURL` wins) with the GitHub token and Copilot's
 *   headers (copilot-fetch.ts);
 * - `chat.headers`: Copilot's API version, the session as the interaction id, `x-initiator: agent`
 *   for a sub-task's or a compaction's calls;
 * - `chat.params`: no output cap for GPT models (Copilot refuses some);
 * - `provider.models`: with the login, the models Copilot offers it (its `/models`, kept an hour:
 *   copilot-models.ts), each with its limits and its wire protocol (`api.endpoint`: `responses`
 *   for the models Copilot serves over OpenAI's Responses API); without an answer from Copilot,
 *   the provider's own models, each with OpenCode's rule for its protocol.
 */
import type { AuthEntry } from '../../auth/store.ts';
import { authorizeDevice, COPILOT_API_VERSION, copilotBaseURL, enterpriseProblem } from './copilot-login.ts';
import { copilotFetch } from './copilot-fetch.ts';
import { endpointOf, listRequest, mergeModels, modelList, whyNot } from './copilot-models.ts';
import { debugNote } from '../../debug-note.ts';

const PROVIDER = 'github-copilot';
/** call-hooks.ts's TURN_INITIATOR (the same registered symbol, without loading that module for a login). */
const TURN_INITIATOR = Symbol.for('pantheon.turn.initiator');

async function userAgent(): Promise<string> {
  const { version } = await import('../../cli/version.ts');
  return `opencode/${version}`;
}

interface CallInput {
  sessionID?: string;
  agent?: string;
  model?: { providerID?: string; api?: { id?: string; npm?: string } };
  [TURN_INITIATOR]?: string;
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The provider's models as they are, each with OpenCode's rule for its wire protocol (no list from Copilot). */
function withEndpoints(models: Record<string, Json>): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(models).map(([key, model]) => {
      const api = isRecord(model.api) ? model.api : {};
      return [key, { ...model, api: { ...api, endpoint: endpointOf(typeof api.id === 'string' ? api.id : key) } }];
    }),
  );
}

/** `env`: Pantheon's own lists ask the hook with theirs (copilot-offered.ts); a project's plugin host gives none, and the process's is used. */
export async function CopilotAuthPlugin(input: { env?: NodeJS.ProcessEnv } = {}): Promise<Record<string, unknown>> {
  const agentHeader = await userAgent();
  const env = input.env ?? process.env;
  return {
    provider: {
      id: PROVIDER,
      async models(provider: { models?: Record<string, Json>; options?: Json }, context: { auth?: AuthEntry }) {
        const models = provider.models ?? {};
        // A configured key replaces the login (as for the requests): no list of the login's.
        const request = context.auth?.type === 'oauth' && !provider.options?.apiKey ? listRequest(context.auth, provider.options ?? {}, agentHeader, env) : undefined;
        if (!request) return withEndpoints(models);
        try {
          return mergeModels(models, await modelList(request), request.baseURL);
        } catch {
          // Offline, or not Copilot's answer, and no list kept: the catalogue's models, as OpenCode falls back (modelList's debug note says why).
          return withEndpoints(models);
        }
      },
    },
    auth: {
      provider: PROVIDER,
      async loader(getAuth: () => Promise<AuthEntry | undefined>) {
        const auth = await getAuth();
        if (!auth || auth.type !== 'oauth') return {};
        const enterpriseUrl = typeof auth.enterpriseUrl === 'string' && auth.enterpriseUrl ? auth.enterpriseUrl : undefined;
        return { apiKey: '', baseURL: copilotBaseURL(enterpriseUrl), fetch: copilotFetch(getAuth, agentHeader) };
      },
      methods: [
        {
          type: 'oauth',
          label: 'Login with GitHub Copilot',
          prompts: [
            {
              type: 'select',
              key: 'deploymentType',
              message: 'Select GitHub deployment type',
              options: [
                { label: 'GitHub.com', value: 'github.com', hint: 'Public' },
                { label: 'GitHub Enterprise', value: 'enterprise', hint: 'Data residency or self-hosted' },
              ],
            },
            {
              type: 'text',
              key: 'enterpriseUrl',
              message: 'Enter your GitHub Enterprise URL or domain',
              placeholder: 'company.ghe.com or https://company.ghe.com',
              when: { key: 'deploymentType', op: 'eq', value: 'enterprise' },
              validate: enterpriseProblem,
            },
          ],
          authorize: async (inputs: Record<string, string> = {}) => {
            const started = await authorizeDevice(inputs, agentHeader);
            const callback = started.callback as () => Promise<Record<string, unknown>>;
            // Once logged in, Copilot's model list is asked for the new login (best effort: on use otherwise).
            return {
              ...started,
              async callback() {
                const done = await callback();
                const request = listRequest(done as AuthEntry, {}, agentHeader, env);
                if (request) await modelList({ ...request, fresh: true }).catch((error: unknown) => debugNote(`github-copilot: Copilot's model list was not read after the login (${whyNot(error)})`));
                return done;
              },
            };
          },
        },
      ],
    },
    'chat.params': async (input: CallInput, output: { maxOutputTokens?: number; options: Record<string, unknown> }) => {
      if (!input.model?.providerID?.includes(PROVIDER)) return;
      if (input.model.api?.id?.includes('gpt')) output.maxOutputTokens = undefined;
      if (input.model.api?.npm === '@ai-sdk/anthropic') output.options.toolStreaming = false;
    },
    'chat.headers': async (input: CallInput, output: { headers: Record<string, string> }) => {
      if (!input.model?.providerID?.includes(PROVIDER)) return;
      output.headers['X-GitHub-Api-Version'] = COPILOT_API_VERSION;
      if (input.sessionID) output.headers['X-Interaction-Id'] = input.sessionID;
      if (input.agent === 'title') output.headers['X-Interaction-Type'] = 'agent-session-name-generation';
      if (input.model.api?.npm === '@ai-sdk/anthropic') output.headers['anthropic-beta'] = 'interleaved-thinking-2025-05-14';
      // A sub-task's or a compaction's call was not a person's (OpenCode reads the session's parent and the message's parts).
      if (input[TURN_INITIATOR] === 'agent') output.headers['x-initiator'] = 'agent';
    },
  };
}
