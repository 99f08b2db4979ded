import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'jsonc-parser';
import type { ParseError } from 'jsonc-parser';
import type { ConfigLayer, LayerKind } from '../../src/config/layer.ts';
import { PantheonError } from '../../src/errors.ts';

export async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-validate-'));
}

/** Writes a JSONC file and reads it back as a layer, the way the loader does. */
export async function fileLayer(dir: string, name: string, text: string, kind: LayerKind = 'project'): Promise<ConfigLayer> {
  const file = path.join(dir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  const read = await fs.readFile(file, 'utf8');
  const errors: ParseError[] = [];
  const data = parse(read, errors, { allowTrailingComma: true, disallowComments: false }) as Record<string, unknown>;
  if (errors.length > 0) throw new Error(`test fixture ${name} is not valid JSONC`);
  return { kind, label: file, file, text: read, data };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge, lowest precedence first: objects merge, everything else (arrays too) is replaced. */
export function mergeLayers(layers: ConfigLayer[]): Record<string, unknown> {
  const merge = (base: unknown, over: unknown): unknown => {
    if (!isRecord(base) || !isRecord(over)) return structuredClone(over);
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = merge(base[key], value);
    return out;
  };
  return layers.reduce<Record<string, unknown>>((acc, layer) => merge(acc, layer.data) as Record<string, unknown>, {});
}

/** The CONFIG_INVALID error thrown for the layers (merged as the loader would), or undefined. */
export function configError(validate: (merged: Record<string, unknown>, layers: ConfigLayer[]) => void, layers: ConfigLayer[]): PantheonError | undefined {
  try {
    validate(mergeLayers(layers), layers);
    return undefined;
  } catch (error) {
    if (error instanceof PantheonError) return error;
    throw error;
  }
}
