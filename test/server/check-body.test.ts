import { describe, expect, it } from 'vitest';
import { checkBody } from '../../src/server/check-body.ts';
import { EMBEDDINGS_SCHEMAS } from '../../src/server/openai/embeddings.ts';
import { OPENCODE_SCHEMAS } from '../../src/server/opencode/schemas.ts';
import { ref } from '../../src/server/route.ts';

const prompt = ref('PromptBody');
const check = (body: unknown) => checkBody(body, prompt, OPENCODE_SCHEMAS);

describe('request bodies checked against the route schemas', () => {
  it('accepts what the SDK sends', () => {
    expect(check({ parts: [{ type: 'text', text: 'hi' }], model: { providerID: 'p', modelID: 'm' }, agent: 'oracle' })).toBeUndefined();
    expect(check({ parts: [{ type: 'file', mime: 'image/png', url: 'data:image/png;base64,AA==' }], unknownExtra: 1 })).toBeUndefined();
  });

  it('names the field at fault, what was expected and what was found', () => {
    expect(check({})).toEqual({ field: 'parts', message: 'is required' });
    expect(check({ parts: 'hi' })).toEqual({ field: 'parts', message: 'expected an array, found a string' });
    expect(check({ parts: [{ type: 'text', text: 5 }] })).toEqual({ field: 'parts[0].text', message: 'expected a string, found an integer' });
    expect(check({ parts: [{ type: 'video' }] })).toEqual({ field: 'parts[0].type', message: 'expected one of "text", "file", "agent", "subtask", found "video"' });
    expect(check({ parts: [], model: { providerID: 'p' } })).toEqual({ field: 'model.modelID', message: 'is required' });
    expect(check({ parts: [], tools: { bash: 'no' } })).toEqual({ field: 'tools.bash', message: 'expected a boolean, found a string' });
    expect(check({ parts: [], permission: [{ permission: 'bash', action: 'maybe' }] })).toEqual({ field: 'permission[0].action', message: 'expected one of "allow", "deny", "ask", found "maybe"' });
    expect(check([1])).toEqual({ field: '', message: 'expected an object, found an array' });
    expect(check({ parts: Array.from({ length: 101 }, () => ({ type: 'text', text: '' })) })).toEqual({ field: 'parts', message: 'must have at most 100 items' });
  });

  it('a union says what the branch of the value’s own shape says: an empty or too long list of texts, a list mixing texts and numbers', () => {
    const embed = (input: unknown) => checkBody({ model: 'p/e', input }, ref('EmbeddingsRequest'), EMBEDDINGS_SCHEMAS);
    expect(embed('a')).toBeUndefined();
    expect(embed([[1, 2], [3]])).toBeUndefined();
    expect(embed([])).toEqual({ field: 'input', message: 'must not be empty' });
    expect(embed(Array.from({ length: 2049 }, () => 'x'))).toEqual({ field: 'input', message: 'must have at most 2048 items' });
    expect(embed(Array.from({ length: 2049 }, () => [1]))).toEqual({ field: 'input', message: 'must have at most 2048 items' });
    expect(embed(['a', 2])).toEqual({ field: 'input[1]', message: 'expected a string, found an integer' });
    expect(embed([1, 'a'])).toEqual({ field: 'input[1]', message: 'expected an integer, found a string' });
    expect(embed([[1], []])).toEqual({ field: 'input[1]', message: 'must not be empty' });
    expect(embed({ text: 'a' })).toEqual({ field: 'input', message: 'expected a string, found an object' });
  });
});
