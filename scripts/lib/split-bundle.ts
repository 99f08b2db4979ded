/**
 * Code splitting for the CLI's CommonJS bundles (scripts/build-cli.ts), which esbuild does only for
 * ES modules. A bundle's start-up grows with its size whether or not a command runs the code (the
 * file is read, its code cache read and deserialized, every top-level function given V8's metadata:
 * docs/performance.md), so code a command reaches only through a dynamic `import()` it rarely takes
 * (the in-process server of a run's plugins, `openai/*` models, LSP, …) goes into side files:
 *
 * - The main file: the entry and everything it reaches except the split points, which become a
 *   module that asks the loader (src/cli/bundle-cache.ts, `__pantheonSplit`) for its side file.
 * - One side file per group (split points of one name, `<bundle>.<group>.cjs`): its split points'
 *   code that the main file does not have. What a side file imports from code the main file has
 *   (zod, the AI SDK, Pantheon's core) it takes from the main file's instances:
 *   `require('pantheon-shared:<module>')`, answered from the main file's registry for that group,
 *   which names only the exports the side file uses (so the main file keeps no more than those).
 *   An import of another group's split point goes through that group's loader.
 * - A module of Pantheon's own that two groups need goes to the main file, so that no module has
 *   two copies (two copies of its state); a package's is copied into each side file.
 *
 * A split point is a dynamic `import()` of a file under the project (`src/…`) or of a package
 * specifier, or a project file that only side files import. The build fails when a split point is
 * reached by a static import of the main file's (splitting it would only add a file).
 */
import path from 'node:path';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

