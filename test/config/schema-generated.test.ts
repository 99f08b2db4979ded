import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createAjv, mergedSchema, TYPES_FILE, VALIDATOR_FILE, writeConfigFiles } from '../../scripts/gen-config.ts';
import { configSchema, validateConfig } from '../../src/config/generated/config-validator.ts';
import type { AgentConfig, Config, McpConfig, ModelSpec, WorkflowStep } from '../../src/config/schema-types.ts';
import { tempDir } from './validate-helper.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

describe('generated files (scripts/gen-config.ts)', () => {
  let out: string;
  beforeAll(async () => {
    out = await tempDir();
    await writeConfigFiles(out);
  });
  afterAll(async () => {
    await fs.rm(out, { recursive: true, force: true });
  });

  it.each([TYPES_FILE, VALIDATOR_FILE])('%s is up to date with schema/config.json', async (file) => {
    const fresh = await fs.readFile(path.join(out, file), 'utf8');
    const committed = await fs.readFile(path.join(repoRoot, file), 'utf8');
    expect(committed === fresh, `${file} is stale: run \`npx node scripts/gen-config.ts\``).toBe(true);
  });

  it('the precompiled validator carries the merged schema and agrees with a runtime compile', async () => {
    const schema = await mergedSchema();
    expect(configSchema).toEqual(schema);
    const runtime = createAjv().compile(schema);
    const samples: unknown[] = [
      {},
      { model: 'gpt4', agent: { a: { temperature: 3, model: 1 } } },
      { mcp: { m: { type: 'local' } }, rateLimit: { windowMs: 1000 }, workflow: { 'bad name': { steps: [] } } },
      { permission: 'allow', mcp: { m: { command: 'npx x', enabled: true } }, agent: { b: { hidden: true, variant: 'high', zz: 1 } } },
      JSON.parse(await fs.readFile(path.join(repoRoot, 'test', 'fixtures', 'seed', 'section-11.json'), 'utf8')),
    ];
    for (const sample of samples) {
      expect(validateConfig(sample)).toBe(runtime(sample));
      const strip = (errors: typeof runtime.errors) => (errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
      expect(strip(validateConfig.errors)).toEqual(strip(runtime.errors));
    }
  });

  it('types name the schema parts readably', () => {
    const spec: ModelSpec = { provider: 'nvidia-nim', id: 'qwen/qwen3.5-397b-a17b' };
    const agent: AgentConfig = { model: spec, fallbacks: ['opencode-zen/zen/big-pickle'], mode: 'subagent', temperature: 0.2 };
    const mcp: McpConfig = { type: 'local', command: ['npx', '-y', '@modelcontextprotocol/server-memory'] };
    const stepOne: WorkflowStep = { id: 'plan', agent: 'oracle', prompt: 'Plan {{input.task}}' };
    const config: Config = { agent: { oracle: agent }, mcp: { memory: mcp }, workflow: { ship: { steps: [stepOne] } } };
    expect(validateConfig(config)).toBe(true);
  });
});
