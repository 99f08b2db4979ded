import { loadConfig, loadConfigFile, type LoadedConfig } from '../config/load.ts';
import { maskConfig } from '../config/mask.ts';
import { oneValue } from './one-value.ts';
import { MAX_WARNINGS_SHOWN, printErr, printJson, printOut, printWarnings } from './print.ts';

interface Args {
  config?: string;
  json?: boolean;
  file?: string;
  preset?: unknown;
  force?: boolean;
  out?: unknown;
}

function fileLabels(loaded: LoadedConfig): string[] {
  return loaded.layers.map((l) => l.file ?? l.label);
}

export async function configValidate(args: Args): Promise<void> {
  const loaded = args.file
    ? await loadConfigFile(args.file, { configPath: args.config })
    : await loadConfig({ configPath: args.config });
  if (args.json) {
    // As bounded as the text: the first warnings (identical ones already counted), then how many more.
    const warnings = loaded.warnings.slice(0, MAX_WARNINGS_SHOWN);
    printJson({ valid: true, files: fileLabels(loaded), warnings, warningsOmitted: loaded.warnings.length - warnings.length });
    return;
  }
  printWarnings(loaded.warnings);
  const files = loaded.layers.filter((l) => l.file).map((l) => l.file as string);
  printOut(`valid: ${files.length} file${files.length === 1 ? '' : 's'} checked\n`);
  for (const f of files) printOut(`  ${f}\n`);
}

export async function configShow(args: Args): Promise<void> {
  const loaded = await loadConfig({ configPath: args.config });
  const masked = maskConfig(loaded.config) as Record<string, unknown>;
  if (args.json) {
    printJson(masked, 2);
    return;
  }
  printWarnings(loaded.warnings);
  const keys = Object.keys(masked);
  const lines = ['{'];
  keys.forEach((key, i) => {
    lines.push(`  // from ${loaded.origins[key] ?? 'built-in defaults'}`);
    const value = JSON.stringify(masked[key], null, 2).replace(/\n/g, '\n  ');
    lines.push(`  ${JSON.stringify(key)}: ${value}${i < keys.length - 1 ? ',' : ''}`);
  });
  lines.push('}');
  printOut(lines.join('\n') + '\n');
}

export async function configInit(args: Args): Promise<void> {
  // Loaded here, not with the other config commands: its file writer brings node:crypto (temp names).
  const { initConfig } = await import('../config/init.ts');
  const written = await initConfig({
    cwd: process.cwd(),
    preset: oneValue(args.preset, '--preset', 'preset', 'Give --preset once; the file it writes can list more presets in "extends".') ?? '',
    out: oneValue(args.out, '--out', 'file', 'Give --out once.') ?? 'opencode.jsonc',
    force: Boolean(args.force),
  });
  printOut(`wrote ${written}\n`);
  printErr('next: `opencode config validate` checks it; `opencode config show` prints the merged result.\n');
}
