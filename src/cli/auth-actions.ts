import { didYouMean } from '../config/did-you-mean.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import { authFile } from '../paths.ts';
import { envVarsFor } from '../providers/catalog.ts';
import { builtinLoginNote } from '../auth/builtin-logins.ts';
import { normalizeKey } from '../auth/key.ts';
import { login, loginChoices } from '../auth/login.ts';
import { promptChoice, promptKey, promptProvider, promptText, type PromptContext, type ProviderChoice } from '../auth/prompts.ts';
import type { PluginLoginIO } from '../auth/plugin-login.ts';
import { maskSecret } from '../config/secrets.ts';
import { isPure } from '../plugins/pure.ts';
import type { PendingRunServer } from '../plugins/run-server.ts';
import type { PluginAuthHook, PluginHost } from '../plugins/types.ts';
import { requireProvider } from '../auth/providers.ts';
import { authStatus, warningLines, type AuthStatus, type ProviderStatus } from '../auth/status.ts';
import { readAuthStoreFile, removeEntry } from '../auth/store.ts';
import type { Verification } from '../auth/verify.ts';
import type { AuthArgs } from './commands/auth.ts';
import { printErr, printJson, printOut, printWarnings } from './print.ts';
import { table } from './table.ts';

const MAX_STDIN_BYTES = 64 * 1024;

/** The terminal to prompt on: stdin must be one, and the prompt is drawn on stderr (stdout stays clean). */
function terminal(): PromptContext | undefined {
  if (!process.stdin.isTTY) return undefined;
  if (process.stderr.isTTY) return { input: process.stdin, output: process.stderr };
  if (process.stdout.isTTY) return { input: process.stdin, output: process.stdout };
  return undefined;
}

