/**
 * Code splitting for the CLI's CommonJS bundles (scripts/build-cli.ts), which esbuild does only for
 * ES modules. A bundle's start-up grows with its size whether or not a command runs the code (the
 * file is read, its code cache read and deserialized, every top-level function given V8's metadata:
 * docs/performance.md), so code a command reaches only through a dynamic `import()` it rarely takes
 * (the in-process server of a run's plugins, `openai/*` models, LSP, …) goes into side files:
 *
 * - The main file: the entry and everything it reaches except the split points, which become a
 *   module that asks the loader (src/cli/bundle-cache.ts, `__pantheonSplit`) for its side file.
 * - One side file per group of split points (`<bundle>.<group>.cjs`): a split point's code that the
 *   main file does not have. Split points whose code overlaps share a group, so no module has two
 *   copies (two copies of a module would mean two copies of its state). What a side file imports
 *   from code the main file has (zod, the AI SDK, Pantheon's core) it takes from the main file's
 *   instances: `require('pantheon-shared:<module>')`, answered from the main file's registry.
 *
 * A split point is a dynamic `import()` of a file under the project (`src/…`) or of a package
 * specifier. The build fails when a split point is reached by a static import too (splitting it
 * would only add a file).
 */
import path from 'node:path';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

/** A split point: a dynamic import's target, a project file (`src/lsp/lsp.ts`) or a package specifier (`diff`). */
export interface SplitPoint {
  /** The side file's group name when it heads its group (letters, digits, `-`). */
  name: string;
  target: string;
}

export interface SplitResult {
  /** The main file's code. */
  main: string;
  /** Each group's side file: its name and code. */
  sides: { group: string; code: string }[];
}

const SPLIT_NS = 'pantheon-split';
const REGISTRY = 'pantheon-registry';
const SHARED = 'pantheon-shared:';
const SKIP = Symbol('split-bundle-resolving');

interface Resolved {
  /** The absolute path of a file module, or undefined for a virtual, external or unresolved one. */
  file?: string;
}

/** Resolves what an import names, through the build's other plugins, with this plugin stepping aside. */
async function resolveFile(b: Parameters<Plugin['setup']>[0], args: { path: string; importer: string; resolveDir: string; kind: string; pluginData?: unknown }): Promise<Resolved> {
  const r = await b.resolve(args.path, { importer: args.importer, resolveDir: args.resolveDir, kind: args.kind as never, pluginData: { [SKIP]: true } });
  if (r.errors.length || r.external || r.namespace !== 'file') return {};
  return { file: r.path };
}

const skipping = (pluginData: unknown) => typeof pluginData === 'object' && pluginData !== null && SKIP in pluginData;

/** The absolute file of each metafile input in the `file` namespace. */
function filesOf(meta: Metafile, cwd: string): Set<string> {
  return new Set(Object.keys(meta.inputs).filter((k) => !/^[\w-]+:/.test(k)).map((k) => path.resolve(cwd, k)));
}

/** A module's name in side files and the registry: its path inside its package, or under the project. */
function sharedKey(file: string, root: string): string {
  const at = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  return (at >= 0 ? file.slice(at + 1) : path.relative(root, file)).split(path.sep).join('/');
}

/** What a side file takes from one module of the main file: the names it imports, or the whole module. */
interface SharedUse {
  file: string;
  names: Set<string>;
  whole: boolean;
}

/** A group's registry: each module its side file takes from the main file, by key. */
type Registry = Map<string, SharedUse>;

const IDENT = /^[A-Za-z_$][\w$]*$/;
const nameOf = (n: string) => (IDENT.test(n) ? n : JSON.stringify(n));

/**
 * A group's registry module: for each shared module, an object with a getter for each name the side
 * file imports (live bindings, and esbuild keeps only those exports), the module's namespace when
 * the side file takes it whole, or `module.exports` for a CommonJS file.
 */
function registrySource(registry: Registry, formats: Map<string, string | undefined>): string {
  const lines: string[] = [];
  const props: string[] = [];
  [...registry].forEach(([key, use], i) => {
    const file = JSON.stringify(use.file);
    if (formats.get(use.file) === 'cjs') {
      props.push(`${JSON.stringify(key)}: () => require(${file})`);
    } else if (use.whole) {
      lines.push(`import * as m${i} from ${file};`);
      props.push(`${JSON.stringify(key)}: () => m${i}`);
    } else {
      const names = [...use.names];
      lines.push(names.length ? `import { ${names.map((n, j) => `${nameOf(n)} as m${i}_${j}`).join(', ')} } from ${file};` : `import ${file};`);
      props.push(`${JSON.stringify(key)}: () => ({ __esModule: true${names.map((n, j) => `, get ${nameOf(n)}() { return m${i}_${j}; }`).join('')} })`);
    }
  });
  return `${lines.join('\n')}\nexport const shared = {\n${props.join(',\n')}\n};\n`;
}

