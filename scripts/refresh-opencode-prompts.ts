/**
 * Refreshes data/opencode-prompts/: OpenCode's base system prompts, the texts it sends an agent
 * that has no prompt of its own, one per model family (MIT, ./LICENSE there), taken from the
 * released binary (npm `opencode-linux-x64`, which embeds them as template literals in its JS).
 *
 * What it does: finds OpenCode's selection function in the binary's JS (the one that tests the
 * model's id for "gemini-"), checks that the family rule in data/opencode-prompts/index.json
 * (written by hand, as data) names the same strings the function tests, reads the texts the
 * function returns, in its order (the rules' order, then the default), and writes each to the file
 * its rule names, with index.json's `source`. When OpenCode changed its rule, it stops and says
 * which strings differ: update the rules by hand first (nothing is written then).
 *
 * Usage: `npx node scripts/refresh-opencode-prompts.ts [--version V | --binary PATH]`
 *   --version V    the opencode-linux-x64 release to take (default: the pinned one, scripts/lib/opencode-ai.ts)
 *   --binary PATH  an opencode binary already on disk (e.g. node_modules/opencode-linux-x64/bin/opencode)
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isolatedEnv, makeHome, OPENCODE_VERSION } from './lib/opencode-ai.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..');
export const PROMPTS_DIR = path.join(repoRoot, 'data', 'opencode-prompts');
const ANCHOR = '.api.id.includes("gemini-")';

interface Rule {
  file: string;
  anyOf?: string[];
  allOf?: string[];
  providers?: string[];
  fill?: Record<string, { anyOf?: string[]; value: string }[]>;
}
interface PromptIndex {
  source: string;
  rules: Rule[];
  default: string;
}

const BACKTICK = 0x60;
const BACKSLASH = 0x5c;
const DOLLAR = 0x24;
const OPEN_BRACE = 0x7b;

/**
 * The end (exclusive, after the closing backtick) of the template literal whose body starts at
 * `start`. A `${…}` substitution is refused: a prompt text has none.
 */
export function templateEnd(buf: Uint8Array, start: number): number {
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (c === BACKSLASH) i++;
    else if (c === BACKTICK) return i + 1;
    else if (c === DOLLAR && buf[i + 1] === OPEN_BRACE) throw new Error(`a template literal at byte ${start} has a \${…} substitution: not a plain text`);
  }
  throw new Error(`a template literal at byte ${start} does not end`);
}

const SIMPLE: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** The text a template literal's raw body stands for (its escapes cooked as JavaScript cooks them). */
export function cookTemplate(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\r') {
      // A template literal's CR and CRLF are read as LF.
      out += '\n';
      if (raw[i + 1] === '\n') i++;
      continue;
    }
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = raw[++i];
    if (e === undefined) throw new Error('a template literal ends in a lone backslash');
    if (e === '\n' || e === '\u2028' || e === '\u2029') continue;
    if (e === '\r') {
      if (raw[i + 1] === '\n') i++;
      continue;
    }
    if (e === 'x') {
      out += String.fromCharCode(parseInt(hex(raw.slice(i + 1, i + 3), 2), 16));
      i += 2;
    } else if (e === 'u' && raw[i + 1] === '{') {
      const close = raw.indexOf('}', i);
      out += String.fromCodePoint(parseInt(hex(raw.slice(i + 2, close), 0), 16));
      i = close;
    } else if (e === 'u') {
      out += String.fromCharCode(parseInt(hex(raw.slice(i + 1, i + 5), 4), 16));
      i += 4;
    } else {
      out += SIMPLE[e] ?? e;
    }
  }
  return out;
}

function hex(text: string, length: number): string {
  if (!/^[0-9a-fA-F]+$/.test(text) || (length > 0 && text.length !== length)) throw new Error(`a bad escape in a template literal: "${text}"`);
  return text;
}

/** The selection function's source: from `function NAME(` before the anchor to its closing brace. */
export function selectionFunction(buf: Buffer): { source: string; start: number } {
  const anchor = buf.indexOf(ANCHOR);
  if (anchor < 0) throw new Error(`no "${ANCHOR}" in the binary: OpenCode's selection of base prompts has moved; read its system prompt code again`);
  if (buf.indexOf(ANCHOR, anchor + 1) >= 0) throw new Error(`"${ANCHOR}" is in the binary more than once: which one selects the prompt is unclear`);
  const start = buf.lastIndexOf('function ', anchor);
  let depth = 0;
  for (let i = buf.indexOf('{', start); i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x22 || c === 0x27) {
      // A string literal: skip to its end.
      for (i++; buf[i] !== c; i++) if (buf[i] === BACKSLASH) i++;
    } else if (c === OPEN_BRACE) depth++;
    else if (c === 0x7d && --depth === 0) return { source: buf.toString('utf8', start, i + 1), start };
  }
  throw new Error('the selection function does not end');
}

