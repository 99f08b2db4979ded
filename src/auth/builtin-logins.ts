/**
 * The logins of auth.json that a built-in plugin uses (plugins/builtin/): what `auth list` and
 * `doctor` say of them. Names only; never a token.
 */
import { builtinsEnabled } from '../plugins/builtin/index.ts';

/** What a stored login of `type` for `providerId` is, when a built-in plugin uses it (and built-ins are on). */
export function builtinLoginNote(providerId: string, type: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (!builtinsEnabled(env)) return undefined;
  if (providerId === 'openai' && type === 'oauth') return 'ChatGPT Plus/Pro login (built in): the models the subscription serves, renewed as it expires';
  return undefined;
}
