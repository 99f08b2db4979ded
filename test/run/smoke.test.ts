import { describe, it } from 'vitest';
import type { Step } from '../support/openai-server.ts';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();

const cases: [string, Step[], Step[]?, object?][] = [
  ['truncated-empty', [{ type: 'truncated', text: '' }, { type: 'text', text: 'full answer' }]],
  ['truncated-after', [{ type: 'truncated', text: 'The answer' }, { type: 'text', text: 'The answer is 42.' }]],
  ['truncated-abrupt', [{ type: 'truncated', text: 'The answer', abrupt: true }, { type: 'text', text: 'The answer is 42.' }]],
  ['reset', [{ type: 'reset' }, { type: 'text', text: 'ok after reset' }]],
  ['badjson', [{ type: 'bad_json' }, { type: 'text', text: 'ok after bad' }]],
  ['hang', [{ type: 'hang' }, { type: 'text', text: 'ok after hang' }], undefined, { timeoutMs: 200 }],
  ['hang-midstream', [{ type: 'hang', text: 'partial' }, { type: 'text', text: 'partial and whole' }], undefined, { timeoutMs: 200 }],
  ['401', [{ type: 'status', status: 401 }], [{ type: 'text', text: 'from b' }]],
  ['400', [{ type: 'status', status: 400 }], [{ type: 'text', text: 'from b' }]],
  ['allfail', [{ type: 'status', status: 500, forever: true }], [{ type: 'status', status: 503, forever: true }]],
];

describe('smoke', () => {
  for (const [name, stepsA, stepsB, extra] of cases) {
    it(name, async () => {
      const server = await h.server();
      server.script('a', ...stepsA);
      if (stepsB) server.script('b', ...stepsB);
      const config = configFor(server, { fallbacks: ['local/b'] });
      const runtime = await h.runtime(config);
      const { result, error, rec } = await h.run({ config, runtime, message: 'hi', ...extra });
      console.log(name, JSON.stringify(result), error, (error as {details?: unknown})?.details);
      console.log(name, rec.events.map((e) => JSON.stringify({ ...e, timestamp: undefined, sessionID: undefined, agent: undefined, taskID: undefined })).join('\n'));
      console.log(name, server.log.map((e) => [e.model, e.status, e.outcome, e.clientAborted].join(' ')));
    });
  }
});
