/**
 * `opencode debug …`: OpenCode's troubleshooting commands with Pantheon's answers (its merged
 * config, its folders, its agents, skills and projects). `debug agent` is in debug-agent.ts.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { redactStoreUrl } from '../config/url-credentials.ts';
import { PantheonError } from '../errors.ts';
import { authFile, cacheDir, globalConfigDir, stateDir } from '../paths.ts';
import { DEBUG_NOT_HERE, type DebugArgs } from './commands/debug.ts';
import { printErr, printJson, printOut, printWarnings } from './print.ts';
import { table } from './table.ts';
import { version } from './version.ts';

export { debugAgent } from './debug-agent.ts';

function load(args: DebugArgs): Promise<LoadedConfig> {
  return loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
}

/** `debug config`: the merged config as JSON, every secret `***` and every `{env:…}`/`{file:…}` value shown as written. */
export async function debugConfig(args: DebugArgs): Promise<void> {
  const loaded = await load(args);
  const { redactConfig } = await import('../config/redact-config.ts');
  printWarnings(loaded.warnings);
  printJson(await redactConfig(loaded.config, loaded.layers), 2);
}

/** `debug paths`: OpenCode's labels, Pantheon's folders (it has no bin, log, repos or tmp folder of its own). */
export async function debugPaths(args: DebugArgs): Promise<void> {
  const loaded = await load(args);
  const store = loaded.config.state?.store?.trim();
  const state = !store || store === 'sqlite' ? path.join(stateDir(), 'ledger.sqlite') : redactStoreUrl(store);
  const rows: [string, string][] = [
    ['home', os.homedir()],
    ['data', stateDir()],
    ['cache', cacheDir()],
    ['config', globalConfigDir()],
    ['state', state],
    ['auth', authFile()],
  ];
  if (args.json) {
    printJson(Object.fromEntries(rows), 2);
    return;
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 3;
  printOut(rows.map(([label, value]) => `${label.padEnd(width)}${value}`).join('\n') + '\n');
}

/** `debug skill`: the skills an agent would be offered, as OpenCode lists them. */
export async function debugSkill(args: DebugArgs): Promise<void> {
  const loaded = await load(args);
  const { skillsFor, MAX_SKILL_BYTES } = await import('../agents/skills.ts');
  const { readTextFile } = await import('../config/read-text.ts');
  const { splitFrontmatter } = await import('../config/markdown-layers.ts');
  const skills = await skillsFor(loaded.projectRoot, process.env, loaded.config as { skills?: { paths?: unknown; urls?: unknown } });
  const out = [];
  for (const skill of skills) {
    let content = '';
    try {
      content = splitFrontmatter(await readTextFile(skill.file, MAX_SKILL_BYTES)).body.trim();
    } catch {
      // A skill that went away or grew too large since it was found: listed without its text.
    }
    out.push({ name: skill.name, description: skill.description, location: skill.file, content });
  }
  printJson(out, 2);
}

/** `debug info`: versions, platform and the config files found. */
export async function debugInfo(args: DebugArgs): Promise<void> {
  const loaded = await load(args);
  const files = loaded.layers.filter((l) => l.file !== undefined && l.kind !== 'default' && l.kind !== 'preset').map((l) => l.file as string);
  const info = {
    version,
    node: process.version,
    os: `${os.type()} ${os.release()} ${process.arch}`,
    terminal: process.env.TERM_PROGRAM || process.env.TERM || 'unknown',
    projectRoot: loaded.projectRoot,
    configFiles: [...new Set(files)],
    plugins: [] as string[],
  };
  if (args.json) {
    printJson(info, 2);
    return;
  }
  printWarnings(loaded.warnings);
  printOut(
    [
      `pantheon version: ${info.version} (as opencode)`,
      `node: ${info.node}`,
      `os: ${info.os}`,
      `terminal: ${info.terminal}`,
      `project: ${info.projectRoot}`,
      'config files:',
      ...(info.configFiles.length ? info.configFiles.map((f) => `  ${f}`) : ['  none (built-in defaults only)']),
      'plugins:',
      'none (Pantheon does not load OpenCode plugins)',
    ].join('\n') + '\n',
  );
}

/** `debug startup`: this process's start-up, phase by phase (OpenCode prints one total). */
export async function debugStartup(args: DebugArgs): Promise<void> {
  const phases: [string, number][] = [['process start to command', performance.now()]];
  const time = async (label: string, work: () => Promise<unknown>): Promise<void> => {
    const start = performance.now();
    await work();
    phases.push([label, performance.now() - start]);
  };
  await time('config loaded', () => load(args));
  await time('built-in tools loaded', () => import('../tools/index.ts'));
  await time('AI SDK loaded', () => import('../ai-sdk.ts'));
  const total = performance.now();
  const ms = (n: number) => Math.round(n * 10) / 10;
  if (args.json) {
    printJson({ phases: Object.fromEntries(phases.map(([label, n]) => [label, ms(n)])), total: ms(total) }, 2);
    return;
  }
  printOut(table([['PHASE', 'MS'], ...phases.map(([label, n]) => [label, ms(n).toFixed(1)]), ['total', ms(total).toFixed(1)]]) + '\n');
}

/** `debug scrap`: the known projects, as OpenCode lists them: the folder of this run and each folder with saved sessions. */
export async function debugScrap(args: DebugArgs): Promise<void> {
  const loaded = await load(args);
  const { SessionStore } = await import('../session/store.ts');
  const { projectId } = await import('../server/opencode/catalog-view.ts');
  const { sessions } = await SessionStore.open().list();
  const now = Date.now();
  const byRoot = new Map<string, { created: number; updated: number }>([[loaded.projectRoot, { created: now, updated: now }]]);
  for (const s of sessions) {
    const seen = byRoot.get(s.projectRoot);
    if (!seen || seen.created === now) byRoot.set(s.projectRoot, { created: s.createdAt, updated: s.updatedAt });
    else byRoot.set(s.projectRoot, { created: Math.min(seen.created, s.createdAt), updated: Math.max(seen.updated, s.updatedAt) });
  }
  const projects = [...byRoot].map(([root, time]) => ({ id: projectId(root), worktree: root, ...(existsSync(path.join(root, '.git')) ? { vcs: 'git' } : {}), time, sandboxes: [] }));
  printJson(projects, 2);
}

/** `debug wait`: waits until interrupted (Ctrl+C ends it with 130, SIGTERM with 0). */
export async function debugWait(): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => undefined, 1 << 30);
    const stop = (code: number) => () => {
      clearInterval(timer);
      process.exitCode = code;
      resolve();
    };
    process.once('SIGINT', stop(130));
    process.once('SIGTERM', stop(0));
    printErr(`waiting (pid ${process.pid}); Ctrl+C ends it\n`);
  });
}

