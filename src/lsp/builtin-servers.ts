/**
 * The language servers OpenCode 1.18 knows by name (`lsp: true` turns them on): each with the
 * extensions it takes, how it finds a file's root (the nearest marker file between the file and the
 * project root; a server with none there runs at the project root, or not at all where OpenCode says
 * so) and its command line. A server runs only when its program is found (the PATH, or a
 * `node_modules/.bin` between the file and the project root): Pantheon downloads none, where
 * OpenCode installs some (gopls, clangd, pyright...) on first use.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';
import { which, type FormatterContext } from '../format/builtin-formatters.ts';

export interface ServerContext {
  projectRoot: string;
  env: NodeJS.ProcessEnv;
}

export interface ServerLaunch {
  command: string[];
  env?: Record<string, string>;
  initialization?: Record<string, unknown>;
}

export interface ServerDefinition {
  id: string;
  /** Extensions it takes (with the dot; `Dockerfile` as a whole name); none: every file. */
  extensions: readonly string[];
  /** The folder the server runs in for a file, or undefined when it does not take the file. */
  root(file: string, ctx: ServerContext): Promise<string | undefined>;
  /** Its command line at a root, or undefined when its program (or what it needs) is not found. */
  launch(root: string, ctx: ServerContext): Promise<ServerLaunch | undefined>;
}

const LOCKFILES = ['package-lock.json', 'bun.lockb', 'bun.lock', 'pnpm-lock.yaml', 'yarn.lock'];

/** Whether a folder holds `name` (`*.ext`: any file so named). */
async function holds(folder: string, name: string): Promise<boolean> {
  if (name.startsWith('*')) {
    const entries = await fs.readdir(folder).catch(() => [] as string[]);
    return entries.some((entry) => entry.endsWith(name.slice(1)));
  }
  return fs.stat(path.join(folder, name)).then(
    () => true,
    () => false,
  );
}

/** The nearest folder from the file's up to the project root that holds one of `targets`. */
async function nearest(targets: readonly string[], file: string, projectRoot: string): Promise<string | undefined> {
  const rel = path.relative(projectRoot, path.dirname(file));
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  for (let at = path.dirname(file); ; at = path.dirname(at)) {
    for (const target of targets) if (await holds(at, target)) return at;
    if (at === projectRoot || path.dirname(at) === at) return undefined;
  }
}

/** OpenCode's usual rule: the nearest marker's folder, else the project root; none when an `excluded` marker is nearer up. */
function markers(targets: readonly string[], excluded?: readonly string[]): ServerDefinition['root'] {
  return async (file, ctx) => {
    if (excluded && (await nearest(excluded, file, ctx.projectRoot))) return undefined;
    return (await nearest(targets, file, ctx.projectRoot)) ?? ctx.projectRoot;
  };
}

const projectRootOnly: ServerDefinition['root'] = async (_file, ctx) => ctx.projectRoot;

async function find(program: string, root: string, ctx: ServerContext, local = false): Promise<string | undefined> {
  const fctx: FormatterContext = { directory: root, projectRoot: ctx.projectRoot, env: ctx.env };
  return which(program, fctx, local);
}

/** A server that is one program with fixed arguments. */
function program(id: string, extensions: readonly string[], root: ServerDefinition['root'], name: string, args: readonly string[] = [], initialization?: Record<string, unknown>): ServerDefinition {
  return {
    id,
    extensions,
    root,
    async launch(at, ctx) {
      const found = await find(name, at, ctx, true);
      return found ? { command: [found, ...args], ...(initialization ? { initialization } : {}) } : undefined;
    },
  };
}

/** Where the project's `typescript` package has its tsserver.js (resolved from the project root, as OpenCode does). */
function tsserverOf(projectRoot: string): string | undefined {
  try {
    return createRequire(path.join(projectRoot, 'package.json')).resolve('typescript/lib/tsserver.js');
  } catch {
    return undefined;
  }
}

const JS_EXTENSIONS = ['.ts', '.tsx', '.js', '.jsx', '.mjs', '.cjs', '.mts', '.cts'];