/** A split point: a dynamic import's target, a project file (`src/lsp/lsp.ts`) or a package specifier (`diff`). */
export interface SplitPoint {
  /** Its group's name (letters, digits, `-`): split points of one name share a side file, `<bundle>.<name>.cjs`. */
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
/** The registry key of a split point's loader (a side file's import of another group's split point). */
const SPLIT_KEY = 'split:';
const LOADER = 'pantheon-split-loader:';
const SHARED_IMPORT = 'pantheon-shared-import';
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
    if (key.startsWith(SPLIT_KEY)) {
      props.push(`${JSON.stringify(key)}: () => require(${JSON.stringify(`${LOADER}${key.slice(SPLIT_KEY.length)}`)})`);
    } else if (formats.get(use.file) === 'cjs') {
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
  const spec = `"${SHARED}([^"]+)"`;
  // In the order the side file names them (esbuild's output is deterministic; the order in which
  // imports were resolved is not): the registry initializes its modules in this order, and the main
  // file's code, whose hash keys every code cache, must be the same for the same tree.
  for (const m of esm.matchAll(new RegExp(spec, 'g'))) if (used.has(m[1] as string)) use(m[1] as string);
  for (const key of [...used.keys()].sort()) use(key);
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
  for (const m of esm.matchAll(new RegExp(`(?:require\\(|\\bimport\\(|\\bexport\\s[^;]*?from\\s*)${spec}`, 'g'))) use(m[1] as string).whole = true;
  return registry;
}

/**
 * Checks a group's registry (read from the side file's ES-module build, `sharedUses`) against what
 * its CommonJS side file reads of each shared module (`import_x.name`): a name the registry lacks
 * would be `undefined` at run time (`… is not a function`), so the build fails naming it instead.
 */
export function checkSharedUses(cjs: string, registry: ReadonlyMap<string, { names: ReadonlySet<string>; whole: boolean }>, group: string, formats: ReadonlyMap<string, string | undefined> = new Map()): void {
  const keyOf = new Map<string, string>();
  for (const m of cjs.matchAll(/\b(import_[\w$]+)=(?:__toESM\()?require\("pantheon-shared:([^"]+)"\)/g)) keyOf.set(m[1] as string, m[2] as string);
  for (const m of cjs.matchAll(/\b(import_[\w$]+)\.([\w$]+)/g)) {
    const key = keyOf.get(m[1] as string);
    if (key === undefined || key.startsWith(SPLIT_KEY)) continue;
    const use = registry.get(key);
    if (use && (use.whole || use.names.has(m[2] as string) || formats.get((use as Partial<SharedUse>).file ?? '') === 'cjs')) continue;
    throw new Error(`the ${group} side file reads ${m[2]} of ${key}, which its registry does not give (an import the build did not read): check scripts/lib/split-bundle.ts's sharedUses against esbuild's output`);
  }
}

/**
 * The main build's plugin: a dynamic import of a split point becomes a module that loads it from its
 * side file (`groupOf` known: the final build) or nothing (the first build, which finds the main file's modules).
 */
function splitPointsPlugin(root: string, points: readonly SplitPoint[], groupOf: Map<string, string> | undefined, registries: Map<string, Registry>, formats: Map<string, string | undefined>, files: Map<string, string>, promoted: ReadonlySet<string> = new Set(), exportsOf: Map<string, string[]> = new Map()): Plugin {
  const byTarget = new Map(points.map((p) => [p.target.startsWith('src/') ? path.join(root, p.target) : p.target, p]));
  return {
    name: 'split-points',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || skipping(args.pluginData)) return undefined;
        const { file } = await resolveFile(b, args);
        const point = byTarget.get(args.path) ?? byTarget.get(file ?? '');
        if (!point) return undefined;
        if (file) files.set(point.target, file);
        return { path: point.target, namespace: SPLIT_NS };
      });
      b.onResolve({ filter: new RegExp(`^${REGISTRY}:`) }, (args) => ({ path: args.path, namespace: SPLIT_NS }));
      // A registry's entry for a split point a side file imports from another group.
      b.onResolve({ filter: new RegExp(`^${LOADER}`) }, (args) => ({ path: args.path.slice(LOADER.length), namespace: SPLIT_NS }));
      b.onLoad({ filter: /.*/, namespace: SPLIT_NS }, (args) => {
        if (args.path.startsWith(`${REGISTRY}:`)) return { contents: registrySource(registries.get(args.path.slice(REGISTRY.length + 1)) ?? new Map(), formats), loader: 'js', resolveDir: root };
        const group = groupOf?.get(args.path);
        // The first builds: nothing, but the modules side files have in common, which the main file must have.
        const promotedHere = [...promoted].map((file) => `require(${JSON.stringify(file)});`).join('\n');
        if (!group) return { contents: `module.exports = { promoted() {\n${promotedHere}\n} };\n`, loader: 'js', resolveDir: root };
        const load = `__pantheonSplit(${JSON.stringify(group)}, require(${JSON.stringify(`${REGISTRY}:${group}`)}).shared).entries[${JSON.stringify(args.path)}]()`;
        // A module with a default export (a package's, mostly): as an ES module naming its exports, for
        // an ES module's `import()` of a CommonJS one gets `module.exports` itself as its default (Node's rule, which esbuild follows).
        const names = exportsOf.get(args.path);
        const contents = names?.includes('default')
          ? `const m = ${load};\nexport default m.default;\n${names.filter((n) => n !== 'default' && IDENT.test(n)).map((n) => `export const ${n} = m.${n};\n`).join('')}`
          : `module.exports = ${load};\n`;
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

/**
 * A side build's plugin: an import of a file the main file has becomes `require('pantheon-shared:<key>')`,
 * and an import of another group's split point `require('pantheon-shared:split:<target>')`, which
 * the main file answers with that split point's loader (its side file, loaded then).
 */
function sharedModulesPlugin(root: string, mainFiles: Set<string>, used: Map<string, string>, entry: string, elsewhere: Map<string, string>, atInit = new Set<string>()): Plugin {
  return {
    name: 'shared-modules',
    setup(b) {
      // An `import()` of a shared module would go to Node's loader as it is: a module that requires it instead.
      const taken = (key: string, kind: string) => (kind === 'dynamic-import' ? { path: `${key}.cjs`, namespace: SHARED_IMPORT } : { path: `${SHARED}${key}`, external: true });
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (skipping(args.pluginData) || args.kind === 'entry-point' || args.namespace === SHARED_IMPORT) return undefined;
        const { file } = await resolveFile(b, args);
        const target = file === undefined || file === entry ? undefined : elsewhere.get(file);
        if (target !== undefined) {
          used.set(`${SPLIT_KEY}${target}`, '');
          // Required while the side file's module starts (not when an `import()` runs): the other group's side file starts then too.
          if (args.kind !== 'dynamic-import') atInit.add(target);
          return taken(`${SPLIT_KEY}${target}`, args.kind);
        }
        if (!file || file === entry || !mainFiles.has(file) || !sharedFile(file)) return undefined;
        const key = sharedKey(file, root);
        used.set(key, file);
        return taken(key, args.kind);
      });
      b.onResolve({ filter: /.*/, namespace: SHARED_IMPORT }, (args) => ({ path: args.path, external: true }));
      b.onLoad({ filter: /.*/, namespace: SHARED_IMPORT }, (args) => ({ contents: `module.exports = require(${JSON.stringify(`${SHARED}${args.path.slice(0, -'.cjs'.length)}`)});\n`, loader: 'js' }));
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
        contents: `export const entries = {\n${group.map((p) => `${JSON.stringify(p.target)}: () => require(${JSON.stringify(files.get(p.target))})`).join(',\n')}\n};\n`,
        loader: 'js',
        resolveDir: root,
      }));
    },
  };
}

