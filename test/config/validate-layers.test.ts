import { parse } from 'jsonc-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ConfigLayer } from '../../src/config/layer.ts';
import { validateLayers } from '../../src/config/validate.ts';
import { configError, fileLayer, tempDir } from './validate-helper.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const GLOBAL = `{
  // my global settings
  "agent": {
    "oracle": {
      "temperature": "hot",
      "mode": "main"
    }
  }
}
`;

const PROJECT = `{
  "$schema": "https://pantheon.dev/schema/config.json",
  "provider": {
    "nvidia-nim": {
      "options": {
        "baseUrl": "https://integrate.api.nvidia.com/v1",
        "apiKey": 42,
      },
    },
  },
  "agent": { "oracle": { "description": "reviews" } },
  "cache": { "ttl": 0 }
}
`;

describe('validateLayers', () => {
  it('returns quietly for a valid config', async () => {
    const layer = await fileLayer(dir, 'opencode.json', '{ "model": "nvidia-nim/qwen-3.5-397b" }');
    expect(configError(validateLayers, [layer])).toBeUndefined();
  });

  it('reports every problem of two files at once, ordered by file then line, with line:col', async () => {
    const global = await fileLayer(dir, 'config/opencode/opencode.json', GLOBAL, 'global');
    const project = await fileLayer(dir, 'proj/opencode.jsonc', PROJECT, 'project');
    const error = configError(validateLayers, [global, project]);
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toBe('Invalid config: 4 problems in 2 files.');
    expect(error?.hint).toBe('Fix the fields above; `opencode config validate` re-checks.');
    expect(error?.details).toEqual([
      `${global.file}:5:7 agent.oracle.temperature: expected a number of at most 2, found "hot"`,
      `${global.file}:6:7 agent.oracle.mode: expected one of "subagent", "primary", "all", found "main"`,
      `${project.file}:7:9 provider.nvidia-nim.options.apiKey: expected a string, found ****`,
      `${project.file}:12:14 cache.ttl: expected an integer from 1 to 31,536,000, found 0`,
    ]);
  });

  it('returns the warnings of a valid config, placed the same way', async () => {
    const layer = await fileLayer(dir, 'opencode.json', '{\n  "modle": "a/b",\n  "provider": { "nvidia-nim": { "options": { "baseUrl": "https://x.test/v1" } } }\n}');
    const warnings = validateLayers(layer.data, [layer]);
    expect(warnings.map((w) => `${w.file} ${w.path}: ${w.message}`)).toEqual([
      `${layer.file}:2:3 modle: unknown key, ignored (OpenCode ignores it too); did you mean "model"?`,
      `${layer.file}:3:46 provider.nvidia-nim.options.baseUrl: not a key of this object; passed on as is; did you mean "baseURL"?`,
    ]);
  });

  it('blames the highest-precedence layer that sets the value', async () => {
    const low = await fileLayer(dir, 'a.json', '{\n  "agent": { "oracle": { "temperature": "5" } }\n}');
    const high = await fileLayer(dir, 'b.json', '{\n\n  "agent": {\n    "oracle": { "temperature": "7" }\n  }\n}');
    const error = configError(validateLayers, [low, high]);
    expect(error?.message).toBe('Invalid config: 1 problem in 1 file.');
    expect(error?.details).toEqual([`${high.file}:4:17 agent.oracle.temperature: expected a number of at most 2, found "7"`]);
  });

  it('points a missing required key at the object that lacks it, in the layer that set that object', async () => {
    const base = await fileLayer(dir, 'base.json', '{ "mcp": { "memory": { "type": "remote", "url": "https://m.test/mcp" } } }');
    const over = await fileLayer(dir, 'over.json', '{\n  "mcp": {\n    "memory": { "type": "local" }\n  }\n}');
    // Objects merge, so the merged server has a url but no command.
    const error = configError(validateLayers, [base, over]);
    expect(error?.details).toEqual([`${over.file}:3:5 mcp.memory.command: missing; required`]);
  });

  it('labels layers without a file (presets, flags) and gives them no position', async () => {
    const preset: ConfigLayer = { kind: 'preset', label: 'preset:oh-my-opencode', data: { agent: { x: { mode: 'main' } } } };
    const flags: ConfigLayer = { kind: 'flags', label: 'command-line flags', data: { fallbacks: ['gpt4'] } };
    const error = configError(validateLayers, [preset, flags]);
    expect(error?.message).toBe('Invalid config: 2 problems in 2 files.');
    expect(error?.details).toEqual([
      'preset:oh-my-opencode agent.x.mode: expected one of "subagent", "primary", "all", found "main"',
      'command-line flags fallbacks[0]: expected a model reference provider/model[:variant], found "gpt4"',
    ]);
  });

  it('translates paths of mapped layers (oh-my-opencode.json) through sourcePaths', async () => {
    const text = `{
  "agents": {
    "oracle": {
      "model": 4,
      "temperature": "9",
      "prompt_append": "be brief"
    }
  }
}
`;
    const file = path.join(dir, 'oh-my-opencode.json');
    await fs.writeFile(file, text);
    const layer: ConfigLayer = {
      kind: 'project-oh-my-opencode',
      label: file,
      file,
      text,
      data: { agent: { oracle: { model: 4, temperature: '9', prompt_append: 'be brief' } } },
      sourcePaths: new Map([
        ['agent/oracle/model', ['agents', 'oracle', 'model']],
        // Only the parent is mapped: the rest of the path is appended.
        ['agent/oracle', ['agents', 'oracle']],
      ]),
    };
    const error = configError(validateLayers, [layer]);
    expect(error?.details).toEqual([
      `${file}:4:7 agent.oracle.model: expected a string, or a "provider/model[:variant]" string or {provider, id}, found 4`,
      `${file}:5:7 agent.oracle.temperature: expected a number of at most 2, found "9"`,
    ]);
  });

  it('finds the object of a package.json#opencode layer through a root mapping', async () => {
    const text = '{\n  "name": "app",\n  "opencode": {\n    "retyr": {}\n  }\n}\n';
    const file = path.join(dir, 'package.json');
    await fs.writeFile(file, text);
    const data = (parse(text) as { opencode: Record<string, unknown> }).opencode;
    const layer: ConfigLayer = { kind: 'project', label: `${file}#opencode`, file, text, data, sourcePaths: new Map([['', ['opencode']]]) };
    expect(configError(validateLayers, [layer])?.details).toEqual([`${file}:4:5 retyr: unknown key; did you mean "retry"?`]);
  });

  it('never prints a secret that a file holds', async () => {
    const layer = await fileLayer(
      dir,
      'opencode.json',
      '{\n  "agent": { "oracle": { "fallbacks": { "apiKey": "nvapi-SECRET-abcdef" } } },\n  "mcp": { "gh": { "type": "remote", "url": "https://x.test", "headers": { "Authorization": ["Bearer SECRET2"] } } }\n}',
    );
    const error = configError(validateLayers, [layer]);
    expect(error?.details).toEqual([
      `${layer.file}:2:26 agent.oracle.fallbacks: expected a list, found {"apiKey":"****"}`,
      `${layer.file}:3:76 mcp.gh.headers.Authorization: expected a string, found ****`,
    ]);
    expect(JSON.stringify(error?.details)).not.toContain('SECRET');
  });
});
