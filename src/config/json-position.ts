import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import type { Node } from 'jsonc-parser';
import { offsetToPosition } from './json-path.ts';
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

/**
 * Finds line:column of values in JSONC texts. A property is reported at its key; when the path
 * does not exist in the text, at its nearest existing ancestor (but never the whole document).
 * Parsed trees are kept for the locator's lifetime.
 */
export function createLocator(): (text: string, path: JsonPath) => TextPosition | undefined {
  const trees = new Map<string, Node | undefined>();
  return (text, path) => {
    if (!trees.has(text)) trees.set(text, parseTree(text, [], { allowTrailingComma: true, disallowComments: false }));
    const root = trees.get(text);
    if (!root) return undefined;
    for (let length = path.length; length > 0; length -= 1) {
      const node = findNodeAtLocation(root, path.slice(0, length));
      if (!node) continue;
      const offset = node.parent?.type === 'property' ? node.parent.offset : node.offset;
      return offsetToPosition(text, offset);
    }
    return undefined;
  };
}
