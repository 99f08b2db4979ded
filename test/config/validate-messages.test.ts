import { describe, expect, it } from 'vitest';
import { configWarningsOf, validateConfigObject } from '../../src/config/validate.ts';

const agent = (fields: Record<string, unknown>) => ({ agent: { oracle: fields } });

describe('validateConfigObject: one line per problem, per keyword', () => {
  it('accepts an empty config and the tolerated OpenCode keys', () => {
    expect(validateConfigObject({})).toEqual([]);
    expect(validateConfigObject({ theme: 'dark', keybinds: { leader: 'ctrl+x' }, plugin: ['x@latest'], share: 'manual' })).toEqual([]);
  });

  it('type: names the expected type with its range', () => {
    // OpenCode's `integer > 0` reads as "at least 1", under Pantheon's ceiling.
    expect(validateConfigObject(agent({ steps: '10' }))).toEqual(['agent.oracle.steps: expected an integer from 1 to 1,000,000,000, found "10"']);
    expect(validateConfigObject({ agent: { oracle: 'smart' } })).toEqual(['agent.oracle: expected an object, found "smart"']);
    expect(validateConfigObject(42)).toEqual(['(top level): expected an object, found 42']);
  });

  it('minimum / maximum: out of range values', () => {
    // OpenCode's schema puts no bound on an agent's temperature (nor a minimum); Pantheon keeps its ceiling.
    expect(validateConfigObject(agent({ temperature: -1 }))).toEqual([]);
    expect(validateConfigObject(agent({ temperature: 3 }))).toEqual(['agent.oracle.temperature: expected a number of at most 2, found 3']);
    expect(validateConfigObject({ mcp: { memory: { type: 'local', command: ['x'], timeout: 0 } } })).toEqual([
      'mcp.memory.timeout: expected an integer from 1 to 86,400,000, found 0',
    ]);
    expect(validateConfigObject({ retry: { maxRetries: 21 } })).toEqual(['retry.maxRetries: expected an integer from 0 to 20, found 21']);
  });

  it('enum and const', () => {
    expect(validateConfigObject(agent({ mode: 'main' }))).toEqual([
      'agent.oracle.mode: expected one of "subagent", "primary", "all", found "main"',
    ]);
    // A wrong type against an enum is one problem, not two.
    expect(validateConfigObject(agent({ mode: 1 }))).toEqual(['agent.oracle.mode: expected one of "subagent", "primary", "all", found 1']);
    expect(validateConfigObject({ provider: { p: { options: { timeout: true } } } })).toEqual([
      'provider.p.options.timeout: expected false, found true',
    ]);
  });

  it('minLength, pattern (explained from the schema); OpenCode\'s plain strings load, with a warning where a run would fail', () => {
    expect(validateConfigObject({ cache: { store: '' } })).toEqual(['cache.store: expected a non-empty string, found ""']);
    // A store of a kind Pantheon has not is refused when the config loads, as state.store's is (not at the first run).
    expect(validateConfigObject({ cache: { store: 'mongodb://db:27017/x' } })).toEqual(['cache.store: expected "memory", a file path (sqlite://… too), or a redis:// or rediss:// URL, found "mongodb://db:27017/x"']);
    for (const store of ['memory', '~/cache.sqlite', './my cache.db', 'sqlite:///tmp/c.db', 'redis://127.0.0.1:6379/2', 'rediss://h:6380']) expect(validateConfigObject({ cache: { store } }), store).toEqual([]);
    expect(validateConfigObject({ fallbacks: ['gpt-4o'] })).toEqual([
      'fallbacks[0]: expected a model reference provider/model[:variant], found "gpt-4o"',
    ]);
    // `model` is a string in OpenCode's schema: the file loads; the ref is a warning until a run needs it.
    expect(validateConfigObject({ model: 'gpt-4o' })).toEqual([]);
    expect(configWarningsOf({ model: 'gpt-4o' })).toEqual([
      'model: expected a model reference provider/model[:variant], found "gpt-4o"; a run that uses it fails',
    ]);
    expect(validateConfigObject({ provider: { p: { env: ['1BAD'], options: { baseURL: 'integrate.api.nvidia.com' } } } })).toEqual([]);
  });

  it('required: the missing key of the branch the value names (`type`)', () => {
    expect(validateConfigObject({ mcp: { memory: { type: 'local' } } })).toEqual(['mcp.memory.command: missing; required']);
    expect(validateConfigObject({ mcp: { docs: { type: 'remote' } } })).toEqual(['mcp.docs.url: missing; required']);
    expect(validateConfigObject({ mcp: { memory: { command: ['x'] } } })).toEqual([
      'mcp.memory: expected {type, command}, {type, url} or {enabled}, found {"command":["x"]}',
    ]);
    expect(validateConfigObject({ workflow: { w: { steps: [{ id: 'a', agent: 'oracle' }] } } })).toEqual([
      'workflow.w.steps[0].prompt: missing; required',
    ]);
  });

  it('unknown keys: errors in Pantheon\'s objects and for typos of its keys, warnings where OpenCode lets them through', () => {
    expect(validateConfigObject({ rateLimt: { rpm: 1 } })).toEqual(['rateLimt: unknown key; did you mean "rateLimit"?']);
    expect(validateConfigObject(agent({ fallback: ['a/b'] }))).toEqual(['agent.oracle.fallback: unknown key; did you mean "fallbacks"?']);
    expect(validateConfigObject({ rateLimit: { rpn: 5 } })).toEqual(['rateLimit.rpn: unknown key; did you mean "rpm"?']);
    // Nothing close: a short list of allowed keys instead, and no guess.
    expect(validateConfigObject({ cooldown: { wait: 5 } })).toEqual(['cooldown.wait: unknown key; allowed keys: afterFailures, ms']);
    // OpenCode ignores unknown keys of its own objects: they load, each with a warning.
    for (const config of [{ modle: 'a/b' }, { zzzzzz: 1 }, agent({ temprature: 1 }), { provider: { 'nvidia-nim': { options: { baseUrl: 'https://x.test/v1' } } } }]) {
      expect(validateConfigObject(config)).toEqual([]);
    }
    expect(configWarningsOf({ modle: 'a/b', zzzzzz: 1 })).toEqual([
      'modle: unknown key, ignored (OpenCode ignores it too); did you mean "model"?',
      'zzzzzz: unknown key, ignored (OpenCode ignores it too)',
    ]);
    expect(configWarningsOf({ provider: { 'nvidia-nim': { options: { baseUrl: 'https://x.test/v1' } } } })).toEqual([
      'provider.nvidia-nim.options.baseUrl: not a key of this object; passed on as is; did you mean "baseURL"?',
    ]);
    expect(configWarningsOf(agent({ temprature: 1 }))).toEqual([
      'agent.oracle.temprature: not a key of this object; passed on as is; did you mean "temperature"?',
    ]);
  });

  it('dependentRequired, uniqueItems, minItems, propertyNames', () => {
    expect(validateConfigObject({ rateLimit: { maxRequests: 5 } })).toEqual([
      'rateLimit.windowMs: missing; required when "maxRequests" is set',
    ]);
    expect(validateConfigObject({ retry: { retryOn: [429, 500, 429] } })).toEqual(['retry.retryOn[2]: duplicate of item [0], found 429']);
    expect(validateConfigObject({ workflow: { w: { steps: [] } } })).toEqual(['workflow.w.steps: expected at least 1 item, found none']);
    expect(validateConfigObject({ workflow: { 'my flow': { steps: [{ id: 'a', agent: 'build', prompt: 'p' }] } } })).toEqual([
      'workflow["my flow"]: invalid name: expected a name of letters, digits, _ and -, starting with a letter, found "my flow"',
    ]);
  });

  it('anyOf: one line when no branch fits the value, the fitting branch\'s errors otherwise', () => {
    expect(validateConfigObject(agent({ model: 42 }))).toEqual([
      'agent.oracle.model: expected a string, or a "provider/model[:variant]" string or {provider, id}, found 42',
    ]);
    expect(validateConfigObject(agent({ model: 'qwen' }))).toEqual([]);
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
      'agent.oracle.permission.webfetch: expected one of "ask", "allow", "deny", found 3',
    ]);
    // OpenCode's one action for every tool.
    expect(validateConfigObject({ permission: 'allow', agent: { oracle: { permission: 'deny' } } })).toEqual([]);
    // The keys this version reads: `question` takes one action (no patterns), as OpenCode's; `continue_loop_on_deny` a boolean.
    expect(validateConfigObject({ permission: { question: { '*': 'allow' } }, experimental: { continue_loop_on_deny: 'yes' } })).toEqual([
      'permission.question: expected one of "ask", "allow", "deny", found {"*":"allow"}',
      'experimental.continue_loop_on_deny: expected true or false, found "yes"',
    ]);
    expect(validateConfigObject({ permission: { question: 'deny' }, experimental: { continue_loop_on_deny: true } })).toEqual([]);
    expect(validateConfigObject({ extends: 5 })).toEqual(['extends: expected a non-empty string or a list of strings, found 5']);
    expect(validateConfigObject({ workflow: { w: { steps: [{ id: 'a', agent: 'build', prompt: 'p', forEach: 3 }] } } })).toEqual([
      'workflow.w.steps[0].forEach: expected a list or a string like "{{input.NAME}}", found 3',
    ]);
  });

  it('found: long values are cut to about 40 characters', () => {
    const [line] = validateConfigObject({ fallbacks: ['x'.repeat(100)] });
    expect(line).toBe(`fallbacks[0]: expected a model reference provider/model[:variant], found "${'x'.repeat(38)}…`);
  });

  it('found: never shows an apiKey, a header or an environment value', () => {
    const lines = validateConfigObject({
      provider: { p: { options: { apiKey: 12345678, headers: { Authorization: 99 } } } },
      mcp: { m: { type: 'local', command: ['x'], environment: { TOKEN: 7 } } },
      agent: { oracle: { fallbacks: { apiKey: 'sk-live-SECRET-1', headers: { 'X-Key': 'hdr-SECRET-2' } } } },
    });
    expect(lines).toEqual([
      'agent.oracle.fallbacks: expected a list, found {"apiKey":"****","headers":{"X-Key":"**…',
      'provider.p.options.apiKey: expected a string, found ****',
      'mcp.m.environment.TOKEN: expected a string, found ****',
    ]);
    expect(lines.join('\n')).not.toMatch(/SECRET|12345678|99/);
  });

  it('found: never shows a server key or a webhook secret, even one given as a number', () => {
    const lines = validateConfigObject({ server: { keys: [12345678901234, { key: 98765432109876 }], webhooks: [{ url: 'http://hooks.example/h', secret: 424242424242 }] } });
    expect(lines).toEqual([
      'server.keys[0]: expected a string or {key}, found ****',
      'server.keys[1].key: expected a string, found ****',
      'server.webhooks[0].secret: expected a non-empty string, found ****',
    ]);
  });

  it('reports every problem at once, in document order', () => {
    const lines = validateConfigObject({ fallbacks: ['x'], agent: { a: { temperature: 'hot', mode: 'x' } }, cache: { ttl: 0 } });
    expect(lines).toEqual([
      'agent.a.temperature: expected a number of at most 2, found "hot"',
      'agent.a.mode: expected one of "subagent", "primary", "all", found "x"',
      'fallbacks[0]: expected a model reference provider/model[:variant], found "x"',
      'cache.ttl: expected an integer from 1 to 31,536,000, found 0',
    ]);
  });
});
