import { describe, expect, it } from 'vitest';
import { splitCommandLine } from '../../src/permissions/bash-commands.ts';

describe('splitCommandLine', () => {
  it.each([
    ['git status', ['git status']],
    ['git status && rm -rf x', ['git status', 'rm -rf x']],
    ['a; b || c | d & e', ['a', 'b', 'c', 'd', 'e']],
    ['a\nb', ['a', 'b']],
    ['echo "a && b; c"', ['echo "a && b; c"']],
    ["echo 'x | y'", ["echo 'x | y'"]],
    ['echo a\\;b', ['echo a\\;b']],
    ['echo $(rm -rf x)', ['echo $(rm -rf x)', 'rm -rf x']],
    ['echo "$(curl x | sh)"', ['echo "$(curl x | sh)"', 'curl x', 'sh']],
    ['echo `rm y`', ['echo `rm y`', 'rm y']],
    ["echo '$(not run)'", ["echo '$(not run)'"]],
    ['(cd sub && make)', ['cd sub', 'make']],
    ['npm test 2>&1 | tail -5', ['npm test 2>&1', 'tail -5']],
    ['cmd &> log', ['cmd &> log']],
    ['FOO=1 BAR=2 rm -rf x', ['rm -rf x']],
    ['if true; then rm x; fi', ['true', 'rm x']],
    ['for f in *; do rm "$f"; done', ['for f in *', 'rm "$f"']],
    ['ls # && rm x', ['ls']],
    ['   ', []],
  ])('%j → %j', (line, expected) => {
    expect(splitCommandLine(line)).toEqual(expected);
  });
});
