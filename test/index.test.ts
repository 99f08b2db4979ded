import { describe, expect, it } from 'vitest';
import * as pantheon from '../src/index.ts';

describe('the library entry (src/index.ts)', () => {
  it('exports the core as functions and classes', () => {
    for (const name of ['loadConfig', 'validateConfigObject', 'resolveModel', 'resolveAgent', 'runTask', 'openRuntime', 'acquire', 'openCache', 'cacheKey', 'createBuiltinTools', 'executeTool', 'trimHistory', 'toolsForAgent', 'runDoctor', 'authStatus', 'runWorkflow', 'validateWorkflow', 'requiredInputs', 'renderTemplate'] as const) {
      expect(typeof pantheon[name], name).toBe('function');
    }
    for (const name of ['Scheduler', 'SqliteLedger', 'MemoryLedger', 'EventBus', 'SessionStore', 'McpManager', 'PantheonError', 'Journal', 'WaitClock'] as const) {
      expect(typeof pantheon[name], name).toBe('function');
    }
  });

  it('validates a config object without touching the file system', () => {
    expect(pantheon.validateConfigObject({ model: 'nvidia-nim/qwen-3.5-397b' })).toEqual([]);
    expect(pantheon.validateConfigObject({ retyr: {} })).toEqual(['retyr: unknown key; did you mean "retry"?']);
    expect(pantheon.configWarningsOf({ modle: 'local/m1' }).join('\n')).toContain('did you mean "model"');
  });
});