/**
 * The names a side file imports from each shared module, read from an ES-module build of it, where
 * esbuild writes each external import as an `import` statement (a namespace, `require` or
 * re-export of one takes it whole).
 */
function sharedUses(esm: string, used: Map<string, string>): Registry {
  const registry: Registry = new Map();
  const use = (key: string) => {
    let u = registry.get(key);
    if (!u) {
      u = { file: used.get(key) as string, names: new Set(), whole: false };
      registry.set(key, u);
    }
    return u;
  };
  for (const key of used.keys()) use(key);
  const spec = `"${SHARED}([^"]+)"`;
  for (const m of esm.matchAll(new RegExp(`\\bimport\\s+([^;]*?)\\s*from\\s*${spec}`, 'g'))) {
    const u = use(m[2] as string);
    const clause = (m[1] as string).trim();
    if (clause.includes('*')) u.whole = true;
    const braces = /\{([^}]*)\}/.exec(clause);
    for (const item of (braces?.[1] ?? '').split(',')) {
      const name = item.trim().split(/\s+as\s+/)[0]?.replace(/^"|"$/g, '');
      if (name) u.names.add(name);
    }
    const def = clause.replace(/\{[^}]*\}/, '').split(',')[0]?.trim();
    if (def && !def.startsWith('*')) u.names.add('default');
  }
  for (const m of esm.matchAll(new RegExp(`(?:\\brequire\\(|\\bimport\\(|\\bexport\\s[^;]*?from\\s*)${spec}`, 'g'))) use(m[1] as string).whole = true;
  return registry;
}

/**
 * The main build's plugin: a dynamic import of a split point becomes a module that loads it from its
 * side file (`groupOf` known: the final build) or nothing (the first build, which finds the main file's modules).
 */
function splitPointsPlugin(root: string, points: readonly SplitPoint[], groupOf: Map<string, string> | undefined, registries: Map<string, Registry>, formats: Map<string, string | undefined>, files: Map<string, string>): Plugin {
  const byTarget = new Map(points.map((p) => [p.target.startsWith('src/') ? path.join(root, p.target) : p.target, p]));
  return {
    name: 'split-points',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || skipping(args.pluginData)) return undefined;
        const { file } = await resolveFile(b, args);
        const point = byTarget.get(args.path) ?? byTarget.get(file ?? '');
        if (!point) return undefined;
        if (file) files.set(point.name, file);
        return { path: point.name, namespace: SPLIT_NS };
      });
      b.onResolve({ filter: new RegExp(`^${REGISTRY}:`) }, (args) => ({ path: args.path, namespace: SPLIT_NS }));
      b.onLoad({ filter: /.*/, namespace: SPLIT_NS }, (args) => {
        if (args.path.startsWith(`${REGISTRY}:`)) return { contents: registrySource(registries.get(args.path.slice(REGISTRY.length + 1)) ?? new Map(), formats), loader: 'js', resolveDir: root };
        const group = groupOf?.get(args.path);
        const contents = group ? `module.exports = __pantheonSplit(${JSON.stringify(group)}, require(${JSON.stringify(`${REGISTRY}:${group}`)}).shared).entries[${JSON.stringify(args.path)}]();\n` : 'module.exports = {};\n';
        return { contents, loader: 'js', resolveDir: root };
      });
    },
  };
}

/**
 * Packages a side file bundles its own copy of rather than taking the main file's: taking a module
 * from the main file makes the main file keep every export a side file uses, which every run then
 * reads and compiles, where a copy costs only the side file's size. For small packages with no
 * state of their own whose needed parts the main file lacks (jsonc-parser's editing, which the
 * server's config routes use and a run never does). Pantheon's own modules are always taken from
 * the main file: their state must be one.
 */
const COPIED_PACKAGES = new Set(['jsonc-parser']);

function sharedFile(file: string): boolean {
  const at = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (at < 0) return true;
  const parts = file.slice(at + '/node_modules/'.length).split(path.sep);
  return !COPIED_PACKAGES.has((parts[0] ?? '').startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? ''));
}

/** A side build's plugin: an import of a file the main file has becomes `require('pantheon-shared:<key>')`. */
function sharedModulesPlugin(root: string, mainFiles: Set<string>, used: Map<string, string>, entry: string): Plugin {
  return {
    name: 'shared-modules',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (skipping(args.pluginData) || args.kind === 'entry-point') return undefined;
        const { file } = await resolveFile(b, args);
        if (!file || file === entry || !mainFiles.has(file) || !sharedFile(file)) return undefined;
        const key = sharedKey(file, root);
        used.set(key, file);
        return { path: `${SHARED}${key}`, external: true };
      });
    },
  };
}

