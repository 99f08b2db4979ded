/** The filesystem server rooted in a temp folder and the memory server with its file in one, side by side. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpManager } from '../../src/mcp/manager.ts';
import { FILESYSTEM, MEMORY, START_TIMEOUT_MS, tempDir } from './helpers.ts';

describe('server-filesystem and server-memory', () => {
  let manager: McpManager;
  let root: string;
  let memoryFile: string;
  let outside: string;

  beforeAll(async () => {
    root = await tempDir('pantheon-fs-root-');
    outside = await tempDir('pantheon-fs-outside-');
    memoryFile = path.join(await tempDir('pantheon-memory-'), 'memory.jsonl');
    await writeFile(path.join(root, 'notes.txt'), 'first line\nsecond line\n');
    await writeFile(path.join(outside, 'secret.txt'), 'not for the model');
    manager = new McpManager({
      fs: { type: 'local', command: [process.execPath, FILESYSTEM, root], timeout: START_TIMEOUT_MS },
      memory: { type: 'local', command: [process.execPath, MEMORY], environment: { MEMORY_FILE_PATH: memoryFile }, timeout: START_TIMEOUT_MS },
    });
    const statuses = await manager.start();
    expect(statuses.map((s) => [s.name, s.state])).toEqual([
      ['fs', 'connected'],
      ['memory', 'connected'],
    ]);
  });
  afterAll(async () => {
    await manager.shutdown();
  });

  it('exposes both servers’ tools under their prefixes', async () => {
    const names = (await manager.exposedTools()).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['fs_read_text_file', 'fs_write_file', 'fs_list_directory', 'memory_create_entities', 'memory_read_graph']));
  });

  it('reads and writes files inside the root', async () => {
    const read = await manager.callTool('fs', 'read_text_file', { path: path.join(root, 'notes.txt') });
    expect(read).toMatchObject({ isError: false, text: 'first line\nsecond line\n' });
    const write = await manager.callTool('fs', 'write_file', { path: path.join(root, 'out.md'), content: '# written by a tool\n' });
    expect(write.isError, write.text).toBe(false);
    expect(await readFile(path.join(root, 'out.md'), 'utf8')).toBe('# written by a tool\n');
    expect((await manager.callTool('fs', 'list_directory', { path: root })).text.split('\n').sort()).toEqual(['[FILE] notes.txt', '[FILE] out.md']);
  });

  it('returns the server’s refusal of a path outside the root as a tool error', async () => {
    const result = await manager.callTool('fs', 'read_text_file', { path: path.join(outside, 'secret.txt') });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^error: .*(denied|outside)/is);
    expect(result.text).not.toContain('not for the model');
  });

  it('keeps a knowledge graph in the memory file it was given', async () => {
    const created = await manager.callTool('memory', 'create_entities', {
      entities: [{ name: 'Pantheon', entityType: 'project', observations: ['orchestrates agents'] }],
    });
    expect(created.isError, created.text).toBe(false);
    const graph = JSON.parse((await manager.callTool('memory', 'read_graph', {})).text) as { entities: { name: string; observations: string[] }[] };
    expect(graph.entities).toEqual([expect.objectContaining({ name: 'Pantheon', observations: ['orchestrates agents'] })]);
    expect(await readFile(memoryFile, 'utf8')).toContain('"name":"Pantheon"');
  });

  it('returns arguments the memory tool’s schema rejects as a tool error', async () => {
    const result = await manager.callTool('memory', 'create_entities', { entities: [{ name: 42 }] });
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^error: .*Input validation error/s);
  });
});
