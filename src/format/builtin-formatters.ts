/**
 * The formatters OpenCode knows by name (`formatter: true` turns them on; its docs list them):
 * each with the extensions it takes and how it is found in a project — a program on the PATH (or in
 * a `node_modules/.bin` between the file's folder and the project root), sometimes a config file or
 * a dependency that says the project uses it. `command` answers the command line (`$FILE` standing
 * for the file), or undefined when the formatter is not there.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface FormatterContext {
  /** The folder of the file being formatted (or the project root, for a status). */
  directory: string;
  projectRoot: string;
  env: NodeJS.ProcessEnv;
}

export interface BuiltinFormatter {
  name: string;
  extensions: readonly string[];
  /** Variables the command runs with, over the environment. */
  environment?: Readonly<Record<string, string>>;
  command(ctx: FormatterContext): Promise<string[] | undefined>;
}

/** package.json, composer.json and the like are read up to this size. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** The folders from `directory` up to `projectRoot` (both included; only `directory` when it is outside the root). */
function foldersUp(directory: string, projectRoot: string): string[] {
  const out: string[] = [];
  const rel = path.relative(projectRoot, directory);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return [directory];
  for (let at = directory; ; at = path.dirname(at)) {
    out.push(at);
    if (at === projectRoot || path.dirname(at) === at) return out;
  }
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function executable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fs.constants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Where a file named `name` is between the context's folder and the project root, nearest first. */
export async function findUp(name: string, ctx: FormatterContext): Promise<string[]> {
  const found: string[] = [];
  for (const folder of foldersUp(ctx.directory, ctx.projectRoot)) if (await isFile(path.join(folder, name))) found.push(path.join(folder, name));
  return found;
}

/** A program's path: a project's `node_modules/.bin` first when `local`, then the PATH. */
export async function which(program: string, ctx: FormatterContext, local = false): Promise<string | undefined> {
  if (local) {
    for (const folder of foldersUp(ctx.directory, ctx.projectRoot)) {
      const candidate = path.join(folder, 'node_modules', '.bin', program);
      if (await executable(candidate)) return candidate;
    }
  }
  for (const dir of (ctx.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const handle = await fs.open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_MANIFEST_BYTES) return undefined;
      const value: unknown = JSON.parse(await handle.readFile('utf8'));
      return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

async function readText(file: string): Promise<string> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat || stat.size > MAX_MANIFEST_BYTES) return '';
  return fs.readFile(file, 'utf8').catch(() => '');
}

const dependsOn = (manifest: Record<string, unknown> | undefined, name: string, fields: readonly string[]): boolean =>
  fields.some((field) => {
    const deps = manifest?.[field];
    return deps !== null && typeof deps === 'object' && Object.hasOwn(deps, name);
  });

/** A project whose package.json (any between the file and the root) depends on `name`. */
async function nodeDependency(name: string, ctx: FormatterContext): Promise<boolean> {
  for (const file of await findUp('package.json', ctx)) if (dependsOn(await readJson(file), name, ['dependencies', 'devDependencies'])) return true;
  return false;
}

/** A program's first line of `--help` (bounded: 5 s, 64 KiB), or undefined when it fails. */
function helpLine(program: string, args: string[], ctx: FormatterContext): Promise<{ ok: boolean; first: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { env: ctx.env, timeout: 5000, maxBuffer: 64 * 1024, windowsHide: true }, (error, stdout) => resolve({ ok: !error, first: String(stdout).split('\n')[0] ?? '' }));
  });
}

/** A formatter that is a program on the PATH, run with `args` (`$FILE` for the file). */
function onPath(name: string, extensions: readonly string[], program: string, args: readonly string[]): BuiltinFormatter {
  return {
    name,
    extensions,
    async command(ctx) {
      const found = await which(program, ctx);
      return found ? [found, ...args] : undefined;
    },
  };
}

/** On the PATH, and the project has `marker` (a config file) between the file and the root. */
function withMarker(name: string, extensions: readonly string[], program: string, args: readonly string[], markers: readonly string[]): BuiltinFormatter {
  return {
    name,
    extensions,
    async command(ctx) {
      for (const marker of markers) {
        if ((await findUp(marker, ctx)).length === 0) continue;
        const found = await which(program, ctx);
        if (found) return [found, ...args];
      }
      return undefined;
    },
  };
}

const WEB = ['.js', '.jsx', '.mjs', '.cjs', '.ts', '.tsx', '.mts', '.cts', '.html', '.htm', '.css', '.scss', '.sass', '.less', '.vue', '.svelte', '.json', '.jsonc', '.yaml', '.yml', '.toml', '.xml', '.md', '.mdx', '.graphql', '.gql'];
const PYTHON = ['.py', '.pyi'];
const RUBY = ['.rb', '.rake', '.gemspec', '.ru'];

/** Ruff: on the PATH, and the project says it uses it (its own config, `[tool.ruff]`, or a dependency on it). */
const ruff: BuiltinFormatter = {
  name: 'ruff',
  extensions: PYTHON,
  async command(ctx) {
    const found = await which('ruff', ctx);
    if (!found) return undefined;
    const run = [found, 'format', '$FILE'];
    for (const config of ['ruff.toml', '.ruff.toml']) if ((await findUp(config, ctx)).length > 0) return run;
    const pyproject = (await findUp('pyproject.toml', ctx))[0];
    if (pyproject && (await readText(pyproject)).includes('[tool.ruff]')) return run;
    for (const manifest of ['requirements.txt', 'pyproject.toml', 'Pipfile']) {
      const file = (await findUp(manifest, ctx))[0];
      if (file && (await readText(file)).includes('ruff')) return run;
    }
    return undefined;
  },
};

