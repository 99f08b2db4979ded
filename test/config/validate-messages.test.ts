import { describe, expect, it } from 'vitest';
import { validateConfigObject } from '../../src/config/validate.ts';

const agent = (fields: Record<string, unknown>) => ({ agent: { oracle: fields } });

describe('validateConfigObject: one line per problem, per keyword', () => {
  it('accepts an empty config and the tolerated OpenCode keys', () => {
    expect(validateConfigObject({})).toEqual([]);
    expect(validateConfigObject({ theme: 'dark', keybinds: { leader: 'ctrl+x' }, plugin: ['x@latest'], share: 'manual' })).toEqual([]);
  });

  it('type: names the expected type with its range', () => {
    expect(validateConfigObject(agent({ steps: '10' }))).toEqual(['agent.oracle.steps: expected an integer from 1 to 1,000,000,000, found "10"']);
    expect(validateConfigObject({ agent: { oracle: 'smart' } })).toEqual(['agent.oracle: expected an object, found "smart"']);
    expect(validateConfigObject(42)).toEqual(['(top level): expected an object, found 42']);
  });

  it('minimum / maximum: out of range values', () => {
    expect(validateConfigObject(agent({ temperature: 3 }))).toEqual(['agent.oracle.temperature: expected a number from 0 to 2, found 3']);
    expect(validateConfigObject({ mcp: { memory: { type: 'local', command: ['x'], timeout: 0 } } })).toEqual([
      'mcp.memory.timeout: expected an integer from 1 to 86,400,000, found 0',
    ]);
    expect(validateConfigObject({ retry: { maxRetries: 21 } })).toEqual(['retry.maxRetries: expected an integer from 0 to 20, found 21']);
  });

  it('enum and const', () => {
    expect(validateConfigObject(agent({ mode: 'main' }))).toEqual([
      'agent.oracle.mode: expected one of "primary", "subagent", "all", found "main"',
    ]);
    // A wrong type against an enum is one problem, not two.
    expect(validateConfigObject(agent({ mode: 1 }))).toEqual(['agent.oracle.mode: expected one of "primary", "subagent", "all", found 1']);
    expect(validateConfigObject({ provider: { p: { options: { timeout: true } } } })).toEqual([
      'provider.p.options.timeout: expected false, found true',
    ]);
  });

  it('minLength, pattern (explained from the schema), format', () => {
    expect(validateConfigObject({ default_agent: '' })).toEqual(['default_agent: expected a non-empty string, found ""']);
    expect(validateConfigObject({ model: 'gpt-4o' })).toEqual([
      'model: expected a model reference provider/model[:variant], found "gpt-4o"',
    ]);
    expect(validateConfigObject({ provider: { p: { env: ['1BAD'] } } })).toEqual([
      'provider.p.env[0]: expected an environment variable name (letters, digits and _), found "1BAD"',
    ]);
    expect(validateConfigObject({ provider: { p: { options: { baseURL: 'integrate.api.nvidia.com' } } } })).toEqual([
      'provider.p.options.baseURL: expected a URL, found "integrate.api.nvidia.com"',
    ]);
  });

  it('required: the missing key, with the condition that requires it', () => {
    expect(validateConfigObject({ mcp: { memory: { type: 'local' } } })).toEqual([
      'mcp.memory.command: missing; required when type is "local"',
    ]);
    expect(validateConfigObject({ mcp: { docs: { type: 'remote' } } })).toEqual(['mcp.docs.url: missing; required when type is "remote"']);
    expect(validateConfigObject({ mcp: { memory: { command: ['x'] } } })).toEqual(['mcp.memory.type: missing; required']);
    expect(validateConfigObject({ workflow: { w: { steps: [{ id: 'a', agent: 'oracle' }] } } })).toEqual([
      'workflow.w.steps[0].prompt: missing; required',
    ]);
  });

  it('additionalProperties: unknown keys with did-you-mean, at the top level and nested', () => {
    expect(validateConfigObject({ modle: 'a/b' })).toEqual(['modle: unknown key; did you mean "model"?']);
    expect(validateConfigObject({ provider: { 'nvidia-nim': { options: { baseUrl: 'https://x.test/v1' } } } })).toEqual([
      'provider.nvidia-nim.options.baseUrl: unknown key; did you mean "baseURL"?',
    ]);
    expect(validateConfigObject(agent({ temprature: 1 }))).toEqual(['agent.oracle.temprature: unknown key; did you mean "temperature"?']);
    // Nothing close: a short list of allowed keys instead, and no guess.
    expect(validateConfigObject({ cooldown: { wait: 5 } })).toEqual(['cooldown.wait: unknown key; allowed keys: afterFailures, ms']);
    expect(validateConfigObject({ zzzzzz: 1 })).toEqual(['zzzzzz: unknown key']);
  });

  it('dependentRequired, uniqueItems, minItems, propertyNames', () => {
    expect(validateConfigObject({ rateLimit: { maxRequests: 5 } })).toEqual([
      'rateLimit.windowMs: missing; required when "maxRequests" is set',
    ]);
    expect(validateConfigObject({ retry: { retryOn: [429, 500, 429] } })).toEqual(['retry.retryOn[2]: duplicate of item [0], found 429']);
    expect(validateConfigObject({ mcp: { m: { type: 'local', command: [] } } })).toEqual(['mcp.m.command: expected at least 1 item, found none']);
    expect(validateConfigObject({ workflow: { 'my flow': { steps: [{ id: 'a', agent: 'build', prompt: 'p' }] } } })).toEqual([
      'workflow["my flow"]: invalid name: expected a name of letters, digits, _ and -, starting with a letter, found "my flow"',
    ]);
  });

  it('anyOf: one line when no branch fits the value, the fitting branch\'s errors otherwise', () => {
    expect(validateConfigObject(agent({ model: 42 }))).toEqual([
      'agent.oracle.model: expected a "provider/model[:variant]" string or {provider, id}, found 42',
    ]);
    expect(validateConfigObject(agent({ model: 'qwen' }))).toEqual([
      'agent.oracle.model: expected a model reference provider/model[:variant], found "qwen"',
    ]);
    expect(validateConfigObject(agent({ fallbacks: ['a/b', { provider: 'nvidia-nim' }] }))).toEqual([
      'agent.oracle.fallbacks[1].id: missing; required',
    ]);
    expect(validateConfigObject({ provider: { p: { options: { timeout: 1.5 } } } })).toEqual([
      'provider.p.options.timeout: expected an integer from 1 to 86,400,000 or false, found 1.5',
    ]);
    expect(validateConfigObject({ provider: { p: { options: { timeout: 0 } } } })).toEqual([
      'provider.p.options.timeout: expected an integer from 1 to 86,400,000, found 0',
    ]);
    expect(validateConfigObject(agent({ permission: { bash: 'maybe', edit: { '*.md': 'nope' }, webfetch: 3 } }))).toEqual([
      'agent.oracle.permission.edit["*.md"]: expected one of "ask", "allow", "deny", found "nope"',
      'agent.oracle.permission.bash: expected one of "ask", "allow", "deny", found "maybe"',
      'agent.oracle.permission.webfetch: expected "ask", "allow" or "deny", or an object, found 3',
    ]);
    expect(validateConfigObject({ extends: 5 })).toEqual(['extends: expected a non-empty string or a list of strings, found 5']);
    expect(validateConfigObject({ workflow: { w: { steps: [{ id: 'a', agent: 'build', prompt: 'p', forEach: 3 }] } } })).toEqual([
      'workflow.w.steps[0].forEach: expected a list or a string like "{{input.NAME}}", found 3',
    ]);
  });

  it('found: long values are cut to about 40 characters', () => {
    const [line] = validateConfigObject({ small_model: 'x'.repeat(100) });
    expect(line).toBe(`small_model: expected a model reference provider/model[:variant], found "${'x'.repeat(38)}…`);
  });

  it('found: never shows an apiKey, a header or an environment value', () => {
    const lines = validateConfigObject({
      provider: { p: { options: { apiKey: 12345678, headers: { Authorization: 99 } } } },
      mcp: { m: { type: 'local', command: ['x'], environment: { TOKEN: 7 } } },
      agent: { oracle: { fallbacks: { apiKey: 'sk-live-SECRET-1', headers: { 'X-Key': 'hdr-SECRET-2' } } } },
    });
    expect(lines).toEqual([
      'provider.p.options.apiKey: expected a string, found ****',
      'provider.p.options.headers.Authorization: expected a string, found ****',
      'agent.oracle.fallbacks: expected a list, found {"apiKey":"****","headers":{"X-Key":"**…',
      'mcp.m.environment.TOKEN: expected a string, found ****',
    ]);
    expect(lines.join('\n')).not.toMatch(/SECRET|12345678|99/);
  });

  it('reports every problem at once, in document order', () => {
    const lines = validateConfigObject({ model: 'x', agent: { a: { temperature: -1, mode: 'x' } }, cache: { ttl: 0 } });
    expect(lines).toEqual([
      'model: expected a model reference provider/model[:variant], found "x"',
      'agent.a.mode: expected one of "primary", "subagent", "all", found "x"',
      'agent.a.temperature: expected a number from 0 to 2, found -1',
      'cache.ttl: expected an integer from 1 to 31,536,000, found 0',
    ]);
  });
});
