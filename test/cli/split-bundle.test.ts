/**
 * The run bundle's code splitting (scripts/lib/split-bundle.ts) on a small project of its own, built
 * with esbuild and loaded as bin/opencode.js loads a bundle (src/cli/bundle-cache.ts): side files
 * load when a split point is first imported, take the main file's modules (one state), reach
 * another group's split point through its loader, and a module two groups need is the main file's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asLoaderFunction, buildSplit, checkSharedUses, type SplitPoint } from '../../scripts/lib/split-bundle.ts';
import { loadBundle } from '../../src/cli/bundle-cache.ts';

const SOURCES: Record<string, string> = {
  // The main file's module with state: one counter, whoever bumps it.
  'src/state.ts': `let n = 0;\nexport const bump = () => ++n;\nexport const count = () => n;\n`,
  // Needed by both groups, by neither the main file: the main file's once built.
  'src/common.ts': `let calls = 0;\nconst label = 'COMMON-MARKER';\nexport const helper = () => (label ? ++calls : 0);\nexport const twice = (x: number) => 2 * x;\nexport const unused = () => 'COMMON-UNUSED-EXPORT';\n`,
  // Takes a name from common.ts that side-b does not (each group's registry has its own names), and
  // imports a module of the main file dynamically too: the main file's instance, not Node's loader.
  'src/side-a.ts': `import { bump } from './state.ts';\nimport { helper, twice } from './common.ts';\nexport const name = 'SIDE-A-MARKER';\nexport function run() { bump(); return twice(helper()); }\nexport async function later() { return (await import('./state.ts')).count(); }\n`,
  // Imports the other group's split point statically: through that group's loader.
  'src/side-b.ts': `import { bump } from './state.ts';\nimport { helper } from './common.ts';\nimport { name } from './side-a.ts';\nimport { createPatch } from 'tiny-pkg';\nexport function run() { bump(); return [helper(), name, createPatch()]; }\n`,
  'src/main.ts': `import { count } from './state.ts';
export async function main() {
  const before = count();
  const b = await import('./side-b.ts');
  const fromB = b.run();
  const a = await import('./side-a.ts');
  const fromA = a.run();
  const { default: greet, twice } = await import('greet-pkg');
  globalThis.__splitResult = { before, fromB, fromA, count: count(), later: await a.later(), greet: greet() + twice(2) };
}
`,
  'node_modules/tiny-pkg/package.json': JSON.stringify({ name: 'tiny-pkg', version: '1.0.0', main: 'index.js' }),
  'node_modules/tiny-pkg/index.js': `exports.createPatch = () => 'PKG-MARKER';\n`,
  // An ES module package with a default export, imported dynamically by an ES module (as @inquirer/confirm is).
  'node_modules/greet-pkg/package.json': JSON.stringify({ name: 'greet-pkg', version: '1.0.0', type: 'module', main: 'index.js' }),
  'node_modules/greet-pkg/index.js': `export default function greet() { return 'GREET-MARKER'; }\nexport const twice = (x) => 2 * x;\n`,
  'package.json': JSON.stringify({ name: 'fixture', type: 'module' }),
};

const POINTS: SplitPoint[] = [
  { name: 'a', target: 'src/side-a.ts' },
  { name: 'b', target: 'src/side-b.ts' },
  { name: 'greet', target: 'greet-pkg' },
];

describe('code splitting of a CommonJS bundle', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-split-'));
    for (const [file, text] of Object.entries(SOURCES)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const build = (points: SplitPoint[], entry = 'src/main.ts', plugins: Plugin[] = []) =>
    buildSplit(root, { entryPoints: [path.join(root, entry)], absWorkingDir: root, bundle: true, write: false, outfile: path.join(root, 'out', 'main.cjs'), format: 'cjs', platform: 'node', target: 'node22', logLevel: 'silent', plugins }, points);

  it('loads side files on first import, with one copy of every module of the main file', async () => {
    const { main, sides } = await build(POINTS);
    expect(sides.map((s) => s.group).sort()).toEqual(['a', 'b', 'greet']);
    const out = path.join(root, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'main.cjs'), asLoaderFunction(main));
    for (const side of sides) fs.writeFileSync(path.join(out, `main.${side.group}.cjs`), asLoaderFunction(side.code));
    const sideA = sides.find((s) => s.group === 'a')?.code ?? '';
    const sideB = sides.find((s) => s.group === 'b')?.code ?? '';
    // Each split point's code is in its side file only; what two groups need is the main file's; a package is the side's own.
    expect(main).not.toContain('SIDE-A-MARKER');
    expect(sideA).toContain('SIDE-A-MARKER');
    expect(sideB).not.toContain('SIDE-A-MARKER');
    expect(main).toContain('COMMON-MARKER');
    expect(sideA + sideB).not.toContain('COMMON-MARKER');
    expect(sideB).toContain('PKG-MARKER');
    expect(main).not.toContain('PKG-MARKER');
    // The main file keeps only the exports side files use.
    expect(main).not.toContain('COMMON-UNUSED-EXPORT');

    await loadBundle(path.join(out, 'main.cjs'), ['x'], undefined).main([]);
    const result = (globalThis as { __splitResult?: unknown }).__splitResult;
    // b's run bumps the main file's counter and calls the common helper once, and reads a's name
    // (loading a's side file); a's run then bumps the same counter and sees the same helper's count.
    expect(result).toEqual({ before: 0, fromB: [1, 'SIDE-A-MARKER', 'PKG-MARKER'], fromA: 4, count: 2, later: 2, greet: 'GREET-MARKER4' });
  });

  it('writes the same files whatever order esbuild resolves a side file\'s imports in', async () => {
    // The side file reaches two modules of the main file from two files, which esbuild parses (and
    // resolves the imports of) concurrently; each build here holds one back until the other is resolved.
    fs.writeFileSync(path.join(root, 'src', 'part-1.ts'), `export { bump } from './state.ts';\n`);
    fs.writeFileSync(path.join(root, 'src', 'part-2.ts'), `export { twice } from './common.ts';\n`);
    fs.writeFileSync(path.join(root, 'src', 'side-c.ts'), `import { bump } from './part-1.ts';\nimport { twice } from './part-2.ts';\nexport const run = () => twice(bump());\n`);
    fs.writeFileSync(path.join(root, 'src', 'main-c.ts'), `import { count } from './state.ts';\nimport { twice } from './common.ts';\nexport async function main() { return twice(count()) + (await import('./side-c.ts')).run(); }\n`);
    const resolvedFirst = (first: string, then: string): Plugin => ({
      name: 'order',
      setup(b) {
        let release!: () => void;
        const firstDone = new Promise<void>((resolve) => (release = resolve));
        b.onResolve({ filter: /^\.\/(state|common)\.ts$/ }, async (args) => {
          if (!/part-[12]\.ts$/.test(args.importer)) return undefined;
          if (args.path === `./${then}`) await firstDone;
          else if (args.path === `./${first}`) setImmediate(() => setImmediate(release));
          return undefined;
        });
      },
    });
    const points = [{ name: 'c', target: 'src/side-c.ts' }];
    const one = await build(points, 'src/main-c.ts', [resolvedFirst('state.ts', 'common.ts')]);
    const two = await build(points, 'src/main-c.ts', [resolvedFirst('common.ts', 'state.ts')]);
    expect(two.sides).toEqual(one.sides);
    expect(two.main).toBe(one.main);
  });

  it('a side file missing or of another build fails each import of it with one sentence naming it', async () => {
    fs.writeFileSync(path.join(root, 'src', 'main-d.ts'), `export async function main() {
  const out: string[] = [];
  for (let i = 0; i < 2; i++) {
    try { out.push((await import('./side-a.ts')).name); } catch (error) { out.push((error as Error).message); }
  }
  (globalThis as { __splitTries?: string[] }).__splitTries = out;
}
`);
    const { main, sides } = await build([{ name: 'a', target: 'src/side-a.ts' }], 'src/main-d.ts');
    const out = path.join(root, 'out');
    fs.mkdirSync(out);
    const side = path.join(out, 'main.a.cjs');
    const write = (file: string, hash: string, code: string) => fs.writeFileSync(file, `// pantheon-bundle ${hash}\n${asLoaderFunction(code)}\n`);
    write(path.join(out, 'main.cjs'), '1111111111111111', main);
    const tries = async () => {
      await loadBundle(path.join(out, 'main.cjs'), ['x'], undefined).main([]);
      return (globalThis as { __splitTries?: string[] }).__splitTries;
    };
    // An older build's side file beside this main file.
    write(side, '2222222222222222', sides[0]?.code ?? '');
    const stale = `${side} is of another build (2222222222222222) than main.cjs (1111111111111111) beside it: reinstall Pantheon, or rebuild it (npm run build).`;
    expect(await tries()).toEqual([stale, stale]);
    fs.rmSync(side);
    const missing = `${side} (a part of main.cjs) cannot be read (ENOENT): reinstall Pantheon, or rebuild it (npm run build).`;
    expect(await tries()).toEqual([missing, missing]);
    write(side, '1111111111111111', sides[0]?.code ?? '');
    expect(await tries()).toEqual(['SIDE-A-MARKER', 'SIDE-A-MARKER']);
  });

  it('refuses two groups whose side files import each other statically (each would start before the other has its exports)', async () => {
    fs.writeFileSync(path.join(root, 'src', 'ping.ts'), `import { pong } from './pong.ts';\nexport const ping = (n: number): string => (n > 0 ? pong(n - 1) : 'PING');\n`);
    fs.writeFileSync(path.join(root, 'src', 'pong.ts'), `import { ping } from './ping.ts';\nexport const pong = (n: number): string => (n > 0 ? ping(n - 1) : 'PONG');\n`);
    fs.writeFileSync(path.join(root, 'src', 'main-e.ts'), `export async function main() { return [(await import('./ping.ts')).ping(3), (await import('./pong.ts')).pong(3)]; }\n`);
    const points = [
      { name: 'ping', target: 'src/ping.ts' },
      { name: 'pong', target: 'src/pong.ts' },
    ];
    await expect(build(points, 'src/main-e.ts')).rejects.toThrow('split groups ping and pong import each other (ping \u2192 pong \u2192 ping): give their split points one name, or make one of the imports dynamic');
    // One group: one side file, which works.
    const one = await build(points.map((p) => ({ ...p, name: 'ping' })), 'src/main-e.ts');
    expect(one.sides.map((s) => s.group)).toEqual(['ping']);
  });

  it('fails the build when a side file reads a name of a shared module its registry does not give', () => {
    const cjs = `var import_state=require("pantheon-shared:src/state.ts"),import_b=__toESM(require("pantheon-shared:split:src/b.ts"));function f(){return(0,import_state.bump)()+(0,import_state.count)()+import_b.anything}`;
    const registry = new Map([['src/state.ts', { names: new Set(['bump']), whole: false }]]);
    expect(() => checkSharedUses(cjs, registry, 'a')).toThrow('the a side file reads count of src/state.ts, which its registry does not give (an import the build did not read)');
    registry.set('src/state.ts', { names: new Set(['bump', 'count']), whole: false });
    expect(() => checkSharedUses(cjs, registry, 'a')).not.toThrow();
    registry.set('src/state.ts', { names: new Set(), whole: true });
    expect(() => checkSharedUses(cjs, registry, 'a')).not.toThrow();
  });

  it('refuses a split point the main file imports statically, or one nothing imports', async () => {
    fs.writeFileSync(path.join(root, 'src', 'main.ts'), `import { name } from './side-a.ts';\nexport async function main() { await import('./side-b.ts'); return name; }\n`);
    await expect(build(POINTS)).rejects.toThrow('split point src/side-a.ts is imported statically too');
    await expect(build([{ name: 'x', target: 'tiny-pkg' }])).rejects.toThrow('split point tiny-pkg: no dynamic import of it');
  });
});
