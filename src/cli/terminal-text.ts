/**
 * Text made safe for a terminal: the one place the CLI's printers and renderers pass what they
 * show (config values, provider answers and errors, tool output). Control characters — ESC
 * sequences, the rest of C0 and C1, DEL, bidirectional overrides, line and paragraph separators —
 * are shown escaped (`\x1b`, `\u202e`) instead of acting on the terminal, and very long lines are
 * cut with a note of how much was left out. JSON output stays exact JSON: `jsonText` only writes
 * the same characters as JSON escapes.
 */
import { thousands } from '../icu-free.ts';

/** The longest line of diagnostics (errors, warnings, progress) shown before it is cut. */
export const MAX_LINE = 1000;
/** The longest line of output on a terminal's stdout (an answer, a tool's output, a listing). */
export const MAX_OUTPUT_LINE = 10_000;

/* eslint-disable no-control-regex -- matching control characters is the point of this module */
/** Control characters other than tab and newline, and the invisible ones that reorder text. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, with tab and newline: for one-line contexts. */
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw but a terminal may act on (C0 is already escaped by JSON). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function jsonEscape(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Where to cut a line at `max` characters without splitting a surrogate pair. */
function cutAt(line: string, max: number): number {
  const code = line.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

function cutNote(more: number): string {
  return `… (${thousands(more)} more characters)`;
}

/** Cuts `line` to `max` characters, saying how many were left out. */
export function capLine(line: string, max: number = MAX_LINE): string {
  if (line.length <= max) return line;
  const end = cutAt(line, max);
  return `${line.slice(0, end)}${cutNote(line.length - end)}`;
}

/** One line: every control character escaped (newlines and tabs too), cut to `max` characters. */
export function safeLine(text: string, max: number = MAX_LINE): string {
  // Escaping at most sextuples a character: escape only what can be shown, so the work is bounded.
  const head = text.length > max + 1 ? text.slice(0, max + 1) : text;
  const escaped = head.replace(UNSAFE_IN_LINE, escapeChar);
  if (escaped.length <= max) return escaped;
  const end = cutAt(escaped, max);
  return `${escaped.slice(0, end)}${cutNote(escaped.length - end + text.length - head.length)}`;
}

/**
 * Lines of text: tabs and newlines kept (CRLF becomes LF), every other control character escaped,
 * each line cut to `max` characters (no cut when `max` is null).
 */
export function safeText(text: string, max: number | null = MAX_LINE): string {
  const escaped = text.replace(/\r\n/g, '\n').replace(UNSAFE, escapeChar);
  if (max === null) return escaped;
  return escaped
    .split('\n')
    .map((line) => capLine(line, max))
    .join('\n');
}

/** `JSON.stringify` whose output has no character a terminal acts on; it parses to the same value. */
export function jsonText(value: unknown, space?: number): string {
  return (JSON.stringify(value, null, space) ?? 'null').replace(UNSAFE_IN_JSON, jsonEscape);
}

/**
 * Every string in `value` (an event, a report) made safe as one line of at most `max` characters.
 * Objects and arrays are copied; nesting below `depth` is left out.
 */
export function safeStrings<T>(value: T, max: number = MAX_LINE, depth = 16): T {
  if (typeof value === 'string') return safeLine(value, max) as T;
  if (value === null || typeof value !== 'object' || depth <= 0) return value;
  if (Array.isArray(value)) return value.map((item) => safeStrings(item, max, depth - 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = safeStrings(child, max, depth - 1);
  return out as T;
}

/**
 * A stream of text (an answer arriving in pieces) made safe piece by piece: the same escaping as
 * `safeText`, with CRLF split across pieces handled, and lines cut at `maxLine` when given.
 */
export class SafeTextStream {
  readonly #maxLine: number | undefined;
  #column = 0;
  #dropped = 0;
  #pendingCR = false;

  constructor(maxLine?: number) {
    this.#maxLine = maxLine;
  }

  /** The safe text to write for `piece`. */
  write(piece: string): string {
    let text = piece;
    if (this.#pendingCR) text = `\r${text}`;
    this.#pendingCR = text.endsWith('\r');
    if (this.#pendingCR) text = text.slice(0, -1);
    const escaped = text.replace(/\r\n/g, '\n').replace(UNSAFE, escapeChar);
    return this.#cap(escaped);
  }

  /** What is still held back (a trailing CR, the note of a cut line) once the stream ends. */
  end(): string {
    let out = this.#pendingCR ? this.#cap('\\r') : '';
    this.#pendingCR = false;
    if (this.#dropped > 0) out += this.#note();
    return out;
  }

  #note(): string {
    const note = cutNote(this.#dropped);
    this.#dropped = 0;
    return note;
  }

  #cap(text: string): string {
    const max = this.#maxLine;
    if (max === undefined) return text;
    let out = '';
    let start = 0;
    while (start <= text.length) {
      const newline = text.indexOf('\n', start);
      const end = newline === -1 ? text.length : newline;
      const room = Math.max(0, max - this.#column);
      let keep = Math.min(room, end - start);
      const last = text.charCodeAt(start + keep - 1);
      if (keep > 0 && keep < end - start && last >= 0xd800 && last <= 0xdbff) keep -= 1;
      out += text.slice(start, start + keep);
      this.#column += keep;
      this.#dropped += end - start - keep;
      if (newline === -1) break;
      if (this.#dropped > 0) out += this.#note();
      out += '\n';
      this.#column = 0;
      start = newline + 1;
    }
    return out;
  }
}
