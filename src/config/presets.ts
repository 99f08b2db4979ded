import { readdir } from './fs-calls.ts';
import path from 'node:path';
import { packageRoot } from '../paths.ts';

/** The folder holding the built-in presets (`presets/NAME.json`). */
export const defaultPresetsDir = path.join(packageRoot, 'presets');

/** Names of the built-in presets, sorted. */
export async function listPresets(presetsDir: string = defaultPresetsDir): Promise<string[]> {
  const entries = await readdir(presetsDir);
  return entries.filter((e) => e.endsWith('.json')).map((e) => e.slice(0, -'.json'.length)).sort();
}

/** Path of a built-in preset file. */
export function presetFile(name: string, presetsDir: string = defaultPresetsDir): string {
  return path.join(presetsDir, `${name}.json`);
}
