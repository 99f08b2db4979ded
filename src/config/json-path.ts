import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { excerpt, EXCERPT_CHARS } from './excerpt.ts';

export type JsonPath = (string | number)[];

export interface TextPosition {
  line: number;
  col: number;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/**
 * `agent.oracle.prompt`, `fallbacks[0]`, `provider.x.models["qwen/qwen3"]`; a key longer than
 * EXCERPT_CHARS shows as an excerpt (`agent["aaaa…"]`), so a path stays one short line.
 */
export function formatJsonPath(p: readonly (string | number)[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (seg.length > EXCERPT_CHARS) out += `[${JSON.stringify(excerpt(seg))}]`;
    else if (PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Offsets where each line of `text` starts, for `positionIn` (one pass over the text). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of a character offset, by binary search in `lineStarts(text)`. */
export function positionIn(starts: readonly number[], offset: number): TextPosition {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] as number) <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, col: offset - (starts[low] as number) + 1 };
}

/** 1-based line and column of a character offset. */
export function offsetToPosition(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: end - lineStart + 1 };
}

/** Where the value at `p` starts in a JSONC text, or undefined when the path is not in it. */
export function locateJsonPath(text: string, p: readonly (string | number)[]): TextPosition | undefined {
  const tree = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!tree) return undefined;
  const node = findNodeAtLocation(tree, [...p]);
  return node ? offsetToPosition(text, node.offset) : undefined;
}

/** `file:line:col` when the position is known, else `file`. */
export function fileAt(file: string, pos: TextPosition | undefined): string {
  return pos ? `${file}:${pos.line}:${pos.col}` : file;
}
