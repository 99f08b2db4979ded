/**
 * OpenCode's base prompts (data/opencode-prompts/): for every model id OpenCode 1.18.33 was seen to
 * answer (test/fixtures/opencode-base-prompts.json, captured from its requests), the text Pantheon
 * picks is the one OpenCode sent; the family rule's edges (the provider's id, case, `allOf`, the
 * placeholder) on the shipped index; and the refresh script's reading of a release's JS.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { basePrompt, basePromptIndex, chooseBasePrompt } from '../../src/agents/base-prompt.ts';
import { cookTemplate, extractPrompts, ruleLiterals } from '../../scripts/refresh-opencode-prompts.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const CAPTURED = (JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'opencode-base-prompts.json'), 'utf8')) as { models: Record<string, { sha256: string; chars: number }> }).models;

describe("OpenCode's base prompt by model", () => {
  it.each(Object.keys(CAPTURED))('%s: the text OpenCode 1.18.33 sent', async (id) => {
    const text = await basePrompt({ provider: 'p', upstreamId: id });
    expect({ sha256: createHash('sha256').update(text).digest('hex'), chars: text.length }).toEqual({ sha256: CAPTURED[id]?.sha256, chars: CAPTURED[id]?.chars });
  });

  it("the rule's edges: the provider's id, case, every-of, the placeholder's value", async () => {
    const index = await basePromptIndex();
    const pick = (provider: string, upstreamId: string) => chooseBasePrompt(index, { provider, upstreamId });
    expect(index.source).toBe('opencode-linux-x64@1.18.33');
    // Kimi by its providers, whatever the model's id says.
    expect(pick('moonshotai', 'k2-turbo').file).toBe('kimi.txt');
    expect(pick('moonshotai-cn', 'qwen3').file).toBe('kimi.txt');
    expect(pick('openrouter', 'moonshotai/k2').file).toBe('default.txt');
    // Case: trinity and kimi in any case; the others as written.
    expect(pick('p', 'Arcee-TRINITY-mini').file).toBe('trinity.txt');
    expect(pick('p', 'Claude-Sonnet').file).toBe('default.txt');
    // Codex only within gpt; gpt-6 before codex; gpt-4 (and o1/o3) before gpt.
    expect(pick('p', 'codex-mini').file).toBe('default.txt');
    expect(pick('p', 'gpt-5.1-codex').file).toBe('codex.txt');
    expect(pick('p', 'gpt-6-codex').file).toBe('gpt-6.txt');
    expect(pick('p', 'gpt-4.1').file).toBe('beast.txt');
    // The first rule wins: "gemini-" before "claude".
    expect(pick('p', 'gemini-claude').file).toBe('gemini.txt');
    expect(pick('p', 'muse-spark-2')).toEqual({ file: 'muse.txt', fill: { MODEL_NAME: 'Muse Spark' } });
    expect(pick('p', 'muse-glimmer')).toEqual({ file: 'muse.txt', fill: { MODEL_NAME: 'Muse Glimmer' } });
    const muse = await basePrompt({ provider: 'p', upstreamId: 'muse-glimmer' });
    expect(muse).toContain('You are powered by Muse Glimmer, a large language model');
    expect(muse).not.toContain('{{');
  });
});

describe("the refresh script's reading of OpenCode's JS", () => {
  const index = {
    source: 'x',
    rules: [
      { file: 'a.txt', anyOf: ['alpha'], fill: { NAME: [{ value: 'A' }] } },
      { file: 'g.txt', anyOf: ['gemini-'] },
    ],
    default: 'd.txt',
  };
  // A bundle as Bun writes one: texts as template literals, a same-named variable elsewhere, the selection function after them.
  const bundle = (fn: string) =>
    Buffer.from(
      'var Xa=`not this one`;function f(){}' +
        'var Xa=`Alpha for {{NAME}}:\\n\\u2019quoted\\u2019, a \\`tick\\`, \\x41, a \\\\ and $5 \\${not} \\\n  joined`,Gb=`Gemini ’ text\n`,Dd=`Default.`;' +
        fn +
        ';var Xa=`after`;',
    );
  const FN = 'function sel(e){if(e.api.id.includes("alpha"))return[Xa.replaceAll("{{NAME}}","A")];if(e.api.id.includes("gemini-"))return[Gb];return[Dd]}';

  it('takes the texts the function returns, in its order, escapes cooked', () => {
    const texts = extractPrompts(bundle(FN), index);
    expect([...texts.keys()]).toEqual(['a.txt', 'g.txt', 'd.txt']);
    expect(texts.get('a.txt')).toBe('Alpha for {{NAME}}:\n’quoted’, a `tick`, A, a \\ and $5 ${not}   joined');
    expect(texts.get('g.txt')).toBe('Gemini ’ text\n');
    expect(texts.get('d.txt')).toBe('Default.');
  });

  it('stops, naming the strings, when OpenCode changed its rule; and when it returns another number of texts', () => {
    const changed = FN.replace('includes("alpha")', 'includes("alpha-")');
    expect(() => extractPrompts(bundle(changed), index)).toThrow(/no longer tests \["alpha"\] and now tests \["alpha-"\]/);
    const more = FN.replace('return[Dd]', 'if(e.api.id.includes("alpha"))return[Dd];return[Dd]');
    expect(() => extractPrompts(bundle(more), index)).toThrow(/returns 4 texts and index.json names 3/);
    expect(() => extractPrompts(Buffer.from('nothing here'), index)).toThrow(/has moved/);
  });

  it('refuses a template literal with a substitution, and cooks escapes as JavaScript does', () => {
    expect(() => extractPrompts(Buffer.from(bundle(FN).toString().replace('`Default.`', '`De${x}`')), index)).toThrow(/substitution/);
    expect(cookTemplate('a\\u{1F600}b\\tc\\0')).toBe('a😀b\tc\0');
    expect(cookTemplate('line\r\nnext')).toBe('line\nnext');
    expect(() => cookTemplate('\\xZZ')).toThrow(/bad escape/);
  });

  it("the shipped rules name the strings OpenCode 1.18.33's function tests", async () => {
    expect([...ruleLiterals((await basePromptIndex()).rules)].toSorted()).toEqual(
      ['muse', 'muse-glimmer', 'Muse Glimmer', 'Muse Spark', '{{MODEL_NAME}}', 'gpt-4', 'o1', 'o3', 'gpt', 'gpt-6', 'codex', 'gemini-', 'claude', 'trinity', 'kimi', 'kimi-for-coding', 'moonshotai', 'moonshotai-cn'].toSorted(),
    );
  });
});
