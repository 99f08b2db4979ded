/**
 * How plugins' and custom tools' modules load on Node as on OpenCode's Bun:
 * - `@opencode-ai/plugin` (and `/tool`), and `zod`, resolve to Pantheon's own when the project has
 *   not installed them (OpenCode installs `@opencode-ai/plugin` into each `.opencode` folder; a
 *   project that never ran OpenCode has none). Pantheon's `tool()` is OpenCode's: the definition as
 *   given, with `tool.schema` zod 4.
 * - TypeScript Node cannot run by stripping types alone (enums, namespaces, parameter properties),
 *   and TypeScript inside `node_modules` (Bun runs a package's `.ts` as it is), is transformed.
 * Installed once per process, with Node's in-thread module hooks (22.15+; on older Node the
 * fallbacks are missing and a plugin needs its imports installed).
 */
import { readFileSync } from 'node:fs';
import module from 'node:module';

const SCHEME = 'pantheon-plugin:';
/** What resolves to Pantheon's own when the importer cannot find it. */
const FALLBACKS: Record<string, string> = {
  '@opencode-ai/plugin': `${SCHEME}plugin`,
  '@opencode-ai/plugin/tool': `${SCHEME}plugin`,
  zod: `${SCHEME}zod`,
  'zod/v4': `${SCHEME}zod`,
};
const ZOD_KEY = Symbol.for('pantheon.plugins.zod');
const TS = /\.(?:ts|mts|cts)$/;

let installed = false;

/** Installs the hooks (once); `zod` is the zod Pantheon hands out as `tool.schema`. */
export function installModuleHooks(zod: Record<string, unknown>): boolean {
  if (installed) return true;
  const register = (module as { registerHooks?: (hooks: object) => unknown }).registerHooks;
  if (typeof register !== 'function') return false;
  (globalThis as Record<symbol, unknown>)[ZOD_KEY] = zod;
  register.call(module, { resolve, load });
  quietTypelessPackages();
  installed = true;
  return true;
}

type Next<T> = (specifier: string, context: unknown) => T;
interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface Loaded {
  format?: string | null;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}

/** What Bun finds for a relative import without its extension (`./lib/util` → `./lib/util.ts`), tried in order. */
const EXTENSIONLESS = ['.ts', '.js', '.mts', '.mjs', '/index.ts', '/index.js'];

function resolve(specifier: string, context: unknown, next: Next<Resolved>): Resolved {
  try {
    return next(specifier, context);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT') && /^\.\.?\//.test(specifier) && !/\.[cm]?[jt]s$/.test(specifier)) {
      for (const extension of EXTENSIONLESS) {
        try {
          return next(specifier.replace(/\/$/, '') + extension, context);
        } catch {
          // the next one
        }
      }
    }
    const fallback = Object.hasOwn(FALLBACKS, specifier) ? FALLBACKS[specifier] : undefined;
    if (fallback && code === 'ERR_MODULE_NOT_FOUND') return { url: fallback, format: 'module', shortCircuit: true };
    throw error;
  }
}

function load(url: string, context: unknown, next: Next<Loaded>): Loaded {
  if (url.startsWith(SCHEME)) return { format: 'module', source: url === `${SCHEME}zod` ? zodSource() : PLUGIN_SOURCE, shortCircuit: true };
  let loaded: Loaded;
  try {
    loaded = next(url, context);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const transformable = code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' || code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING';
    if (!transformable || !url.startsWith('file:') || !TS.test(new URL(url).pathname)) throw error;
    return { format: url.endsWith('.cts') ? 'commonjs' : 'module', source: transformTypeScript(readFileSync(new URL(url), 'utf8'), url), shortCircuit: true };
  }
  // Node 24 refuses a package's TypeScript only as it translates it, after this hook (opencode-gemini-auth
  // ships its index.ts): transformed here instead.
  const typescript = loaded.format === 'module-typescript' || loaded.format === 'commonjs-typescript';
  if (typescript && url.startsWith('file:') && url.includes('/node_modules/')) {
    const source = typeof loaded.source === 'string' ? loaded.source : loaded.source ? new TextDecoder().decode(loaded.source) : readFileSync(new URL(url), 'utf8');
    return { format: loaded.format === 'commonjs-typescript' ? 'commonjs' : 'module', source: transformTypeScript(source, url), shortCircuit: true };
  }
  return loaded;
}

/**
 * OpenCode writes `.opencode/package.json` without a `"type"` (it installs `@opencode-ai/plugin`
 * there), and Bun runs the ES modules beside it as they are: Node runs them too, after a warning of
 * several lines for each file (MODULE_TYPELESS_PACKAGE_JSON), which is left out.
 */
function quietTypelessPackages(): void {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const options = rest[0];
    const code = typeof options === 'object' && options !== null ? (options as { code?: unknown }).code : typeof rest[1] === 'string' ? rest[1] : (warning as { code?: unknown }).code;
    if (code !== 'MODULE_TYPELESS_PACKAGE_JSON') (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
}

/** TypeScript to JavaScript by Node's own transform (its experimental-feature warning left out). */
function transformTypeScript(source: string, url: string): string {
  const strip = (module as unknown as { stripTypeScriptTypes: (code: string, options: object) => string }).stripTypeScriptTypes;
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!text.startsWith('stripTypeScriptTypes')) (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return strip(source, { mode: 'transform', sourceUrl: url });
  } finally {
    process.emitWarning = emit;
  }
}

const PLUGIN_SOURCE = `const z = globalThis[Symbol.for('pantheon.plugins.zod')];
export function tool(input) { return input; }
tool.schema = z;
`;

/** zod's exports by name (`import { z, string, enum as e } from "zod"`), and as its default. */
function zodSource(): string {
  const zod = (globalThis as Record<symbol, Record<string, unknown>>)[ZOD_KEY] ?? {};
  const names = Object.keys(zod).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
  const lines = names.map((name, i) => `const _${i} = zod[${JSON.stringify(name)}];\nexport { _${i} as ${name} };`);
  return `const zod = globalThis[Symbol.for('pantheon.plugins.zod')];\n${lines.join('\n')}\nexport default zod.z ?? zod;\n`;
}