/** What the function tests and returns: its string literals, and the names of the texts it returns, in order. */
export function readSelection(source: string): { literals: Set<string>; returned: string[] } {
  const literals = new Set([...source.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string));
  const returned = [...source.matchAll(/return\s*\[\s*([A-Za-z_$][\w$]*)/g)].map((m) => m[1] as string);
  return { literals, returned };
}

/** The strings a set of rules tests for and fills in (as the function's literals should be). */
export function ruleLiterals(rules: readonly Rule[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const s of [...(rule.anyOf ?? []), ...(rule.allOf ?? []), ...(rule.providers ?? [])]) out.add(s);
    for (const [name, options] of Object.entries(rule.fill ?? {})) {
      out.add(`{{${name}}}`);
      for (const o of options) [...(o.anyOf ?? []), o.value].forEach((s) => out.add(s));
    }
  }
  return out;
}

/** The text a minified variable holds: its nearest `NAME=\`…\`` before the selection function. */
export function textOf(buf: Buffer, name: string, before: number): string {
  let at = before;
  for (;;) {
    at = buf.lastIndexOf(`${name}=\``, at - 1);
    if (at < 0) throw new Error(`no text "${name}" before the selection function`);
    const prev = buf[at - 1];
    // A whole name: `var X=`, `,X=`, `;X=`, not the tail of a longer one.
    if (prev !== undefined && !/[\w$]/.test(String.fromCharCode(prev))) break;
  }
  const body = at + name.length + 2;
  return cookTemplate(buf.toString('utf8', body, templateEnd(buf, body) - 1));
}

/** The texts of the binary, by file name of the index; throws naming the difference when the rule changed. */
export function extractPrompts(buf: Buffer, index: PromptIndex): Map<string, string> {
  const fn = selectionFunction(buf);
  const { literals, returned } = readSelection(fn.source);
  const expected = ruleLiterals(index.rules);
  const missing = [...expected].filter((s) => !literals.has(s));
  const added = [...literals].filter((s) => !expected.has(s));
  if (missing.length || added.length) {
    throw new Error(
      `OpenCode's family rule changed: it no longer tests ${JSON.stringify(missing)} and now tests ${JSON.stringify(added)}.\n` +
        `Its selection function: ${fn.source}\nUpdate the rules in data/opencode-prompts/index.json by hand to match, then run this again.`,
    );
  }
  const files = [...index.rules.map((r) => r.file), index.default];
  if (returned.length !== files.length) {
    throw new Error(`OpenCode's selection function returns ${returned.length} texts and index.json names ${files.length} (${files.join(', ')}): update the rules by hand.\n${fn.source}`);
  }
  return new Map(files.map((file, i) => [file, textOf(buf, returned[i] as string, fn.start)]));
}

/** index.json as it is kept: one line a rule, so that a change to the rule reads as one. */
function indexText(index: PromptIndex & Record<string, unknown>): string {
  const { rules, ...rest } = index;
  const top = Object.entries(rest).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
  const listed = `  "rules": [\n${rules.map((r) => `    ${JSON.stringify(r)}`).join(',\n')}\n  ]`;
  return `{\n${[...top.filter((l) => !l.startsWith('  "default"')), listed, ...top.filter((l) => l.startsWith('  "default"'))].join(',\n')}\n}\n`;
}

async function binaryOf(version: string): Promise<{ buf: Buffer; cleanup: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opencode-prompts-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const spec = `opencode-linux-x64@${version}`;
    console.error(`fetching ${spec} (about 60 MB)`);
    const { stdout } = await run('npm', ['pack', spec, '--pack-destination', dir, '--silent'], { cwd: dir, maxBuffer: 1 << 20 });
    const tarball = path.join(dir, stdout.trim().split('\n').at(-1) as string);
    await run('tar', ['-xzf', tarball, '-C', dir, 'package/bin/opencode']);
    return { buf: fs.readFileSync(path.join(dir, 'package', 'bin', 'opencode')), cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/** A binary's version: its package's package.json (it sits in `package/bin/`), else what it says (in a HOME of its own). */
async function versionOf(binary: string): Promise<string> {
  const manifest = path.join(path.dirname(binary), '..', 'package.json');
  if (fs.existsSync(manifest)) return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
  const home = makeHome();
  try {
    return (await run(binary, ['--version'], { env: isolatedEnv(home) })).stdout.trim();
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const binary = value('--binary');
  const indexFile = path.join(PROMPTS_DIR, 'index.json');
  const index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as PromptIndex & Record<string, unknown>;
  let source: string;
  let got: { buf: Buffer; cleanup: () => void };
  if (binary) {
    got = { buf: fs.readFileSync(binary), cleanup: () => {} };
    source = `opencode-linux-x64@${await versionOf(binary)}`;
  } else {
    const version = value('--version') ?? OPENCODE_VERSION;
    got = await binaryOf(version);
    source = `opencode-linux-x64@${version}`;
  }
  try {
    const texts = extractPrompts(got.buf, index);
    for (const [file, text] of texts) fs.writeFileSync(path.join(PROMPTS_DIR, file), text);
    fs.writeFileSync(indexFile, indexText({ ...index, source }));
    console.error(`wrote ${texts.size} texts from ${source} to ${path.relative(repoRoot, PROMPTS_DIR)}/`);
  } finally {
    got.cleanup();
  }
}
