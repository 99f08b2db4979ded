/**
 * models: every provider an agent uses, probed in parallel with `GET <baseURL>/models` and its
 * key; latency shown; the configured model ids looked for in the list it returns.
 */
import { redactUrlCredentials } from '../config/url-credentials.ts';
import { BASE_URL_HINT } from '../providers/base-url.ts';
import type { DoctorContext } from './context.ts';
import { probeModels, type ProbeOutcome } from './probe.ts';
import { keyHint, type ProviderInfo } from './usage.ts';
import { resultsFor, type CheckResult } from './types.ts';
import { formatDuration, listNames, plural } from './words.ts';

const r = resultsFor('models');
/** Packages whose APIs answer `GET /models` the OpenAI way. */
const OPENAI_STYLE = new Set(['@ai-sdk/openai-compatible', '@ai-sdk/openai']);

function describe(info: ProviderInfo, outcome: ProbeOutcome, timeoutMs: number): CheckResult[] {
  const ms = outcome.ms;
  // Shown without the user and password a base URL may carry.
  const at = info.baseURL ? redactUrlCredentials(info.baseURL) : '';
  switch (outcome.kind) {
    case 'listed': {
      const count = outcome.ids ? `, ${plural(outcome.ids.length, 'model')} listed` : '';
      const results = [r.ok(info.id, `answered in ${formatDuration(ms)}${count}`, { ms })];
      if (outcome.ids) {
        const listed = new Set(outcome.ids);
        const missing = info.modelIds.filter((id) => !listed.has(id));
        if (missing.length > 0) {
          results.push(
            r.warn(`${info.id} ids`, `${plural(missing.length, 'configured model is', 'configured models are')} not in its list: ${listNames(missing)}`, {
              hint: `Check provider.${info.id}.models.<name>.id (or the model name in the ref) against GET ${at}/models.`,
            }),
          );
        } else if (info.modelIds.length > 0) {
          results.push(r.ok(`${info.id} ids`, `${plural(info.modelIds.length, 'configured model')} listed`));
        }
      }
      return results;
    }
    case 'status': {
      const { status } = outcome;
      if (status === 401 || status === 403) {
        return [r.fail(info.id, `the key was refused (${status})`, { ms, hint: keyHint(info) })];
      }
      if (status === 404 || status === 405) {
        return [r.warn(info.id, `reachable, but GET /models is not offered (${status})`, { ms, hint: `Check options.baseURL (${at}); model ids cannot be checked.` })];
      }
      if (status === 429) return [r.warn(info.id, `rate limited right now (429)`, { ms, hint: 'Wait for the window to pass; check the provider\'s limits and "rateLimit".' })];
      return [r.fail(info.id, `answered ${status}`, { ms, hint: `Check options.baseURL (${at}) and the provider's status page.` })];
    }
    case 'unreachable':
      return [r.fail(info.id, `unreachable: ${outcome.reason} (${at})`, { ms, hint: 'Check options.baseURL, the network, or start the local server.' })];
    case 'timeout':
      return [r.fail(info.id, `no answer in ${formatDuration(timeoutMs)} (${at})`, { ms, hint: 'Check the network or options.baseURL; the provider may be down.' })];
    case 'cancelled':
      return [r.fail(info.id, `stopped: doctor's time bound was reached`, { ms })];
  }
}

async function probe(ctx: DoctorContext, info: ProviderInfo): Promise<CheckResult[]> {
  if (info.baseURLProblem) return [r.fail(info.id, info.baseURLProblem, { hint: BASE_URL_HINT })];
  if (!OPENAI_STYLE.has(info.npm)) return [r.skip(info.id, `not probed: ${info.npm} is not OpenAI-compatible`)];
  if (!info.baseURL) {
    return [r.fail(info.id, 'no baseURL to probe', { hint: `Set provider.${info.id}.options.baseURL.` })];
  }
  // A login (the ChatGPT one) is not a key for the API's model list: nothing to probe with. With a
  // key beside it (OPENAI_API_KEY), runs still go through the login, so probing with the key would check what no run uses.
  if (info.login) return [r.skip(info.id, `not probed: its models are served through a login (see auth)${info.credential.key ? '; the key beside it is not used while the login is stored' : ''}`)];
  if (!info.credential.key && info.needsKey === true) {
    return [r.skip(info.id, 'not probed: no key (see auth)', { hint: keyHint(info) })];
  }
  const outcome = await probeModels({
    baseURL: info.baseURL,
    ...(info.credential.key ? { apiKey: info.credential.key } : {}),
    headers: info.headers,
    queryParams: info.queryParams,
    timeoutMs: ctx.probeTimeoutMs,
    signal: ctx.signal,
    fetch: ctx.fetch,
  });
  return describe(info, outcome, ctx.probeTimeoutMs);
}

export async function checkModels(ctx: DoctorContext): Promise<CheckResult[]> {
  if (!ctx.usage) return [r.skip('providers', 'not probed: the config did not load (see config)')];
  const providers = [...ctx.usage.providers.values()];
  if (providers.length === 0) return [r.ok('providers', 'no agent names a provider')];
  const results = await Promise.all(providers.map((info) => probe(ctx, info)));
  return results.flat();
}
