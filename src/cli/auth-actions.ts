import { didYouMean } from '../config/did-you-mean.ts';
import { loadConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import { authFile } from '../paths.ts';
import { envVarsFor } from '../providers/catalog.ts';
import { normalizeKey } from '../auth/key.ts';
import { login, loginChoices } from '../auth/login.ts';
import { promptKey, promptProvider, type PromptContext } from '../auth/prompts.ts';
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
  const { config, warnings } = await loadConfig({ configPath: args.config });
  printWarnings(warnings);
  // A store that cannot be read fails now, before anyone types a key.
  const snapshot = readAuthStoreFile(storeFile);
  const tty = terminal();
  let providerId = args.provider;
  if (!providerId) {
    if (!tty) {
      const configured = Object.keys(config.provider ?? {});
      throw new PantheonError('USAGE', 'auth login: name a provider; there is no terminal to choose one on.', {
        hint: `For example \`printf %s "$KEY" | opencode auth login nvidia-nim --key-stdin\`.${configured.length ? ` Configured: ${configured.join(', ')}.` : ''}`,
      });
    }
    providerId = await promptProvider(loginChoices(config, env, snapshot.entries), tty);
  }
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

function sourceText(p: ProviderStatus): string {
  if (p.source === 'env') return `env ${p.from ?? ''}`;
  if (p.source === 'none') return p.needsKey ? 'none' : 'none (not needed)';
  return p.source;
}

function noteText(p: ProviderStatus): string {
  const notes: string[] = [];
  if (!p.configured && !p.wellKnown) notes.push('unknown provider: declare it under "provider"');
  if (p.stored && p.stored !== 'api') notes.push(`auth.json holds a "${p.stored}" login that only OpenCode uses`);
  if (p.stored === 'api' && p.source === 'config') notes.push("its auth.json key is unused: the config's apiKey wins");
  if (p.source === 'none' && p.needsKey) notes.push(`opencode auth login ${p.id}, or set ${p.envVar}`);
  return notes.join('; ');
}

function renderStatus(status: AuthStatus): string {
  if (status.providers.length === 0) {
    return `No providers are configured and no credentials were found.\nstore: ${status.store}\n`;
  }
  const rows = [['PROVIDER', 'SOURCE', 'KEY', 'NOTE']];
  for (const p of status.providers) rows.push([p.id, sourceText(p), p.maskedKey ?? '-', noteText(p)]);
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
