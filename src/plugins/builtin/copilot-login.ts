/**
 * GitHub Copilot's login, as OpenCode 1.18.33's built-in plugin makes it: GitHub's OAuth device
 * flow (RFC 8628) with OpenCode's GitHub app, on github.com or a GitHub Enterprise host. The code
 * is shown, the person enters it at the verification page, and the login polls for the token at
 * the interval GitHub asks (and 5 s more on each `slow_down`), plus OpenCode's 3 s of margin. The
 * token is stored as OpenCode stores it — `{type: "oauth", refresh: token, access: token,
 * expires: 0[, enterpriseUrl: domain]}` — so a login made by either program works in the other.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** OpenCode's GitHub OAuth app: a token it granted is one OpenCode's login also uses. */
export const CLIENT_ID = 'Ov23li8tweQw6odWQebz';
/** The Copilot API version OpenCode 1.18.33 asks for. */
export const COPILOT_API_VERSION = '2026-06-01';
/** What OpenCode adds to each wait between polls. */
const MARGIN_MS = 3000;

/** A GitHub host as OpenCode keeps it: no scheme, no trailing slash (`company.ghe.com`). */
export function githubDomain(given: string): string {
  return given.trim().replace(/^https?:\/\//, '').replace(/\/$/, '');
}

/** Why `given` is not an enterprise URL or domain, in a phrase; undefined when it is one. */
export function enterpriseProblem(given: string | undefined): string | undefined {
  if (!given?.trim()) return 'URL or domain is required';
  try {
    const url = given.includes('://') ? new URL(given.trim()) : new URL(`https://${given.trim()}`);
    if (!url.hostname) return 'Please enter a valid URL or domain';
    return undefined;
  } catch {
    return 'Please enter a valid URL (e.g., company.ghe.com or https://company.ghe.com)';
  }
}

/** The Copilot API of a login: github.com's, or `copilot-api.<domain>` for GitHub Enterprise. */
export function copilotBaseURL(enterpriseUrl?: string): string {
  return enterpriseUrl ? `https://copilot-api.${githubDomain(enterpriseUrl)}` : 'https://api.githubcopilot.com';
}

interface DeviceCode {
  device_code: string;
  user_code: string;
  verification_uri: string;
  interval?: number;
}

async function postJson(url: string, body: Record<string, unknown>, userAgent: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'User-Agent': userAgent }, body: JSON.stringify(body) });
}

/** What GitHub's answers to a poll mean, when they end the login. */
const ENDED: Record<string, string> = {
  expired_token: 'the code expired before it was entered',
  access_denied: 'the login was refused on the verification page',
  incorrect_client_credentials: "GitHub does not know OpenCode's app (client id)",
  incorrect_device_code: 'GitHub did not recognise the device code',
  unsupported_grant_type: 'GitHub does not take the device flow here',
  device_flow_disabled: "the device flow is turned off for OpenCode's app on this host",
};

/** The login's `authorize(inputs)`: starts the device flow; its `callback()` polls until GitHub answers the token. */
export async function authorizeDevice(inputs: Record<string, string>, userAgent: string): Promise<Record<string, unknown>> {
  const enterprise = inputs.deploymentType === 'enterprise';
  let domain = 'github.com';
  if (enterprise) {
    const problem = enterpriseProblem(inputs.enterpriseUrl);
    if (problem) throw new Error(`the GitHub Enterprise URL ${JSON.stringify((inputs.enterpriseUrl ?? '').slice(0, 100))} is not usable: ${problem}`);
    domain = githubDomain(inputs.enterpriseUrl as string);
  }
  const codeUrl = `https://${domain}/login/device/code`;
  const tokenUrl = `https://${domain}/login/oauth/access_token`;
  const started = await postJson(codeUrl, { client_id: CLIENT_ID, scope: 'read:user' }, userAgent);
  if (!started.ok) throw new Error(`${domain} refused to start the device login (HTTP ${started.status})`);
  const device = (await started.json().catch(() => ({}))) as Partial<DeviceCode>;
  if (typeof device.device_code !== 'string' || typeof device.user_code !== 'string' || typeof device.verification_uri !== 'string') {
    throw new Error(`${domain} answered the device login without a code to enter`);
  }
  const interval = typeof device.interval === 'number' && device.interval >= 0 ? device.interval : 5;
  return {
    url: device.verification_uri,
    instructions: `Enter code: ${device.user_code}`,
    method: 'auto',
    async callback(): Promise<Record<string, unknown>> {
      let wait = interval * 1000;
      for (;;) {
        const polled = await postJson(tokenUrl, { client_id: CLIENT_ID, device_code: device.device_code, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }, userAgent);
        if (!polled.ok) throw new Error(`${domain} refused the device login (HTTP ${polled.status})`);
        const answer = (await polled.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown; interval?: unknown };
        if (typeof answer.access_token === 'string' && answer.access_token) {
          return { type: 'success', refresh: answer.access_token, access: answer.access_token, expires: 0, ...(enterprise ? { enterpriseUrl: domain } : {}) };
        }
        if (answer.error === 'slow_down') {
          // RFC 8628: 5 s more from now on, or the interval GitHub names.
          wait = typeof answer.interval === 'number' && answer.interval > 0 ? answer.interval * 1000 : wait + 5000;
        } else if (answer.error !== undefined && answer.error !== 'authorization_pending') {
          const code = String(answer.error).slice(0, 60);
          throw new Error(`${domain} ended the device login: ${ENDED[code] ?? 'it was refused'} (${code})`);
        }
        await sleep(wait + MARGIN_MS);
      }
    },
  };
}