export const BUILTIN_FORMATTERS: readonly BuiltinFormatter[] = [
  {
    name: 'prettier',
    extensions: WEB,
    async command(ctx) {
      if (!(await nodeDependency('prettier', ctx))) return undefined;
      const found = await which('prettier', ctx, true);
      return found ? [found, '--write', '$FILE'] : undefined;
    },
  },
  {
    // OpenCode's experiment: only with OPENCODE_EXPERIMENTAL_OXFMT set.
    name: 'oxfmt',
    extensions: ['.js', '.jsx', '.mjs', '.cjs', '.ts', '.tsx', '.mts', '.cts'],
    async command(ctx) {
      const flag = ctx.env.OPENCODE_EXPERIMENTAL_OXFMT?.toLowerCase();
      if ((flag !== 'true' && flag !== '1') || !(await nodeDependency('oxfmt', ctx))) return undefined;
      const found = await which('oxfmt', ctx, true);
      return found ? [found, '$FILE'] : undefined;
    },
  },
  {
    name: 'biome',
    extensions: WEB,
    async command(ctx) {
      if ((await findUp('biome.json', ctx)).length === 0 && (await findUp('biome.jsonc', ctx)).length === 0) return undefined;
      const found = await which('biome', ctx, true);
      return found ? [found, 'format', '--write', '$FILE'] : undefined;
    },
  },
  onPath('gofmt', ['.go'], 'gofmt', ['-w', '$FILE']),
  onPath('mix', ['.ex', '.exs', '.eex', '.heex', '.leex', '.neex', '.sface'], 'mix', ['format', '$FILE']),
  onPath('zig', ['.zig', '.zon'], 'zig', ['fmt', '$FILE']),
  withMarker('clang-format', ['.c', '.cc', '.cpp', '.cxx', '.c++', '.h', '.hh', '.hpp', '.hxx', '.h++', '.ino', '.C', '.H'], 'clang-format', ['-i', '$FILE'], ['.clang-format']),
  onPath('ktlint', ['.kt', '.kts'], 'ktlint', ['-F', '$FILE']),
  ruff,
  {
    name: 'uv',
    extensions: PYTHON,
    async command(ctx) {
      // Ruff formats a project that uses it; uv's formatter the others.
      if (await ruff.command(ctx)) return undefined;
      const found = await which('uv', ctx);
      if (!found || !(await helpLine(found, ['format', '--help'], ctx)).ok) return undefined;
      return [found, 'format', '--', '$FILE'];
    },
  },
  {
    name: 'air',
    extensions: ['.R'],
    async command(ctx) {
      const found = await which('air', ctx);
      if (!found) return undefined;
      // Another program may be called `air` (a Go live-reloader): this one says it formats R.
      const help = await helpLine(found, ['--help'], ctx);
      return help.ok && help.first.includes('R language') && help.first.includes('formatter') ? [found, 'format', '$FILE'] : undefined;
    },
  },
  onPath('rubocop', RUBY, 'rubocop', ['--autocorrect', '$FILE']),
  onPath('standardrb', RUBY, 'standardrb', ['--fix', '$FILE']),
  onPath('htmlbeautifier', ['.erb', '.html.erb'], 'htmlbeautifier', ['$FILE']),
  onPath('dart', ['.dart'], 'dart', ['format', '$FILE']),
  withMarker('ocamlformat', ['.ml', '.mli'], 'ocamlformat', ['-i', '$FILE'], ['.ocamlformat']),
  onPath('terraform', ['.tf', '.tfvars'], 'terraform', ['fmt', '$FILE']),
  onPath('latexindent', ['.tex'], 'latexindent', ['-w', '-s', '$FILE']),
  onPath('gleam', ['.gleam'], 'gleam', ['format', '$FILE']),
  onPath('shfmt', ['.sh', '.bash'], 'shfmt', ['-w', '$FILE']),
  onPath('nixfmt', ['.nix'], 'nixfmt', ['$FILE']),
  onPath('rustfmt', ['.rs'], 'rustfmt', ['$FILE']),
  {
    name: 'pint',
    extensions: ['.php'],
    async command(ctx) {
      for (const file of await findUp('composer.json', ctx)) {
        if (!dependsOn(await readJson(file), 'laravel/pint', ['require', 'require-dev'])) continue;
        const pint = path.join(path.dirname(file), 'vendor', 'bin', 'pint');
        if (await executable(pint)) return [pint, '$FILE'];
      }
      return undefined;
    },
  },
  onPath('ormolu', ['.hs'], 'ormolu', ['-i', '$FILE']),
  onPath('cljfmt', ['.clj', '.cljs', '.cljc', '.edn'], 'cljfmt', ['fix', '--quiet', '$FILE']),
  onPath('dfmt', ['.d'], 'dfmt', ['-i', '$FILE']),
];