/** Groups split points by name, in the order first named. */
function groupPoints(points: readonly SplitPoint[]): SplitPoint[][] {
  const groups = new Map<string, SplitPoint[]>();
  for (const p of points) groups.set(p.name, [...(groups.get(p.name) ?? []), p]);
  return [...groups.values()];
}

/**
 * The modules of Pantheon's own that two groups' side code has in common: they go to the main file,
 * so that each has one copy (one state). A package's module two groups need is in each side file:
 * packages are stateless libraries here, and taking one from the main file would make every run load it.
 */
function ownInCommon(points: readonly SplitPoint[], own: Map<string, Set<string>>): Set<string> {
  const groupOfFile = new Map<string, string>();
  const common = new Set<string>();
  for (const p of points) {
    for (const file of own.get(p.target) ?? []) {
      if (file.includes(`${path.sep}node_modules${path.sep}`)) continue;
      const other = groupOfFile.get(file);
      if (other === undefined) groupOfFile.set(file, p.name);
      else if (other !== p.name) common.add(file);
    }
  }
  return common;
}

/**
 * Fails on groups whose side files require each other as they start (a static import, however
 * indirect): the second to start gets the first's exports before they are set (esbuild's CommonJS
 * modules hand out their unfinished exports to a cycle), and calls to them fail at run time as
 * `… is not a function`. Dynamic imports between groups are fine: both have started by then.
 */
function refuseCycles(atInit: Map<string, Set<string>>, groupOf: Map<string, string>): void {
  const edges = new Map([...atInit].map(([group, targets]) => [group, [...new Set([...targets].map((t) => groupOf.get(t) as string))].sort()]));
  const done = new Set<string>();
  const visit = (group: string, path: string[]): void => {
    const at = path.indexOf(group);
    if (at >= 0) {
      const cycle = [...path.slice(at), group];
      const names = [...new Set(cycle)];
      throw new Error(`split groups ${names.slice(0, -1).join(', ')}${names.length > 2 ? ',' : ''} and ${names.at(-1)} import each other (${cycle.join(' \u2192 ')}): give their split points one name, or make one of the imports dynamic`);
    }
    if (done.has(group)) return;
    for (const next of edges.get(group) ?? []) visit(next, [...path, group]);
    done.add(group);
  };
  for (const group of edges.keys()) visit(group, []);
}

