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
 * - `chat.params`: no output cap for GPT models (Copilot refuses some).
 * Not done: OpenCode's `provider.models` (the model list from Copilot's `/models`, which picks each
 * model's wire protocol): Pantheon calls every Copilot model over chat completions.
 */
import type { AuthEntry } from '../../auth/store.ts';
import { authorizeDevice, COPILOT_API_VERSION, copilotBaseURL, enterpriseProblem } from './copilot-login.ts';
import { copilotFetch } from './copilot-fetch.ts';

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

export async function CopilotAuthPlugin(): Promise<Record<string, unknown>> {
  const agentHeader = await userAgent();
  return {
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
          authorize: (inputs: Record<string, string> = {}) => authorizeDevice(inputs, agentHeader),
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
