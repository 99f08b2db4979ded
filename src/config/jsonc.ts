import { printParseErrorCode, visit, type ParseError } from 'jsonc-parser';
import { PantheonError } from '../errors.ts';
import { codeFrame } from './code-frame.ts';
import { offsetToPosition } from './json-path.ts';
import { DEPTH_HINT, DEPTH_MESSAGE, overDeepOffset } from './structure-guard.ts';

const EXPECTED: Record<string, string> = {
  InvalidSymbol: 'a JSON value or punctuation',
  InvalidNumberFormat: 'a valid number',
  PropertyNameExpected: 'a property name in double quotes',
  ValueExpected: 'a value',
  ColonExpected: 'a ":" after the property name',
  CommaExpected: 'a "," between entries',
  CloseBraceExpected: 'a "}" closing the object',
  CloseBracketExpected: 'a "]" closing the list',
  EndOfFileExpected: 'the end of the file',
  InvalidCommentToken: 'a comment (// or /* */)',
  UnexpectedEndOfComment: 'a "*/" closing the comment',
  UnexpectedEndOfString: 'a closing double quote',
  UnexpectedEndOfNumber: 'more digits',
  InvalidUnicode: 'a valid \\u escape',
  InvalidEscapeCharacter: 'a valid escape character',
  InvalidCharacter: 'a character allowed in a string',
};

/**
 * Hides token-like string literals (12+ characters, no spaces) in a line shown to the user, keeping
 * the length so a caret under the line still points at the right column: a parse error must never
 * echo an API key.
 */
function hideSecrets(line: string): string {
  const hide = (value: string) => value.slice(0, 4) + '*'.repeat(value.length - 8) + value.slice(-4);
  return line
    .replace(/"([^"\s\\]{12,})"?/g, (match: string, value: string) => match.replace(value, hide(value)))
    .replace(/(?<![\w*"-])([A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)(?![\w*"])/g, (value: string) => (value.length >= 16 ? hide(value) : value));
}

function foundText(text: string, err: ParseError): string {
  if (err.offset >= text.length) return 'the end of the file';
  let slice = text.slice(err.offset, err.offset + Math.max(err.length, 1));
  if (err.length === 0) slice = (/^\S+/.exec(text.slice(err.offset)) ?? [slice])[0];
  slice = slice.split(/\r?\n/)[0] ?? slice;
  slice = hideSecrets(slice);
  if (slice.length > 24) slice = `${slice.slice(0, 24)}…`;
  return slice.trim() === '' ? 'a line break' : `\`${slice}\``;
}

function excerpt(text: string, line: number, col: number): string[] {
  const [src, caret] = codeFrame(hideSecrets(text.split(/\r?\n/)[line - 1] ?? ''), col);
  const gutter = String(line);
  return [`${gutter} | ${src}`, `${' '.repeat(gutter.length)} | ${caret}`];
}

/**
 * Builds the value of a JSONC text with jsonc-parser's visitor. Every key becomes an own property
 * (as with JSON.parse): assigning `__proto__` would replace the object's prototype instead.
 */
function buildJsonc(text: string, errors: ParseError[]): unknown {
  let root: unknown;
  let key = '';
  const open: (Record<string, unknown> | unknown[])[] = [];
  const put = (value: unknown): void => {
    const parent = open[open.length - 1];
    if (parent === undefined) root = value;
    else if (Array.isArray(parent)) parent.push(value);
    else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  };
  const begin = (container: Record<string, unknown> | unknown[]): void => {
    put(container);
    open.push(container);
  };
  visit(
    text,
    {
      onObjectBegin: () => begin({}),
      onObjectProperty: (name) => {
        key = name;
      },
      onObjectEnd: () => void open.pop(),
      onArrayBegin: () => begin([]),
      onArrayEnd: () => void open.pop(),
      onLiteralValue: (value: unknown) => put(value),
      onError: (error, offset, length) => errors.push({ error, offset, length }),
    },
    { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true },
  );
  return root;
}

