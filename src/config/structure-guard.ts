/**
 * The shape every config source must have before anything walks it: no key that names
 * JavaScript's prototype machinery (`__proto__`, `constructor`, `prototype`), and at most
 * MAX_DEPTH levels of nesting. Both checks are iterative, so a value nested 100,000 deep is
 * reported, not a stack overflow; once a source passes, every later step (substitution, merge,
 * validation, masking, printing) recurses at most MAX_DEPTH levels.
 */
import type { JsonPath } from './json-path.ts';
import { quote } from './excerpt.ts';

/** Keys refused anywhere in a config. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Levels of objects and lists a config may nest (real configs use fewer than 10). */
export const MAX_DEPTH = 64;

export const FORBIDDEN_KEY_HINT = 'Rename or remove that key: "__proto__", "constructor" and "prototype" are not accepted as keys anywhere in a config.';
export const DEPTH_HINT = `A config needs far fewer than ${MAX_DEPTH} levels (real ones use under 10); look for a generated or runaway value there.`;

export interface StructureProblem {
  kind: 'key' | 'depth';
  /** Where: the forbidden key itself, or the first value nested too deep. */
  path: JsonPath;
  message: string;
}

export function forbiddenKeyMessage(key: string): string {
  return `the key ${quote(key)} is not allowed (it would reach JavaScript's object prototype)`;
}

export const DEPTH_MESSAGE = `nested more than ${MAX_DEPTH} levels deep`;

interface Frame {
  keys: (string | number)[];
  values: unknown[];
  next: number;
}

function frameOf(value: object): Frame {
  if (Array.isArray(value)) return { keys: value.map((_, i) => i), values: value, next: 0 };
  const keys = Object.keys(value);
  return { keys, values: keys.map((k) => (value as Record<string, unknown>)[k]), next: 0 };
}

/**
 * The first forbidden key or over-deep value in `value`, in document order, or undefined. Also
 * catches an object whose prototype was replaced (a parser that assigned `__proto__`).
 */
export function structureProblem(value: unknown): StructureProblem | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const path: JsonPath = [];
  const stack: Frame[] = [frameOf(value)];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.keys.length) {
      stack.pop();
      path.pop();
      continue;
    }
    const i = frame.next++;
    const key = frame.keys[i]!;
    const child = frame.values[i];
    if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) return { kind: 'key', path: [...path, key], message: forbiddenKeyMessage(key) };
    if (child === null || typeof child !== 'object') continue;
    if (!Array.isArray(child)) {
      const proto = Object.getPrototypeOf(child) as unknown;
      if (proto !== Object.prototype && proto !== null) return { kind: 'key', path: [...path, key, '__proto__'], message: forbiddenKeyMessage('__proto__') };
    }
    if (stack.length >= MAX_DEPTH) return { kind: 'depth', path: [...path, key], message: DEPTH_MESSAGE };
    path.push(key);
    stack.push(frameOf(child));
  }
  return undefined;
}

/** What can open or close a level, or hide a bracket: a quote, a slash (comments), a bracket. */
const DEPTH_NEXT = /["/{}[\]]/g;
/** Where a string can end or escape: a quote, a newline, a backslash. */
const STRING_NEXT = /["\\\n]/g;

/**
 * Offset of the first `{` or `[` in a JSON/JSONC text that opens level MAX_DEPTH + 1, or -1.
 * Strings and comments are skipped; the text is not parsed (so it is safe before a recursive parser).
 * The characters in between are skipped by a regular-expression search rather than looked at one
 * by one: a loop over every character of a config was long enough for V8 to compile it again on
 * the side, in every command (docs/performance.md, issue #18).
 */
export function overDeepOffset(text: string): number {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    DEPTH_NEXT.lastIndex = i;
    const next = DEPTH_NEXT.exec(text);
    if (next === null) break;
    i = next.index;
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // To the closing quote or the end of the line; a backslash escapes the next character.
      for (i++; i < n; i++) {
        STRING_NEXT.lastIndex = i;
        const stop = STRING_NEXT.exec(text);
        if (stop === null) {
          i = n;
          break;
        }
        i = stop.index;
        if (text.charCodeAt(i) !== 0x5c /* \ */) break;
        i++;
      }
    } else if (c === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a /* * */) {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return -1;
}