/** The side entry of a group: each split point, evaluated when first asked for. */
function groupEntry(root: string, group: readonly SplitPoint[], files: Map<string, string>): Plugin {
  return {
    name: 'group-entry',
    setup(b) {
      b.onResolve({ filter: /^pantheon-group$/ }, () => ({ path: 'pantheon-group', namespace: 'pantheon-group' }));
      b.onLoad({ filter: /.*/, namespace: 'pantheon-group' }, () => ({
        contents: `export const entries = {\n${group.map((p) => `${JSON.stringify(p.name)}: () => require(${JSON.stringify(files.get(p.name))})`).join(',\n')}\n};\n`,
        loader: 'js',
        resolveDir: root,
      }));
    },
  };
}

/** Groups split points whose side code overlaps (union–find over the modules each would bring). */
function groupPoints(points: readonly SplitPoint[], own: Map<string, Set<string>>): SplitPoint[][] {
  const parent = points.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i] as number)));
  const firstOwner = new Map<string, number>();
  points.forEach((p, i) => {
    for (const file of own.get(p.name) ?? []) {
      const j = firstOwner.get(file);
      if (j === undefined) firstOwner.set(file, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, SplitPoint[]>();
  points.forEach((p, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), p]));
  return [...groups.values()];
}

function codeOf(result: { outputFiles?: { text: string }[] }, what: string): string {
  const code = result.outputFiles?.[0]?.text;
  if (!code) throw new Error(`esbuild wrote no bundle for ${what}`);
  return code;
}

/**
 * Builds `options.entryPoints[0]` as a main file and side files for `points` (esbuild `options`
 * with `bundle`, `format: 'cjs'`, `write: false`; the plugins given run after this module's own).
 */
export async function buildSplit(root: string, options: BuildOptions & { entryPoints: string[] }, points: readonly SplitPoint[]): Promise<SplitResult> {
  const plugins = options.plugins ?? [];
  const cwd = options.absWorkingDir ?? process.cwd();
  const registries = new Map<string, Registry>();
  // 1. The main file without its split points: the modules it has, and the file each split point names.
  const files = new Map<string, string>();
  const first = await build({ ...options, metafile: true, plugins: [splitPointsPlugin(root, points, undefined, registries, new Map(), files), ...plugins] });
  const mainFiles = filesOf(first.metafile, cwd);
  const formats = new Map(Object.entries(first.metafile.inputs).map(([k, v]) => [path.resolve(cwd, k), v.format]));
  for (const p of points) {
    const file = files.get(p.name);
    if (!file) throw new Error(`split point ${p.target}: no dynamic import of it in ${String(options.entryPoints[0])}'s bundle; drop it from the list`);
    if (mainFiles.has(file)) throw new Error(`split point ${p.target} is imported statically too; split it where that import is, or drop it`);
  }
  // 2. What each split point brings that the main file does not have.
  const own = new Map<string, Set<string>>();
  for (const p of points) {
    const entry = files.get(p.name) as string;
    const probe = await build({ ...options, entryPoints: [entry], metafile: true, plugins: [sharedModulesPlugin(root, mainFiles, new Map(), entry), ...plugins] });
    own.set(p.name, new Set([...filesOf(probe.metafile, cwd)].filter((f) => !mainFiles.has(f))));
  }
  // 3. One side file per group; the shared modules they take from the main file.
  const groups = groupPoints(points, own);
  const groupOf = new Map<string, string>();
  const sides: { group: string; code: string }[] = [];
  for (const group of groups) {
    const name = (group[0] as SplitPoint).name;
    for (const p of group) groupOf.set(p.name, name);
    const used = new Map<string, string>();
    const sideOptions = { ...options, entryPoints: ['pantheon-group'], plugins: [groupEntry(root, group, files), sharedModulesPlugin(root, mainFiles, used, ''), ...plugins] };
    const result = await build(sideOptions);
    sides.push({ group: name, code: codeOf(result, `the ${name} side file`) });
    const esm = await build({ ...sideOptions, format: 'esm', minifySyntax: false, minifyWhitespace: false, logLevel: 'silent' });
    registries.set(name, sharedUses(codeOf(esm, `the ${name} side file (ES module)`), used));
  }
  // 4. The main file with its loader modules and each group's registry of what its side file shares.
  const final = await build({ ...options, plugins: [splitPointsPlugin(root, points, groupOf, registries, formats, new Map()), ...plugins] });
  return { main: codeOf(final, String(options.entryPoints[0])), sides };
}
