import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { generateToolValidators, TOOL_AJV_OPTIONS, TOOL_VALIDATORS_FILE } from '../../scripts/gen-tool-validators.ts';
import { VALIDATED_TOOLS } from '../../src/tools/builtin.ts';
import { toolValidators } from '../../src/tools/generated/input-validators.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

describe('generated tool input validators (scripts/gen-tool-validators.ts)', () => {
  it(`${TOOL_VALIDATORS_FILE} is up to date with the tools' schemas`, async () => {
    const committed = await fs.readFile(path.join(repoRoot, TOOL_VALIDATORS_FILE), 'utf8');
    expect(committed === generateToolValidators(), `${TOOL_VALIDATORS_FILE} is stale: run \`npm run gen\``).toBe(true);
  });

  it('has one validator per built-in tool (and question), agreeing with a runtime compile, errors included', () => {
    expect(Object.keys(toolValidators).sort()).toEqual(VALIDATED_TOOLS.map((t) => t.name).sort());
    const ajv = new Ajv(TOOL_AJV_OPTIONS);
    const samples: unknown[] = [
      {},
      null,
      'x',
      [],
      { filePath: '' },
      { filePath: 'a.txt', offset: -1, limit: 0, extra: true },
      { pattern: '*.ts', path: 3 },
      { command: 'ls', timeout: 600_001, workdir: 'src' },
      { url: 'https://example.com', format: 'pdf', timeout: 1.5 },
      { filePath: 'a', oldString: 'x', newString: 'y', replaceAll: 'yes' },
      { filePath: 'a', content: 'hello' },
      { filePath: '\u{1F600}' },
      { questions: [] },
      { questions: [{ question: 'Which?', header: 'Pick', options: [{ label: 'a', description: '' }], multiple: 'no', custom: true }] },
      { questions: [{ question: '', header: 'x'.repeat(101), options: Array.from({ length: 21 }, () => ({ label: 'a' })) }] },
    ];
    for (const tool of VALIDATED_TOOLS) {
      const runtime = ajv.compile(tool.inputSchema as object);
      const generated = toolValidators[tool.name];
      for (const sample of samples) {
        expect(generated?.(sample), `${tool.name} ${JSON.stringify(sample)}`).toBe(runtime(sample));
        const errors = (list: typeof runtime.errors) => (list ?? []).map((e) => [e.instancePath, e.keyword, e.params, e.message]);
        expect(errors(generated?.errors), `${tool.name} ${JSON.stringify(sample)}`).toEqual(errors(runtime.errors));
      }
    }
  });
});