/** All of stdin (until EOF), for --key-stdin. */
async function readKeyFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) {
      throw new PantheonError('USAGE', `stdin holds more than ${MAX_STDIN_BYTES / 1024} KiB, so it is not a key.`, {
        hint: 'Pipe only the key, e.g. `printf %s "$KEY" | opencode auth login PROVIDER --key-stdin`.',
      });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function verificationLine(v: Verification | undefined): string {
  if (v === undefined) return 'note: the key was not verified (--no-verify).';
  switch (v.outcome) {
    case 'verified':
      return `verified: ${v.url} accepted the key (${v.status}, ${v.ms} ms).`;
    case 'unverified':
      return `warning: could not verify the key (${v.reason}); saving it anyway.`;
    case 'skipped':
      return `note: the key was not verified: ${v.reason}.`;
    case 'refused':
      return `error: the key was refused (${v.status}).`;
  }
}

export async function authLogin(args: AuthArgs): Promise<void> {
  const env = process.env;
  const storeFile = authFile(env);
  const loaded = await loadConfig({ configPath: args.config });
  const { config, warnings } = loaded;
  printWarnings(warnings);
  // A store that cannot be read fails now, before anyone types a key.
  const snapshot = readAuthStoreFile(storeFile);
  const tty = terminal();
  if (!args.provider && !tty) {
    const configured = Object.keys(config.provider ?? {});
    throw new PantheonError('USAGE', 'auth login: name a provider; there is no terminal to choose one on.', {
      hint: `For example \`printf %s "$KEY" | opencode auth login nvidia-nim --key-stdin\`.${configured.length ? ` Configured: ${configured.join(', ')}.` : ''}`,
    });
  }
  // The project's plugins: one whose `auth` hook serves the provider logs in to it, as in OpenCode.
  const plugins = await loginPlugins(loaded);
  try {
    const providerId = args.provider ?? (await promptProvider(withPluginChoices(loginChoices(config, env, snapshot.entries), plugins), tty as PromptContext));
    await plugins?.loadBuiltins?.(providerId);
    const hook = plugins?.authHooks?.(providerId).at(-1);
    const { loginMethods } = await import('../auth/plugin-login.ts');
    const methods = loginMethods(hook);
    // A key piped with --key-stdin (no --method) to a provider whose plugin also takes a plain key
    // (the built-in ChatGPT login of openai) is saved, and checked, as any provider's key.
    const plainKey = args.keyStdin === true && args.method === undefined && methods.some((m) => m.type === 'api' && typeof m.authorize !== 'function');
    if (methods.length > 0 && !plainKey) return await loginThroughPlugin(hook as PluginAuthHook, providerId, args, tty, storeFile);
    if (args.method !== undefined) {
      throw new PantheonError('USAGE', `auth login: --method names a plugin's login method, and no plugin of this project logs in to ${providerId}.`, { hint: 'Leave --method out to save an API key.' });
    }
    await keyLogin(args, config, providerId, tty, storeFile);
  } finally {
    await plugins?.dispose();
  }
}

async function keyLogin(args: AuthArgs, config: LoadedConfig['config'], providerId: string, tty: PromptContext | undefined, storeFile: string): Promise<void> {
  const provider = requireProvider(config, providerId);
  let key: string;
  if (args.keyStdin) key = normalizeKey(await readKeyFromStdin(), 'stdin');
  else if (tty) key = await promptKey(provider, tty);
  else {
    throw new PantheonError('USAGE', 'auth login: there is no terminal to type the key on; pass --key-stdin and pipe the key.', {
      hint: `For example \`printf %s "$KEY" | opencode auth login ${provider.id} --key-stdin\`.`,
    });
  }
  const result = await login({ provider, key, verify: args.verify !== false, storeFile });
  printErr(`${verificationLine(result.verification)}\n`);
  if (config.provider?.[provider.id]?.options?.apiKey) {
    printErr(`note: provider.${provider.id}.options.apiKey in your config takes precedence over auth.json.\n`);
  }
  printOut(`saved ${result.provider} key ${result.maskedKey} to ${result.file}\n`);
}

/** The project's plugins for a login (with --pure, the built-in ones only); each one that fails to load is a warning. */
async function loginPlugins(loaded: LoadedConfig): Promise<PluginHost | undefined> {
  const { openPlugins } = await import('../plugins/load-plugins.ts');
  let server: PendingRunServer | undefined;
  return openPlugins({
    layers: loaded.layers,
    directory: process.cwd(),
    projectRoot: loaded.projectRoot,
    env: process.env,
    pure: isPure(process.env),
    extras: async (signal) => {
      const [{ pendingRunServer }, { pluginInput }] = await Promise.all([import('../plugins/run-server.ts'), import('../plugins/plugin-input.ts')]);
      server ??= pendingRunServer();
      return pluginInput({ directory: process.cwd(), server, env: process.env })(signal);
    },
    warn: (text) => printErr(`warning: ${text}\n`),
  });
}

/** The chooser's entries, with the providers only a plugin logs in to (OpenCode lists them with the hint "plugin"). */
function withPluginChoices(choices: ProviderChoice[], plugins: PluginHost | undefined): ProviderChoice[] {
  const listed = new Set(choices.map((c) => c.provider.id));
  const ids = [...new Set(plugins?.authProviders?.() ?? [])].filter((id) => !listed.has(id));
  const only = (id: string): ProviderChoice['provider'] => ({ id, name: id, npm: '', envVars: [], envVar: 'a plugin login', needsKey: true, configured: false, wellKnown: false, headers: {}, queryParams: {} });
  return [...choices, ...ids.map((id) => ({ provider: only(id), status: 'plugin' }))];
}

/** Logs in through the plugin's hook: prompts on the terminal, or lines of stdin without one. */
async function loginThroughPlugin(hook: PluginAuthHook, providerId: string, args: AuthArgs, tty: PromptContext | undefined, storeFile: string): Promise<void> {
  const { pluginLogin } = await import('../auth/plugin-login.ts');
  let lines: string[] | undefined;
  const nextLine = async (what: string, hint = 'On a terminal the login asks; otherwise pipe one line per question, in order.'): Promise<string> => {
    lines ??= (await readKeyFromStdin()).split(/\r?\n/);
    const line = lines.shift();
    if (line === undefined || (line === '' && lines.length === 0)) {
      throw new PantheonError('USAGE', `auth login: stdin ended before ${what}.`, { hint });
    }
    return line;
  };
  const io: PluginLoginIO = {
    async text(message, validate) {
      if (tty) return promptText(message, validate, tty);
      const answer = (await nextLine(`the answer to "${message.trim()}"`)).trim();
      const problem = validate?.(answer);
      if (problem) throw new PantheonError('USAGE', `auth login: the answer to "${message.trim()}" was refused: ${problem}.`);
      return answer;
    },
    async select(message, options) {
      if (tty) return promptChoice(message, options, tty);
      const hint = `Choices: ${options.map((o) => o.label).join(', ')}${message === 'Login method' ? ' (or name one with --method)' : ''}.`;
      const answer = (await nextLine(`the answer to "${message}"`, hint)).trim().toLowerCase();
      const found = options.find((o) => o.value.toLowerCase() === answer || o.label.toLowerCase() === answer);
      if (!found) throw new PantheonError('USAGE', `auth login: "${answer.slice(0, 80)}" is not one of the choices of "${message}".`, { hint });
      return found.value;
    },
    async key() {
      if (args.keyStdin) return normalizeKey(await nextLine('the key'), 'stdin');
      if (tty) return promptKey({ id: providerId, name: providerId }, tty);
      throw new PantheonError('USAGE', 'auth login: there is no terminal to type the key on; pass --key-stdin and pipe the key.', {
        hint: `For example \`printf %s "$KEY" | opencode auth login ${providerId} --key-stdin\`.`,
      });
    },
    info: (line) => printErr(`${line}\n`),
  };
  const result = await pluginLogin(hook, providerId, args.method, io, storeFile);
  const what = result.type === 'oauth' ? 'OAuth login' : `key ${maskSecret(result.key ?? '')}`;
  printOut(`saved ${result.provider} ${what} (${result.method}) to ${storeFile}\n`);
}

function sourceText(p: ProviderStatus): string {
  if (p.source === 'env') return `env ${p.from ?? ''}`;
  if (p.source === 'none') return p.needsKey ? 'none' : 'none (not needed)';
  return p.source;
}

function noteText(p: ProviderStatus): string {
  const notes: string[] = [];
  if (!p.configured && !p.wellKnown) notes.push('unknown provider: declare it under "provider"');
  if (p.builtinLogin) notes.push(builtinLoginNote(p.id, p.stored, process.env) ?? 'logged in (OAuth): the built-in login makes its requests');
  else if (p.stored && p.stored !== 'api') notes.push(`auth.json holds a "${p.stored}" login, used only by a plugin's auth hook`);
  if (p.stored === 'api' && p.source === 'config') notes.push("its auth.json key is unused: the config's apiKey wins");
  if (p.source === 'none' && p.needsKey) notes.push(`opencode auth login ${p.id}, or set ${p.envVar}`);
  return notes.join('; ');
}

function renderStatus(status: AuthStatus): string {
  if (status.providers.length === 0) {
    return `No providers are configured and no credentials were found.\nstore: ${status.store}\n`;
  }
  const rows = [['PROVIDER', 'SOURCE', 'KEY', 'NOTE']];
  for (const p of status.providers) rows.push([p.id, sourceText(p), p.maskedKey ?? (p.builtinLogin ? 'oauth' : '-'), noteText(p)]);
  return `${table(rows)}\nstore: ${status.store}\n`;
}

export async function authList(args: AuthArgs): Promise<void> {
  const env = process.env;
  const { config, warnings } = await loadConfig({ configPath: args.config });
  printWarnings(warnings);
  const snapshot = readAuthStoreFile(authFile(env));
  const status = authStatus(config, { env, entries: snapshot.entries, storeFile: snapshot.file });
  if (args.json) {
    printJson(status, 2);
    return;
  }
  printOut(renderStatus(status));
  for (const line of warningLines(status)) printErr(`warning: ${line}\n`);
}

export async function authLogout(args: AuthArgs): Promise<void> {
  const env = process.env;
  const file = authFile(env);
  const { entries } = readAuthStoreFile(file);
  const stored = Object.keys(entries);
  const storedHint = stored.length ? `Stored providers: ${stored.join(', ')}.` : `${file} holds no entries.`;
  const id = args.provider;
  if (!id) throw new PantheonError('USAGE', 'auth logout: name the provider to remove.', { hint: storedHint });
  if (!Object.hasOwn(entries, id)) {
    const prefixed = stored.filter((name) => name.startsWith(id));
    const suggestion = didYouMean(id, stored) || (prefixed.length === 1 ? `; did you mean "${prefixed[0] as string}"?` : '.');
    throw new PantheonError('USAGE', `auth logout: "${id}" has no entry in ${file}${suggestion}`, { hint: storedHint });
  }
  await removeEntry(file, id);
  printOut(`removed ${id} from ${file}\n`);
  const still = envVarsFor(id).find((name) => env[name]);
  if (still) printErr(`note: ${id} still has a key in the environment (${still}).\n`);
}
