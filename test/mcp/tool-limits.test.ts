/**
 * A server whose tool list no model should get whole (10,000 tools in pages, a 5 MB description,
 * a 100 KB schema): the first 256 tools are taken, pages past them are not read, the description is
 * cut, the tool with the huge schema is left out, and each of these is said once.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { McpManager } from '../../src/mcp/manager.ts';
import { MAX_DESCRIPTION_CHARS, MAX_TOOLS_PER_SERVER } from '../../src/mcp/tool-limits.ts';
import type { McpWarning } from '../../src/mcp/types.ts';
import { fixture, START_TIMEOUT_MS, tempDir } from './helpers.ts';

describe('a server with a huge tool list', () => {
  const managers: McpManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
  });

  it('is bounded before it reaches the model, and says what it left out', async () => {
    const dir = await tempDir();
    const pagesFile = path.join(dir, 'pages');
    const warnings: McpWarning[] = [];
    const m = new McpManager(
      { many: { type: 'local', command: [process.execPath, fixture('many-tools.mjs')], environment: { PAGES_FILE: pagesFile }, timeout: START_TIMEOUT_MS } },
      { onWarning: (w) => warnings.push(w) },
    );
    managers.push(m);
    const [status] = await m.start();
    expect(status).toMatchObject({ state: 'connected', toolCount: MAX_TOOLS_PER_SERVER - 1 });
    expect(await readFile(pagesFile, 'utf8')).toBe('1');
    expect(warnings).toEqual([
      { code: 'MCP_TOOLS_LIMITED', server: 'many', message: `MCP server "many" offers more than 1,000 tools; only the first ${MAX_TOOLS_PER_SERVER} are used.` },
      { code: 'MCP_TOOLS_LIMITED', server: 'many', message: 'tool "t1" of MCP server "many" is left out: its input schema takes 100 KB (at most 64 KB).' },
      { code: 'MCP_TOOLS_LIMITED', server: 'many', message: 'MCP server "many": 1 tool description was cut to 4,096 characters.' },
    ]);
    const tools = await m.toolsFor(['many']);
    expect(Object.keys(tools)).toHaveLength(MAX_TOOLS_PER_SERVER - 1);
    expect(tools.many_t1).toBeUndefined();
    expect(tools.many_t0?.description).toHaveLength(MAX_DESCRIPTION_CHARS);
    expect(JSON.stringify(Object.values(tools).map((t) => [t.description, t.inputSchema])).length).toBeLessThan(200_000);
    expect(await m.callTool('many', 't255', {})).toMatchObject({ isError: false, text: 'called t255' });
  });
});
