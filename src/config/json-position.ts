import { parseTree } from 'jsonc-parser';
import type { Node } from 'jsonc-parser';
import { lineStarts, positionIn } from './json-path.ts';
import type { JsonPath, TextPosition } from './json-path.ts';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One step down from `value`, or undefined when there is nothing there. */
function child(value: unknown, key: string | number): unknown {
  if (Array.isArray(value)) return typeof key === 'number' ? value[key] : undefined;
  if (isRecord(value) && typeof key === 'string' && Object.hasOwn(value, key)) return value[key];
  return undefined;
}

/** True when `path` leads to a value (possibly null) in `data`. */
export function pathExists(data: unknown, path: JsonPath): boolean {
  let current = data;
  for (const key of path) {
    if (Array.isArray(current)) {
      if (typeof key !== 'number' || key < 0 || key >= current.length) return false;
    } else if (!isRecord(current) || typeof key !== 'string' || !Object.hasOwn(current, key)) {
      return false;
    }
    current = child(current, key);
  }
  return true;
}

/** The value at `path`, or undefined. */
export function valueAt(data: unknown, path: JsonPath): unknown {
  let current = data;
  for (const key of path) current = child(current, key);
  return current;
}

/** Turns a JSON pointer (ajv's `instancePath`) into a path; indexes into arrays become numbers. */
export function pointerToPath(pointer: string, data: unknown): JsonPath {
  if (pointer === '') return [];
  const path: JsonPath = [];
  let current = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const step = Array.isArray(current) && /^\d+$/.test(key) ? Number(key) : key;
    path.push(step);
    current = child(current, step);
  }
  return path;
}

/** A parsed text with its line starts and, per object node met, its properties by key (built on first use). */
interface IndexedText {
  root: Node | undefined;
  starts: number[];
  keys: WeakMap<Node, Map<string, Node>>;
}

/** The value node under `node` at `key` (the last property of that name wins, as in JSON.parse). */
function childNode(index: IndexedText, node: Node, key: string | number): Node | undefined {
  if (node.type === 'array') return typeof key === 'number' ? node.children?.[key] : undefined;
  if (node.type !== 'object' || typeof key !== 'string') return undefined;
  let byKey = index.keys.get(node);
  if (!byKey) {
    byKey = new Map();
    for (const property of node.children ?? []) {
      const [name, value] = property.children ?? [];
      if (name && value && typeof name.value === 'string') byKey.set(name.value, value);
    }
    index.keys.set(node, byKey);
  }
  return byKey.get(key);
}

/**
 * Finds line:column of values in JSONC texts. A property is reported at its key; when the path
 * does not exist in the text, at its nearest existing ancestor (but never the whole document).
 * Each text is parsed and indexed once for the locator's lifetime, so a lookup costs the depth of
 * the path (plus a binary search for the line): placing many problems stays linear in their number.
 */
export function createLocator(): (text: string, path: JsonPath) => TextPosition | undefined {
  const texts = new Map<string, IndexedText>();
  return (text, path) => {
    let index = texts.get(text);
    if (!index) {
      index = { root: parseTree(text, [], { allowTrailingComma: true, disallowComments: false }), starts: lineStarts(text), keys: new WeakMap() };
      texts.set(text, index);
    }
    let node = index.root;
    let found: Node | undefined;
    for (const key of path) {
      node = node === undefined ? undefined : childNode(index, node, key);
      if (node === undefined) break;
      found = node;
    }
    if (!found) return undefined;
    const offset = found.parent?.type === 'property' ? found.parent.offset : found.offset;
    return positionIn(index.starts, offset);
  };
}
