import { describe, expect, it } from 'vitest';
import { removeProperty, setProperty } from '../../src/auth/json-edit.ts';

const entry = { type: 'api', key: 'k' };

describe('in-place JSON edits of auth.json', () => {
  it('appends a property after the last one, with its indentation, leaving the rest as written', () => {
    const text = '{\n    "a": {"x":1.50},\n    "b": [1,2]\n}\n';
    expect(setProperty(text, 'c', entry)).toBe('{\n    "a": {"x":1.50},\n    "b": [1,2],\n    "c": {\n      "type": "api",\n      "key": "k"\n    }\n}\n');
  });

  it('fills an empty object, and replaces only the value of an existing property', () => {
    expect(setProperty('{}', 'c', entry)).toBe('{\n  "c": {\n    "type": "api",\n    "key": "k"\n  }\n}');
    expect(setProperty(' { } ', 'c', 1)).toBe(' {\n  "c": 1\n} ');
    const text = '{"a": 1, "c": {"type":"api","key":"old"}, "z": 2.0}';
    expect(setProperty(text, 'c', 'v')).toBe('{"a": 1, "c": "v", "z": 2.0}');
  });

  it('removes the first, a middle, the last and the only property with their commas', () => {
    const text = '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}';
    expect(removeProperty(text, 'a')).toBe('{\n  "b": 2,\n  "c": 3\n}');
    expect(removeProperty(text, 'b')).toBe('{\n  "a": 1,\n  "c": 3\n}');
    expect(removeProperty(text, 'c')).toBe('{\n  "a": 1,\n  "b": 2\n}');
    expect(removeProperty('{ "a": 1 }\n', 'a')).toBe('{}\n');
    expect(removeProperty(text, 'missing')).toBe(text);
  });

  it('a key given twice: set replaces the one JSON.parse reads (the last); remove drops both', () => {
    const text = '{"a": 1, "b": 2, "a": 3}';
    expect(JSON.parse(setProperty(text, 'a', 9))).toEqual({ a: 9, b: 2 });
    expect(removeProperty(text, 'a')).toBe('{"b": 2}');
  });

  it('refuses text that is not one JSON object', () => {
    expect(() => setProperty('[1]', 'a', 1)).toThrow(/not a JSON object/);
  });
});
