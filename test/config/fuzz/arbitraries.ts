/**
 * fast-check generators of config files for the property tests of the loader: arbitrary JSON,
 * JSONC (comments, trailing commas, a byte-order mark), real OpenCode configs from
 * test/fixtures/opencode-corpus mutated in their values and their text, and hostile strings.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';

const CORPUS = path.resolve(import.meta.dirname, '../../fixtures/opencode-corpus');

/** The text of every config file of the corpus. */
export function corpusTexts(): string[] {
  const texts: string[] = [];
  for (const entry of fs.readdirSync(CORPUS, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.jsonc?$/.test(entry.name) || entry.parentPath === CORPUS) continue;
    texts.push(fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
  }
  return texts;
}

/** Strings that broke or could break the loader and the printers. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '\u001b]0;pwned\u0007\u001b[2J',
    '\u009b31m\u202eevil\u2066',
    '{file:/dev/zero}',
    '{file:/dev/urandom}',
    '{file:./missing.md}',
    '{file:~/nothing}',
    '{env:HOME}',
    '${UNSET_FUZZ}'.repeat(3_000),
    '{{steps.nope.output}}',
    '{{input.x}}',
    '__proto__',
    'constructor',
    '\ud800',
    '',
    'p/m',
    'dead/m',
    'a'.repeat(100_000),
    '1.797e308',
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** Keys that name real config fields, prototype names and hostile text. */
const key: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('agent', 'provider', 'model', 'fallbacks', 'rateLimit', 'retry', 'cooldown', 'cache', 'workflow', 'mcp', 'extends', 'steps', 'options', 'prompt', 'temperature', 'rpm', 'windowMs', 'maxRetries', '__proto__', 'constructor', 'prototype'),
  hostileString,
);

/** JSON values biased towards config shapes, with hostile strings and extreme numbers. */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(hostileString, fc.double({ noNaN: true }), fc.integer(), fc.constantFrom(1.797e308, -1, 0, 1e9, 86_400_001), fc.boolean(), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** Nesting far past the bound, as text. */
const deepText: fc.Arbitrary<string> = fc.integer({ min: 60, max: 20_000 }).map((depth) => `{"agent": {"x": {"options": {"d": ${'['.repeat(depth)}${']'.repeat(depth)}}}}}`);

/** JSON text made JSONC: comments, trailing commas, maybe a byte-order mark. */
function asJsonc(text: string, bom: boolean): string {
  const commented = `// generated\n${text.replace(/,(?=")/g, ', /* c */ ').replace(/}$/, ',}')}`;
  return bom ? `\ufeff${commented}` : commented;
}

/** Replaces the value at a random path of `data` (by index among its object values). */
function setAt(data: unknown, pick: number, value: unknown): unknown {
  const holders: Record<string, unknown>[] = [];
  const stack: unknown[] = [data];
  while (stack.length > 0 && holders.length < 500) {
    const node = stack.pop();
    if (node !== null && typeof node === 'object') {
      if (!Array.isArray(node)) holders.push(node as Record<string, unknown>);
      stack.push(...Object.values(node));
    }
  }
  const holder = holders[pick % Math.max(1, holders.length)];
  const keys = holder ? Object.keys(holder) : [];
  if (holder && keys.length > 0) holder[keys[pick % keys.length] as string] = value;
  return data;
}

type TextEdit = { at: number; remove: number; insert: string };

function editText(text: string, edits: TextEdit[]): string {
  let out = text;
  for (const e of edits) {
    const at = e.at % (out.length + 1);
    out = out.slice(0, at) + e.insert + out.slice(at + e.remove);
  }
  return out;
}

/** A real config with values replaced, or with its text cut and spliced. */
export function mutatedCorpus(texts: string[]): fc.Arbitrary<string> {
  const source = fc.constantFrom(...texts);
  const byValue = fc.tuple(source, fc.array(fc.tuple(fc.nat(), jsonValue), { minLength: 1, maxLength: 3 })).map(([text, changes]) => {
    let data: unknown;
    try {
      data = JSON.parse(text.replace(/^\ufeff/, ''));
    } catch {
      return text;
    }
    for (const [pick, value] of changes) data = setAt(data, pick, value);
    return JSON.stringify(data);
  });
  const edit = fc.record({ at: fc.nat(), remove: fc.nat({ max: 40 }), insert: fc.oneof(fc.constantFrom('', '{', '}', '[', ']', ',', '"', ':', '/*', '//', '\\'), hostileString.map((s) => s.slice(0, 200))) });
  const byText = fc.tuple(source, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([text, edits]) => editText(text, edits));
  return fc.oneof(byValue, byText);
}

/** Any config file text: JSON, JSONC, a mutated real config, deep nesting or raw bytes. */
export function configText(texts: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    jsonValue.map((v) => JSON.stringify(v) ?? 'null'),
    fc.tuple(fc.dictionary(key, jsonValue, { maxKeys: 6 }), fc.boolean()).map(([v, bom]) => asJsonc(JSON.stringify(v), bom)),
    mutatedCorpus(texts),
    deepText,
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  );
}
