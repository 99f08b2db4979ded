/**
 * Splits a shell command line into the simple commands it runs, so that `bash` permission
 * patterns judge each one: `git status && rm -rf x` is `git status` and `rm -rf x`, and
 * `echo $(rm x)` is `echo $(rm x)` and `rm x`. Quotes and escapes are respected; `;`, `&`, `&&`,
 * `|`, `||`, newlines and parentheses separate commands; `$(…)` and backticks are split
 * recursively. Leading reserved words (`if`, `then`, `do`, `!`, `{`, …) and variable assignments
 * (`FOO=1 cmd`) are dropped. A convenience for permission rules, not a shell parser: rules on
 * `bash` are a guard rail, not a sandbox.
 */
/** `$(…)` and backticks nested deeper than this are judged whole, not split: bounded time and stack on any command line. */
const MAX_NESTING = 16;

const RESERVED = new Set(['{', '}', '!', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'time', 'case', 'esac']);

function tidy(segment: string): string | undefined {
  const words = segment.trim().split(/\s+/);
  let start = 0;
  while (start < words.length) {
    const word = words[start] as string;
    if (RESERVED.has(word) || /^[A-Za-z_][A-Za-z0-9_]*=\S*$/.test(word)) start++;
    else break;
  }
  const text = words.slice(start).join(' ').trim();
  return text === '' ? undefined : text;
}

/** Index just past the `)` that closes a `$(` opened before `from`, or the end of the text. */
function closeParen(text: string, from: number): number {
  let depth = 1;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && quote !== "'") {
      i++;
    } else if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '(') {
      depth++;
    } else if (ch === ')' && --depth === 0) {
      return i + 1;
    }
  }
  return text.length;
}

/** The commands of a `$(…)` or backtick body at `depth`; past MAX_NESTING, the body as one command. */
function splitNested(body: string, depth: number): string[] {
  if (depth < MAX_NESTING) return splitCommandLine(body, depth + 1);
  const whole = tidy(body);
  return whole === undefined ? [] : [whole];
}

function isSeparator(text: string, i: number): boolean {
  const ch = text[i];
  if (ch === ';' || ch === '\n' || ch === '|' || ch === '(' || ch === ')') return true;
  if (ch !== '&') return false;
  // `2>&1`, `<&3` and `&>file` are redirections, not separators.
  const prev = text[i - 1];
  return prev !== '>' && prev !== '<' && text[i + 1] !== '>';
}

export function splitCommandLine(commandLine: string, depth = 0): string[] {
  const out: string[] = [];
  const inner: string[] = [];
  let current = '';
  // The last character of `current`, kept aside: reading it from the string built by `+=` would copy the whole string each time.
  let last = '';
  let quote: string | undefined;
  const add = (text: string): void => {
    current += text;
    last = text[text.length - 1] ?? last;
  };
  const flush = (): void => {
    const text = tidy(current);
    if (text !== undefined) out.push(text);
    current = '';
    last = '';
  };
  for (let i = 0; i < commandLine.length; i++) {
    const ch = commandLine[i] as string;
    if (ch === '\\' && quote !== "'") {
      add(ch + (commandLine[i + 1] ?? ''));
      i++;
      continue;
    }
    if (quote !== "'" && ch === '$' && commandLine[i + 1] === '(') {
      const end = closeParen(commandLine, i + 2);
      const body = commandLine.slice(i + 2, commandLine[end - 1] === ')' ? end - 1 : end);
      inner.push(...splitNested(body, depth));
      add(commandLine.slice(i, end));
      i = end - 1;
      continue;
    }
    if (quote !== "'" && ch === '`') {
      const close = commandLine.indexOf('`', i + 1);
      const end = close === -1 ? commandLine.length : close;
      inner.push(...splitNested(commandLine.slice(i + 1, end), depth));
      add(commandLine.slice(i, end + 1));
      i = end;
      continue;
    }
    if (quote) {
      if (ch === quote) quote = undefined;
      add(ch);
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      add(ch);
    } else if (ch === '#' && (last === '' || /\s/.test(last))) {
      const newline = commandLine.indexOf('\n', i);
      i = newline === -1 ? commandLine.length : newline - 1;
    } else if (isSeparator(commandLine, i)) {
      flush();
    } else {
      add(ch);
    }
  }
  flush();
  return [...new Set([...out, ...inner])];
}
