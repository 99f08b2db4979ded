import { validateConfig } from './src/config/generated/config-validator.ts';
const bad = {
  modle: 'x',
  model: 'gpt4',
  agent: { oracle: { temperature: 3.5, mode: 'main', model: 42, fallbacks: [{provider:'x'}, 'a/b', 7], permission: { bash: 'maybe', edit: {'*': 'nope'} } } },
  provider: { p: { options: { baseUrl: 'x', baseURL: 'not a url', timeout: 0, apiKey: 5, headers: {A: 1} } } },
  mcp: { m: { type: 'local' }, r: {type: 'remote', timeout: 1.5}, q: {} },
  rateLimit: { maxRequests: 5 },
  workflow: { 'bad name': { steps: [] }, ok: { steps: [{ id: 'a', agent: 'x', prompt: 'p', needs: ['b','b'], forEach: 3 }] } },
  extends: 5,
};
const t0 = performance.now();
const ok = validateConfig(bad);
console.log(ok, performance.now()-t0);
for (const e of validateConfig.errors ?? []) { const {schema, parentSchema, data, ...rest} = e as any; console.log(JSON.stringify(rest), '| data=', JSON.stringify(data)?.slice(0,40)); }