/** A bundle's code as the function the loader compiles (src/cli/bundle-cache.ts): CommonJS's arguments, the bundle's URL and its side files' loader. */
export function asLoaderFunction(code: string): string {
  return `(function (exports, require, module, __filename, __dirname, __pantheonUrl, __pantheonSplit) {${code}\n})`;
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
  const files = new Map<string, string>();
  const exportsOf = new Map<string, string[]>();
  const promoted = new Set<string>();
  let mainFiles: Set<string>;
  let formats: Map<string, string | undefined>;
  let targetOf: Map<string, string>;
  for (let round = 1; ; round++) {
    // 1. The main file without its split points: the modules it has, and the file each split point names.
    const first = await build({ ...options, metafile: true, plugins: [splitPointsPlugin(root, points, undefined, registries, new Map(), files, promoted), ...plugins] });
    mainFiles = filesOf(first.metafile, cwd);
    formats = new Map(Object.entries(first.metafile.inputs).map(([k, v]) => [path.resolve(cwd, k), v.format]));
    for (const p of points) {
      // A split point only side files import (statically or not): its loader is theirs.
      if (!files.has(p.target) && p.target.startsWith('src/')) files.set(p.target, path.join(root, p.target));
      const file = files.get(p.target);
      if (!file) throw new Error(`split point ${p.target}: no dynamic import of it in ${String(options.entryPoints[0])}'s bundle; drop it from the list`);
      if (mainFiles.has(file)) throw new Error(`split point ${p.target} is imported statically too; split it where that import is, or drop it`);
    }
    // 2. What each split point brings that the main file does not have (other split points' code is theirs).
    targetOf = new Map([...files].map(([target, file]) => [file, target]));
    const own = new Map<string, Set<string>>();
    for (const p of points) {
      const entry = files.get(p.target) as string;
      // As an ES module: its metafile names the split point's exports.
      const probe = await build({ ...options, format: 'esm', logLevel: 'error', entryPoints: [entry], metafile: true, plugins: [sharedModulesPlugin(root, mainFiles, new Map(), entry, targetOf), ...plugins] });
      exportsOf.set(p.target, Object.values(probe.metafile.outputs)[0]?.exports ?? []);
      own.set(p.target, new Set([...filesOf(probe.metafile, cwd)].filter((f) => !mainFiles.has(f))));
    }
    const common = ownInCommon(points, own);
    if (common.size === 0) break;
    // SPLIT_REPORT=1 npm run build: what the main file takes in for its side files.
    if (process.env.SPLIT_REPORT) process.stdout.write(`split: into the main file, needed by two groups: ${[...common].map((f) => path.relative(root, f)).join(', ')}\n`);
    if (round === 4) throw new Error(`split points still share code after ${round} rounds: ${[...common].join(', ')}`);
    for (const file of common) promoted.add(file);
  }
  // 3. One side file per group; the shared modules they take from the main file.
  const groups = groupPoints(points);
  const groupOf = new Map<string, string>();
  const sides: { group: string; code: string }[] = [];
  // The other groups' split points each group's side file requires as it starts.
  const atInit = new Map<string, Set<string>>();
  for (const group of groups) {
    const name = (group[0] as SplitPoint).name;
    for (const p of group) groupOf.set(p.target, name);
    const used = new Map<string, string>();
    const needs = new Set<string>();
    atInit.set(name, needs);
    const others = new Map([...targetOf].filter(([, target]) => !group.some((p) => p.target === target)));
    const sideOptions = { ...options, entryPoints: ['pantheon-group'], plugins: [groupEntry(root, group, files), sharedModulesPlugin(root, mainFiles, used, '', others, needs), ...plugins] };
    const result = await build(sideOptions);
    sides.push({ group: name, code: codeOf(result, `the ${name} side file`) });
    const esm = await build({ ...sideOptions, format: 'esm', minifySyntax: false, minifyWhitespace: false, logLevel: 'silent' });
    const registry = sharedUses(codeOf(esm, `the ${name} side file (ES module)`), used);
    checkSharedUses(sides.at(-1)?.code ?? '', registry, name, formats);
    registries.set(name, registry);
  }
  refuseCycles(atInit, groupOf);
  // 4. The main file with its loader modules and each group's registry of what its side file shares.
  const final = await build({ ...options, plugins: [splitPointsPlugin(root, points, groupOf, registries, formats, new Map(), new Set(), exportsOf), ...plugins] });
  return { main: codeOf(final, String(options.entryPoints[0])), sides };
}
