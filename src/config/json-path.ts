import { findNodeAtLocation, parseTree } from 'jsonc-parser';

export type JsonPath = (string | number)[];

export interface TextPosition {
  line: number;
  col: number;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `agent.oracle.prompt`, `fallbacks[0]`, `provider.x.models["qwen/qwen3"]`. */
export function formatJsonPath(p: readonly (string | number)[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
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
