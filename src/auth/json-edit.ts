/**
 * Minimal in-place edits of a top-level JSON object's text: one property set or removed, every
 * other byte left as it was (spacing, number spelling, key order of the other entries).
 */
import { parseTree, type Node } from 'jsonc-parser';

function rootObject(text: string): Node {
  const root = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
  if (!root || root.type !== 'object') throw new Error('The text is not a JSON object.');
  return root;
}

function properties(root: Node): Node[] {
  return (root.children ?? []).filter((n) => n.type === 'property');
}

function keyOf(property: Node): unknown {
  return property.children?.[0]?.value;
}

/** The whitespace from the start of the line to `offset`, when only whitespace precedes it there. */
function indentAt(text: string, offset: number, fallback: string): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lead = text.slice(lineStart, offset);
  return /^[ \t]*$/.test(lead) ? lead : fallback;
}

function serialize(value: unknown, indent: string): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** Sets `key` to `value` (replacing the value in place, or appending a new last property). */
export function setProperty(text: string, key: string, value: unknown): string {
  const root = rootObject(text);
  const props = properties(root);
  const existing = props.filter((p) => keyOf(p) === key).at(-1);
  const valueNode = existing?.children?.[1];
  if (existing && valueNode) {
    const indent = indentAt(text, existing.offset, '  ');
    return splice(text, valueNode.offset, valueNode.offset + valueNode.length, serialize(value, indent));
  }
  const last = props.at(-1);
  if (!last) return splice(text, root.offset, root.offset + root.length, `{\n  ${JSON.stringify(key)}: ${serialize(value, '  ')}\n}`);
  const indent = indentAt(text, last.offset, '  ');
  const end = last.offset + last.length;
  return splice(text, end, end, `,\n${indent}${JSON.stringify(key)}: ${serialize(value, indent)}`);
}

/** Removes every property named `key`, with its separating comma; the rest is untouched. */
export function removeProperty(text: string, key: string): string {
  let out = text;
  for (;;) {
    const props = properties(rootObject(out));
    const index = props.findLastIndex((p) => keyOf(p) === key);
    if (index === -1) return out;
    const prop = props[index] as Node;
    const next = props[index + 1];
    const previous = props[index - 1];
    if (next) out = splice(out, prop.offset, next.offset, '');
    else if (previous) out = splice(out, previous.offset + previous.length, prop.offset + prop.length, '');
    else {
      const root = rootObject(out);
      out = splice(out, root.offset, root.offset + root.length, '{}');
    }
  }
}
