/**
 * Turns a `$` template of OpenCode's plugins (Bun's shell syntax) into a script for bash (or
 * /bin/sh): the template's own text is the script as written; each interpolated value is quoted so
 * that it is exactly one argument, never shell syntax (`${"a; rm -rf /"}` is the text `a; rm -rf /`);
 * an array is one argument per item; `{raw}` goes in as written; bytes (a Buffer, Blob, Response or
 * stream) after `<` become the command's input through a descriptor of their own (`<&3`, `<&4`...).
 */

/** What a `< ${value}` hands the command: bytes, or something that streams them. */
export type ShellInput = Uint8Array | ArrayBuffer | DataView | Blob | Response | ReadableStream;

export interface ShellScript {
  /** The script for `bash -c`. */
  text: string;
  /** The inputs, in order: the first is read from descriptor 3, the next from 4, and so on. */
  inputs: ShellInput[];
}

/** The first descriptor an input is read from (0-2 are stdin, stdout and stderr). */
export const FIRST_INPUT_FD = 3;

/** `value` as one argument of a POSIX shell: in single quotes, where nothing is special but the quote itself. */
export function quoteArgument(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Bun's `$.escape` (as Bun 1.3 gives it): text with none of Bun's special characters as it is, any
 * other in double quotes with the backslash, the double quote, `$` and the backquote escaped (which a
 * POSIX shell reads back as the same text). Bun's special characters: the space, the newline, the
 * digits and `"#$&'()*,;<=>[]{|}~`, the backslash and the backquote; `?` and the other white space
 * (the tab) are quoted too here, which bash would read as a pattern and a word break.
 */
export function bunEscape(input: string): string {
  const text = String(input);
  if (!/[\s"#$&'()*,0-9;<=>?[\\\]`{|}~]/.test(text)) return text;
  return `"${text.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/**
 * Bun's `$.braces` (as Bun 1.3 gives it, which is not quite bash's): `{a,b}` is each alternative,
 * nested too; a pair without a comma is its content (`a{b}c` is `abc`); ranges (`{1..3}`) are not
 * expanded; an unpaired brace, or one after a backslash, is text.
 */
export function bunBraces(pattern: string): string[] {
  const text = String(pattern);
  for (let open = 0; open < text.length; open++) {
    if (text[open] !== '{' || text[open - 1] === '\\') continue;
    const parts: string[] = [];
    let depth = 0;
    let start = open + 1;
    for (let i = open + 1; i < text.length; i++) {
      const c = text[i];
      if (text[i - 1] === '\\') continue;
      if (c === '{') depth++;
      else if (c === ',' && depth === 0) {
        parts.push(text.slice(start, i));
        start = i + 1;
      } else if (c === '}' && depth-- === 0) {
        parts.push(text.slice(start, i));
        const prefix = text.slice(0, open);
        const rest = bunBraces(text.slice(i + 1));
        return parts.flatMap((part) => bunBraces(part).flatMap((middle) => rest.map((end) => prefix + middle + end)));
      }
    }
  }
  return [text];
}

function isInput(value: unknown): value is ShellInput {
  return (
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    value instanceof DataView ||
    value instanceof Blob ||
    value instanceof Response ||
    value instanceof ReadableStream
  );
}

/**
 * Where the script text written so far ends, innermost last: outside quotes (`none`), in `(...)` or
 * `$(...)` (`paren`, like outside), in single or double quotes, or in a `#` comment. Starts as `['none']`.
 */
type Quoting = ('none' | 'paren' | 'single' | 'double' | 'comment')[];

/**
 * Reads `text` on from `stack` (which it changes; `before` is the script's last character before
 * `text`): backslash escapes, quotes, parentheses (`$(` in double quotes too) and comments. Answers whether it met a here-document (`<<`), whose body a
 * value could not be quoted for.
 */
function readQuoting(text: string, stack: Quoting, before: string): boolean {
  let heredoc = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (top === 'single') {
      if (c === "'") stack.pop();
    } else if (top === 'comment') {
      if (c === '\n') stack.pop();
    } else if (c === '\\') {
      i++;
    } else if (top === 'double') {
      if (c === '"') stack.pop();
      else if (c === '$' && text[i + 1] === '(') {
        stack.push('paren');
        i++;
      }
    } else if (c === "'") stack.push('single');
    else if (c === '"') stack.push('double');
    else if (c === '(') stack.push('paren');
    else if (c === ')' && top === 'paren') stack.pop();
    else if (c === '#' && /^[\s;&|()]?$/.test(i === 0 ? before : (text[i - 1] ?? ''))) stack.push('comment');
    else if (c === '<' && text[i + 1] === '<' && text[i + 2] !== '<') heredoc = true;
  }
  return heredoc;
}

function text(value: unknown): string {
  const out = String(value);
  if (out.includes('\0')) throw new TypeError('$: an interpolated value holds a NUL character, which no command argument can carry.');
  return out;
}

/**
 * One interpolated value as script text: outside quotes, quoted arguments (one per array item);
 * inside quotes, its text in the quotes' own escaping (array items joined by spaces), as Bun does;
 * `{raw}` as written.
 */
function expression(value: unknown, quoting: Quoting[number]): string {
  if (Array.isArray(value)) return value.map((item) => expression(item, quoting)).join(' ');
  if (value !== null && typeof value === 'object') {
    if ('raw' in value && typeof value.raw === 'string') return value.raw;
    if ('then' in value && typeof value.then === 'function') {
      throw new TypeError('$: a promise was interpolated into a command; await it first (as in `${await $`cmd`.text()}`).');
    }
  }
  // A comment's text does not matter, and a newline in it would end the comment.
  if (quoting === 'comment') return '';
  if (quoting === 'single') return text(value).replaceAll("'", `'\\''`);
  if (quoting === 'double') return text(value).replace(/[\\"$`]/g, (c) => `\\${c}`);
  return quoteArgument(text(value));
}

/** The script of a template: `raw` is the template's raw text (Bun's shell reads it raw too), `values` what was interpolated. */
export function buildScript(raw: readonly string[], values: readonly unknown[]): ShellScript {
  let script = raw[0] ?? '';
  const quoting: Quoting = ['none'];
  let heredoc = readQuoting(script, quoting, '');
  const inputs: ShellInput[] = [];
  values.forEach((value, index) => {
    if (heredoc) {
      throw new TypeError("$: a value interpolated after a here-document (`<<`) cannot be quoted for it (Bun's shell has no here-documents); pass the text as input instead (`cat < ${Buffer.from(text)}`).");
    }
    if (isInput(value)) {
      // `< ${data}` (and `0< ${data}`): read from the input's own descriptor. `<<` is a here-document.
      const inside = quoting[quoting.length - 1];
      const redirect = inside === 'none' || inside === 'paren' ? /(?<!<)<\s*$/.exec(script) : null;
      if (!redirect) {
        throw new TypeError(
          '$: a Buffer, Blob, Response or stream in a command is read only as its input after `<` (as in $`cat < ${data}`); interpolate text as a string instead.',
        );
      }
      script = `${script.slice(0, redirect.index)}<&${FIRST_INPUT_FD + inputs.length}`;
      inputs.push(value);
    } else {
      script += expression(value, quoting[quoting.length - 1] ?? 'none');
    }
    const next = raw[index + 1] ?? '';
    const before = script.slice(-1);
    script += next;
    heredoc = readQuoting(next, quoting, before) || heredoc;
  });
  return { text: script, inputs };
}