/**
 * The text with comments and trailing commas (outside strings) blanked out, in one linear pass;
 * JSON.parse decides the rest. Undefined for an unterminated comment or string (jsonc-parser
 * reports those).
 */
function withoutCommentsAndTrailingCommas(text: string): string | undefined {
  const out: string[] = [];
  /** Index in `out` of the last comma with only whitespace or comments after it, or -1. */
  let comma = -1;
  /** Whether a value ended last (only then can a comma be a trailing one: `[,]` stays an error). */
  let afterValue = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: copied as is, escapes included.
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
      if (end >= text.length) return undefined;
      i = end;
      comma = -1;
      afterValue = true;
    } else if (c === 0x2f && (text.charCodeAt(i + 1) === 0x2f || text.charCodeAt(i + 1) === 0x2a)) {
      const block = text.charCodeAt(i + 1) === 0x2a;
      const end = block ? text.indexOf('*/', i + 2) : text.indexOf('\n', i + 2);
      if (block && end === -1) return undefined;
      const stop = end === -1 ? text.length : block ? end + 2 : end;
      out.push(text.slice(from, i), ' ');
      from = stop;
      i = stop - 1;
    } else if (c === 0x2c) {
      out.push(text.slice(from, i));
      comma = afterValue ? out.push(',') - 1 : (out.push(','), -1);
      afterValue = false;
      from = i + 1;
    } else if (c === 0x7d || c === 0x5d) {
      if (comma !== -1) out[comma] = ' ';
      comma = -1;
      afterValue = true;
    } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      comma = -1;
      afterValue = c !== 0x5b && c !== 0x7b && c !== 0x3a;
    }
  }
  out.push(text.slice(from));
  return out.join('');
}

/**
 * Parses JSON with comments and trailing commas. A syntax error becomes one sentence naming
 * `file:line:col`, what was expected and what was found; so does nesting deeper than MAX_DEPTH
 * (checked on the text first, so no parser recurses on it).
 */
export function parseJsonc(text: string, file: string): unknown {
  const deep = overDeepOffset(text);
  if (deep !== -1) {
    const { line, col } = offsetToPosition(text, deep);
    throw new PantheonError('CONFIG_PARSE', `${file}:${line}:${col}: ${DEPTH_MESSAGE}.`, { hint: DEPTH_HINT });
  }
  // Most files are plain JSON, which the built-in parser reads many times faster.
  if (!/^\s*$/.test(text)) {
    // Plain JSON, then JSONC with its comments and trailing commas removed (the built-in presets
    // have comments): JSON.parse is native and several times faster than jsonc-parser's visitor,
    // which is kept for what neither accepts, to report the error with its position.
    for (const candidate of [text, withoutCommentsAndTrailingCommas(text)]) {
      if (candidate === undefined) continue;
      try {
        return JSON.parse(candidate) as unknown;
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
      }
    }
  }
  const errors: ParseError[] = [];
  const value = buildJsonc(text, errors);
  const err = errors[0];
  if (err) {
    const { line, col } = offsetToPosition(text, err.offset);
    const code = printParseErrorCode(err.error);
    const expected = EXPECTED[code] ?? 'valid JSON';
    throw new PantheonError(
      'CONFIG_PARSE',
      `${file}:${line}:${col}: expected ${expected} (${code}), found ${foundText(text, err)}.`,
      {
        hint: 'Comments and trailing commas are fine; look for a missing comma, quote or bracket at or just before that spot.',
        details: excerpt(text, line, col),
      },
    );
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Checks that a parsed config is an object (an empty file counts as `{}`). */
export function asConfigObject(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new PantheonError('CONFIG_INVALID', `${where}: expected a JSON object at the top level, found ${describeType(value)}.`, {
      hint: 'A config file holds one object, e.g. { "model": "provider/model" }.',
    });
  }
  return value;
}

/** Parses a config file's text: JSONC whose top level is an object. */
export function parseConfigText(text: string, file: string): Record<string, unknown> {
  return asConfigObject(parseJsonc(text, file), file);
}
