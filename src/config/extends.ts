import path from 'node:path';
import { PantheonError } from '../errors.ts';
import { textPathOf, type ConfigLayer } from './layer.ts';
import type { LoadContext } from './context.ts';
import { didYouMean } from './did-you-mean.ts';
import { describeType } from './jsonc.ts';
import { fileAt, locateJsonPath } from './json-path.ts';
import { listPresets, presetFile } from './presets.ts';
import { readFileLayer } from './read-layer.ts';
import { resolveUserPath } from './home.ts';

interface ChainEntry {
  key: string;
  display: string;
}

interface Target extends ChainEntry {
  preset?: string;
}

/** A bare name (`oh-my-opencode`) is a preset; anything with `/` or ending .json/.jsonc is a file. */
export function isPresetName(entry: string): boolean {
  return !/[\\/]/.test(entry) && !/\.jsonc?$/i.test(entry);
}

function displayFile(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function displayLayer(layer: ConfigLayer, ctx: LoadContext): string {
  if (layer.kind === 'default') return 'preset:default';
  if (layer.kind === 'preset') return layer.label;
  return layer.file ? displayFile(layer.file, ctx.cwd) : layer.label;
}

/** Where the `extends` entry sits, for messages: `file:line:col`, or the layer's label. */
function whereIs(layer: ConfigLayer, index: number | undefined): string {
  if (!layer.file) return layer.label;
  const at = index === undefined ? ['extends'] : ['extends', index];
  const pos = layer.text ? locateJsonPath(layer.text, textPathOf(layer, at)) : undefined;
  return fileAt(layer.file, pos);
}

function extendsList(layer: ConfigLayer): string[] {
  const value = layer.data.extends;
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new PantheonError('CONFIG_EXTENDS', `${whereIs(layer, undefined)}: "extends" must be a preset name or file path, or a list of them; found ${describeType(value)}.`, {
    hint: 'For example: "extends": ["oh-my-opencode", "./team.json"].',
  });
}

async function unknownPreset(name: string, layer: ConfigLayer, index: number, ctx: LoadContext): Promise<PantheonError> {
  const available = await listPresets(ctx.presetsDir).catch(() => [] as string[]);
  const suggestion = didYouMean(name, available) || '.';
  return new PantheonError('CONFIG_EXTENDS', `${whereIs(layer, index)}: unknown preset "${name}" in extends${suggestion}`, {
    hint: `Available presets: ${available.join(', ') || '(none)'}. A config file needs a "/" or a .json ending, e.g. "./${name}.json".`,
  });
}

function resolveTarget(entry: string, layer: ConfigLayer, ctx: LoadContext): Target {
  if (isPresetName(entry)) {
    return { key: presetFile(entry, ctx.presetsDir), display: `preset:${entry}`, preset: entry };
  }
  const base = layer.file ? path.dirname(layer.file) : ctx.cwd;
  const file = resolveUserPath(entry, base, ctx.env);
  return { key: file, display: displayFile(file, ctx.cwd) };
}

async function readTarget(target: Target, entry: string, layer: ConfigLayer, index: number, ctx: LoadContext): Promise<ConfigLayer> {
  if (target.preset !== undefined) {
    const name = target.preset;
    const missing = new PantheonError('CONFIG_EXTENDS', `unknown preset "${name}"`);
    try {
      return await readFileLayer(target.key, 'preset', `preset:${name}`, ctx, () => missing);
    } catch (error) {
      if (error === missing) throw await unknownPreset(name, layer, index, ctx);
      throw error;
    }
  }
  return readFileLayer(target.key, 'extends', target.key, ctx, (what) =>
    new PantheonError('CONFIG_EXTENDS', `${whereIs(layer, index)}: extends "${entry}", but ${target.key} ${what}.`, {
      hint: 'A file in extends is relative to the file that names it; `~` means your home folder.',
    }),
  );
}

/**
 * A layer with everything it extends expanded beneath it: depth-first, in order, each distinct
 * file or preset applied once (a layer already applied yields nothing). A cycle is an error
 * naming the chain.
 */
export async function expandExtends(layer: ConfigLayer, ctx: LoadContext, chain: ChainEntry[] = []): Promise<ConfigLayer[]> {
  const self: ChainEntry | undefined = layer.file ? { key: layer.file, display: displayLayer(layer, ctx) } : undefined;
  if (self) {
    if (ctx.applied.has(self.key)) return [];
    ctx.applied.add(self.key);
  }
  const stack = self ? [...chain, self] : chain;
  const out: ConfigLayer[] = [];
  const entries = extendsList(layer);
  for (const [index, entry] of entries.entries()) {
    const target = resolveTarget(entry, layer, ctx);
    const loop = stack.findIndex((c) => c.key === target.key);
    if (loop !== -1) {
      const names = [...stack.slice(loop), target].map((c) => c.display);
      throw new PantheonError('CONFIG_EXTENDS', `extends cycle: ${names.join(' → ')}.`, {
        hint: `Remove "${entry}" from the extends of ${stack[stack.length - 1]?.display ?? layer.label}, or another link of the chain.`,
      });
    }
    if (ctx.applied.has(target.key)) continue;
    const child = await readTarget(target, entry, layer, index, ctx);
    out.push(...(await expandExtends(child, ctx, stack)));
  }
  out.push(layer);
  return out;
}