export const BUILTIN_SERVERS: readonly ServerDefinition[] = [
  {
    id: 'deno',
    extensions: ['.ts', '.tsx', '.js', '.jsx', '.mjs'],
    root: async (file, ctx) => nearest(['deno.json', 'deno.jsonc'], file, ctx.projectRoot),
    async launch(root, ctx) {
      const found = await find('deno', root, ctx);
      return found ? { command: [found, 'lsp'] } : undefined;
    },
  },
  {
    id: 'typescript',
    extensions: JS_EXTENSIONS,
    root: markers(LOCKFILES, ['deno.json', 'deno.jsonc']),
    async launch(root, ctx) {
      const tsserver = tsserverOf(ctx.projectRoot);
      const found = tsserver && (await find('typescript-language-server', root, ctx, true));
      return found ? { command: [found, '--stdio'], initialization: { tsserver: { path: tsserver } } } : undefined;
    },
  },
  program('vue', ['.vue'], markers(LOCKFILES), 'vue-language-server', ['--stdio']),
  program('biome', [...JS_EXTENSIONS, '.json', '.jsonc', '.vue', '.astro', '.svelte', '.css', '.graphql', '.gql', '.html'], markers(['biome.json', 'biome.jsonc', ...LOCKFILES]), 'biome', ['lsp-proxy', '--stdio']),
  {
    id: 'gopls',
    extensions: ['.go'],
    root: async (file, ctx) => (await nearest(['go.work'], file, ctx.projectRoot)) ?? (await nearest(['go.mod', 'go.sum'], file, ctx.projectRoot)) ?? ctx.projectRoot,
    async launch(root, ctx) {
      const found = await find('gopls', root, ctx);
      return found ? { command: [found] } : undefined;
    },
  },
  program('ruby-lsp', ['.rb', '.rake', '.gemspec', '.ru'], markers(['Gemfile']), 'rubocop', ['--lsp']),
  {
    id: 'pyright',
    extensions: ['.py', '.pyi'],
    root: markers(['pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt', 'Pipfile', 'pyrightconfig.json']),
    async launch(root, ctx) {
      const found = await find('pyright-langserver', root, ctx, true);
      if (!found) return undefined;
      const initialization: Record<string, unknown> = {};
      for (const venv of [ctx.env.VIRTUAL_ENV, path.join(root, '.venv'), path.join(root, 'venv')]) {
        if (venv && (await holds(path.join(venv, 'bin'), 'python'))) {
          initialization.pythonPath = path.join(venv, 'bin', 'python');
          break;
        }
      }
      return { command: [found, '--stdio'], initialization };
    },
  },
  program('elixir-ls', ['.ex', '.exs'], markers(['mix.exs', 'mix.lock']), 'elixir-ls'),
  program('zls', ['.zig', '.zon'], markers(['build.zig']), 'zls'),
  program('csharp', ['.cs', '.csx'], markers(['.slnx', '.sln', '.csproj', 'global.json']), 'roslyn-language-server', ['--stdio', '--autoLoadProjects']),
  program('fsharp', ['.fs', '.fsi', '.fsx', '.fsscript'], markers(['.slnx', '.sln', '.fsproj', 'global.json']), 'fsautocomplete'),
  program('sourcekit-lsp', ['.swift', '.objc', 'objcpp'], markers(['Package.swift', '*.xcodeproj', '*.xcworkspace']), 'sourcekit-lsp'),
  {
    id: 'rust',
    extensions: ['.rs'],
    async root(file, ctx) {
      const crate = await nearest(['Cargo.toml', 'Cargo.lock'], file, ctx.projectRoot);
      if (crate === undefined) return ctx.projectRoot;
      // The workspace a crate belongs to: the nearest Cargo.toml above it with a [workspace].
      for (let at = crate; at.startsWith(ctx.projectRoot); at = path.dirname(at)) {
        const manifest = await fs.readFile(path.join(at, 'Cargo.toml'), 'utf8').catch(() => '');
        if (manifest.includes('[workspace]')) return at;
        if (path.dirname(at) === at) break;
      }
      return crate;
    },
    async launch(root, ctx) {
      const found = await find('rust-analyzer', root, ctx);
      return found ? { command: [found] } : undefined;
    },
  },
  program('clangd', ['.c', '.cpp', '.cc', '.cxx', '.c++', '.h', '.hpp', '.hh', '.hxx', '.h++'], markers(['compile_commands.json', 'compile_flags.txt', '.clangd']), 'clangd', ['--background-index', '--clang-tidy']),
  program('svelte', ['.svelte'], markers(LOCKFILES), 'svelteserver', ['--stdio']),
  {
    id: 'astro',
    extensions: ['.astro'],
    root: markers(LOCKFILES),
    async launch(root, ctx) {
      const tsserver = tsserverOf(ctx.projectRoot);
      const found = tsserver && (await find('astro-ls', root, ctx, true));
      return found ? { command: [found, '--stdio'], initialization: { typescript: { tsdk: path.dirname(tsserver) } } } : undefined;
    },
  },
  program('yaml-ls', ['.yaml', '.yml'], markers(LOCKFILES), 'yaml-language-server', ['--stdio']),
  program('lua-ls', ['.lua'], markers(['.luarc.json', '.luarc.jsonc', '.luacheckrc', '.stylua.toml', 'stylua.toml', 'selene.toml', 'selene.yml']), 'lua-language-server'),
  program('php intelephense', ['.php'], markers(['composer.json', 'composer.lock', '.php-version']), 'intelephense', ['--stdio'], { telemetry: { enabled: false } }),
  program('prisma', ['.prisma'], markers(['schema.prisma', 'prisma/schema.prisma', 'prisma'], ['package.json']), 'prisma', ['language-server']),
  program('dart', ['.dart'], markers(['pubspec.yaml', 'analysis_options.yaml']), 'dart', ['language-server', '--lsp']),
  program('ocaml-lsp', ['.ml', '.mli'], markers(['dune-project', 'dune-workspace', '.merlin', 'opam']), 'ocamllsp'),
  program('bash', ['.sh', '.bash', '.zsh', '.ksh'], projectRootOnly, 'bash-language-server', ['start']),
  program('terraform', ['.tf', '.tfvars'], markers(['.terraform.lock.hcl', 'terraform.tfstate', '*.tf']), 'terraform-ls', ['serve']),
  program('texlab', ['.tex', '.bib'], markers(['.latexmkrc', 'latexmkrc', '.texlabroot', 'texlabroot']), 'texlab'),
  program('dockerfile', ['.dockerfile', 'Dockerfile'], projectRootOnly, 'docker-langserver', ['--stdio']),
  program('gleam', ['.gleam'], markers(['gleam.toml']), 'gleam', ['lsp']),
  program('clojure-lsp', ['.clj', '.cljs', '.cljc', '.edn'], markers(['deps.edn', 'project.clj', 'shadow-cljs.edn', 'bb.edn', 'build.boot']), 'clojure-lsp', ['listen']),
  program('nixd', ['.nix'], markers(['flake.nix']), 'nixd'),
  program('tinymist', ['.typ', '.typc'], markers(['typst.toml']), 'tinymist'),
  program('haskell-language-server', ['.hs', '.lhs'], markers(['stack.yaml', 'cabal.project', 'hie.yaml', '*.cabal']), 'haskell-language-server-wrapper', ['--lsp']),
  program('julials', ['.jl'], markers(['Project.toml', 'Manifest.toml', '*.jl']), 'julia', ['--startup-file=no', '--history-file=no', '-e', 'using LanguageServer; runserver()']),
];

/** OpenCode's built-ins Pantheon does not run (each needs a download or a setup OpenCode makes): named in docs/opencode-compat.md. */
export const NOT_RUN = ['eslint', 'oxlint', 'ty', 'razor', 'jdtls', 'kotlin-ls'];
