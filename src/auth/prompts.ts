/**
 * The interactive half of `opencode auth login`: choosing a provider and typing the key with a
 * masked echo. The streams are always passed in (the CLI gives the terminal, tests give pipes).
 */
import password from '@inquirer/password';
import select from '@inquirer/select';
import readline from 'node:readline/promises';
import { safeLine } from '../cli/terminal-text.ts';
import { PantheonError } from '../errors.ts';
import { keyProblem, normalizeKey } from './key.ts';
import type { ProviderInfo } from './providers.ts';

export interface PromptContext {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  signal?: AbortSignal;
}

/** A provider offered by the chooser, with what the user needs to know about it. */
export interface ProviderChoice {
  provider: ProviderInfo;
  /** A short note such as "key from env NVIDIA_API_KEY", or "no key yet". */
  status: string;
}

/** Ctrl-C or an abort while prompting ends the command with exit 130 and nothing saved. */
function cancelled(error: unknown): never {
  const name = (error as { name?: string }).name;
  if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError') {
    throw new PantheonError('CANCELLED', 'Login cancelled; nothing was saved.', { cause: error });
  }
  throw error;
}

function choiceLabel({ provider, status }: ProviderChoice): string {
  const tags = [provider.configured ? 'configured' : '', status].filter(Boolean).join(', ');
  return `${provider.id} — ${provider.name} (${provider.envVar})${tags ? ` [${tags}]` : ''}`;
}

function choiceDescription({ provider }: ProviderChoice): string {
  const where = provider.keysUrl ? `keys: ${provider.keysUrl}` : 'keys: see the provider';
  return `${where} · env: ${provider.envVars.join(', ')}`;
}

/** Asks which provider to log in to; resolves to its id. */
export async function promptProvider(choices: readonly ProviderChoice[], ctx: PromptContext): Promise<string> {
  try {
    return await select(
      {
        message: 'Log in to which provider?',
        choices: choices.map((choice) => ({ value: choice.provider.id, name: choiceLabel(choice), description: choiceDescription(choice) })),
        pageSize: 12,
      },
      ctx,
    );
  } catch (error) {
    return cancelled(error);
  }
}

/** Asks for the key with every character shown as `*`; resolves to the trimmed, checked key. */
export async function promptKey(provider: Pick<ProviderInfo, 'id' | 'name' | 'keysUrl'>, ctx: PromptContext): Promise<string> {
  if (provider.keysUrl) ctx.output.write(`Create a key for ${provider.name} at ${provider.keysUrl}\n`);
  try {
    const raw = await password(
      {
        message: `API key for ${provider.name} (${provider.id}):`,
        mask: '*',
        // The key stays hidden on screen too: no shortcut to reveal it.
        toggleMask: false,
        validate: (value: string) => keyProblem(value) ?? true,
      },
      ctx,
    );
    return normalizeKey(raw, 'prompt');
  } catch (error) {
    return cancelled(error);
  }
}

/** Asks to choose one of `options` (a plugin login's method or prompt); resolves to the value chosen. */
export async function promptChoice(message: string, options: readonly { label: string; value: string; hint?: string }[], ctx: PromptContext): Promise<string> {
  try {
    return await select({ message: safeLine(message), choices: options.map((o) => ({ value: o.value, name: safeLine(o.label), ...(o.hint ? { description: safeLine(o.hint) } : {}) })), pageSize: 12 }, ctx);
  } catch (error) {
    return cancelled(error);
  }
}

/** Asks a question whose answer is shown as typed (a plugin login's prompt, an OAuth code), until `validate` accepts it. */
export async function promptText(message: string, validate: ((value: string) => string | undefined) | undefined, ctx: PromptContext): Promise<string> {
  const rl = readline.createInterface({ input: ctx.input, output: ctx.output, terminal: true });
  try {
    for (;;) {
      const answer = (await rl.question(`${safeLine(message.trimEnd())} `, ctx.signal ? { signal: ctx.signal } : {})).trim();
      const problem = validate?.(answer);
      if (!problem) return answer;
      ctx.output.write(`${safeLine(problem)}\n`);
    }
  } catch (error) {
    if ((error as { name?: string }).name === 'AbortError') cancelled({ name: 'AbortPromptError' });
    throw error;
  } finally {
    rl.close();
  }
}
