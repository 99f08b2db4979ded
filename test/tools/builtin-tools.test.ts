import path from 'node:path';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, stepCountIs } from 'ai';
import type { ToolSet } from 'ai';
import { describe, expect, it } from 'vitest';
import { BUILTIN_TOOL_NAMES, createBuiltinTools, executeTool, isToolEnabled } from '../../src/tools/index.ts';
import { useScriptedServers } from '../support/openai-server/fetch-helpers.ts';
import { project } from './helpers.ts';

const start = useScriptedServers();

describe('createBuiltinTools', () => {
  it('offers the eight built-in tools with descriptions and JSON Schemas', async () => {
    const p = await project();
    const tools = await createBuiltinTools(p.ctx());
    expect(Object.keys(tools)).toEqual([...BUILTIN_TOOL_NAMES]);
    expect(BUILTIN_TOOL_NAMES).toEqual(['read', 'list', 'glob', 'grep', 'write', 'edit', 'bash', 'webfetch']);
    for (const tool of Object.values(tools)) expect(typeof tool.description).toBe('string');
  });

  it('removes tools turned off by the tools map (exact names and globs; the exact name wins)', async () => {
    const p = await project();
    expect(Object.keys(await createBuiltinTools(p.ctx(), { bash: false, webfetch: false, read: true }))).toEqual(['read', 'list', 'glob', 'grep', 'write', 'edit']);
    expect(Object.keys(await createBuiltinTools(p.ctx(), { '*': false, read: true, grep: true }))).toEqual(['read', 'grep']);
    expect(isToolEnabled('github_search', { 'github_*': false })).toBe(false);
    expect(isToolEnabled('github_search', { 'github_*': false, github_search: true })).toBe(true);
    expect(isToolEnabled('read', undefined)).toBe(true);
  });

  it('runs in a real AI SDK tool loop: invalid input and denials come back to the model as tool errors', async () => {
    const server = await start();
    const p = await project({ 'notes.txt': 'remember the milk\n' });
    server.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { path: 'notes.txt' }, id: 'call_bad' }] },
      {
        type: 'tool_calls',
        calls: [
          { name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_ok' },
          { name: 'bash', arguments: { command: 'rm -rf /' }, id: 'call_denied' },
        ],
      },
      { type: 'text', text: 'done' },
    );
    const tools = await createBuiltinTools(p.ctx({ permission: { bash: { '*': 'ask', 'rm *': 'deny' } } }));
    const model = createOpenAICompatible({ name: 'scripted', baseURL: server.url })('m');
    const result = await generateText({ model, prompt: 'read my notes', tools: tools as ToolSet, stopWhen: stepCountIs(5), maxRetries: 0 });
    expect(result.text).toBe('done');

    const [first, second] = result.steps;
    const bad = first?.content.find((part) => part.type === 'tool-error');
    expect(bad).toBeDefined();
    expect(String((bad as { error: unknown }).error)).toContain('invalid arguments for read: missing required argument "filePath"; unknown argument "path"');
    const ok = second?.content.find((part) => part.type === 'tool-result');
    expect((ok as { output: unknown }).output).toBe(`<path>${path.join(p.root, 'notes.txt')}</path>\n<type>file</type>\n<content>\n1: remember the milk\n\n(End of file - total 1 lines)\n</content>`);
    const denied = second?.content.find((part) => part.type === 'tool-error');
    expect(String((denied as { error: unknown }).error)).toContain('permission denied: bash `rm -rf /` (rule "rm *": deny)');
    expect(p.denied).toEqual([['bash', 'permission denied: bash `rm -rf /` (rule "rm *": deny)']]);

    // What the model was sent back: the tool errors as tool messages.
    const sent = JSON.stringify(server.log.at(-1));
    expect(sent).toContain('permission denied: bash `rm -rf /`');
    expect(JSON.stringify(server.log[1])).toContain('missing required argument');
  });
});

describe('executeTool', () => {
  it('names the built-in tools for an unknown one', async () => {
    const p = await project();
    await expect(executeTool('nope', {}, p.ctx())).rejects.toThrow('unknown tool "nope"; built-in tools: read, list, glob, grep, write, edit, bash, webfetch.');
  });

  it('turns an unexpected failure into a tool error with the cause', async () => {
    const p = await project({ 'a.txt': 'a file, not a folder' });
    expect(await p.fail('write', { filePath: 'a.txt/b.txt', content: 'x' })).toMatch(/^write failed: (EEXIST|ENOTDIR)/);
  });
});
