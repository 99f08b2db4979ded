import fs from 'node:fs/promises';
import path from 'node:path';
import { PantheonError } from '../errors.ts';
import { listPresets } from './presets.ts';
import { writeFileAtomic } from '../fs-atomic.ts';

export interface InitOptions {
  cwd: string;
  preset: string;
  out: string;
  force: boolean;
  presetsDir?: string;
}

const SCHEMA_URL = 'https://raw.githubusercontent.com/pantheon-dev/pantheon/main/schema/config.json';

/** Text of a new config that extends `preset`, with commented examples of the usual overrides. */
export function initText(preset: string, jsonc: boolean): string {
  if (!jsonc) return JSON.stringify({ $schema: SCHEMA_URL, extends: [preset] }, null, 2) + '\n';
  return `// Pantheon / OpenCode configuration, created by \`opencode config init --preset ${preset}\`.
// Everything in the "${preset}" preset applies; set a key here to override it (objects merge, arrays replace).
// Check it with \`opencode config validate\`; see the merged result with \`opencode config show\`.
{
  "$schema": "${SCHEMA_URL}",
  "extends": ["${preset}"]

  // The model agents use when they name none, and where to go when it is rate-limited or failing:
  // "model": "nvidia-nim/qwen-3.5-397b",
  // "fallbacks": ["opencode-zen/big-pickle"],

  // Stay inside a provider's limits (rpm, rpd, tpm, concurrency, or maxRequests per windowMs):
  // "provider": { "nvidia-nim": { "rateLimit": { "rpm": 40 } } },

  // Give one agent its own chain:
  // "agent": { "oracle": { "model": "google/gemini-3-pro:high", "fallbacks": ["nvidia-nim/qwen-3.5-397b"] } },

  // Retries and cooldowns (ms):
  // "retry": { "maxRetries": 3, "baseDelay": 1000, "maxDelay": 60000 },
  // "cooldown": { "afterFailures": 3, "ms": 60000 }
}
`;
}

/** Writes a new config file; never overwrites one without `force`. Returns the path written. */
export async function initConfig(options: InitOptions): Promise<string> {
  const presets = await listPresets(options.presetsDir);
  if (!presets.includes(options.preset)) {
    throw new PantheonError('USAGE', `--preset: unknown preset "${options.preset}".`, {
      hint: `Choose one of: ${presets.join(', ')}.`,
    });
  }
  const target = path.resolve(options.cwd, options.out);
  if (!/\.jsonc?$/.test(target)) {
    throw new PantheonError('USAGE', `--out: expected a file ending in .json or .jsonc, found "${options.out}".`, {
      hint: 'Use opencode.jsonc (keeps comments) or opencode.json.',
    });
  }
  if (!options.force) {
    const exists = await fs.stat(target).then(() => true, () => false);
    if (exists) {
      throw new PantheonError('FILE_EXISTS', `${target} already exists; nothing was written.`, {
        hint: 'Pass --force to replace it, or --out to write another file.',
      });
    }
  }
  await writeFileAtomic(target, initText(options.preset, target.endsWith('.jsonc')));
  return target;
}