/** `debug lsp|rg|file|snapshot|v2`: one sentence on why Pantheon has none, and what to use. */
/** `debug lsp diagnostics FILE`: touches the file in the config's language servers and prints what they report, by file (`{}` when none runs). */
export async function debugLspDiagnostics(args: DebugArgs): Promise<void> {
  const loaded = await load(args);
  const { lspOf } = await import('../lsp/lsp.ts');
  const { closeAllLsp } = await import('../lsp/live.ts');
  const lsp = lspOf(loaded.config, loaded.projectRoot, process.env);
  try {
    if (lsp) await lsp.touch(path.resolve(args.file ?? ''));
    printJson(Object.fromEntries(lsp?.diagnostics() ?? []), 2);
  } finally {
    await closeAllLsp();
  }
}

/** `debug lsp symbols` and `document-symbols`: not in Pantheon. */
export function debugLspSymbols(): never {
  throw new PantheonError('USAGE', 'Pantheon asks its language servers for diagnostics only: `debug lsp symbols` and `document-symbols` are not there.', {
    hint: '`opencode debug lsp diagnostics FILE` shows what they report on a file; the grep tool (`opencode debug agent build --tool grep --params \'{"pattern":"…"}\'`) searches the code.',
  });
}

export function debugNotHere(name: string): never {
  const what = DEBUG_NOT_HERE[name] as { sentence: string; hint: string };
  throw new PantheonError('USAGE', what.sentence, { hint: what.hint });
}
