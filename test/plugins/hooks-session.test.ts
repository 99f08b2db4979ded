/**
 * The plugins' hooks through a session's turn (the core `opencode run` and the server call): they
 * are told the session's id and the turn's message ids, what they change is what the session saves,
 * and OpenCode's shell mode gets the variables of `shell.env`.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openTurn } from '../../src/core/session-turn.ts';
import { SessionStore } from '../../src/session/store.ts';
import { configFor, useHarness } from '../run/harness.ts';
import { testHost } from './test-host.ts';

const h = useHarness();
const permissions = { auto: true, interactive: false };

describe('plugins on a session turn', () => {
  it('are told the session and the turn\'s message ids, and the session saves what they changed', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'the answer' });
    const config = configFor(server);
    const plugins = testHost({
      'chat.params': () => undefined,
      'experimental.text.complete': (_input, output) => void (output.text = `${output.text} [checked]`),
    });
    const services = { config, runtime: await h.runtime(config), plugins };
    const where = { store: new SessionStore(await h.tempDir()), projectRoot: await h.tempDir() };
    const turn = await openTurn(where);
    const result = await turn.run(services, { message: 'hello', permissions });
    expect(result.status).toBe('success');
    const [params] = plugins.of('chat.params');
    expect(params).toMatchObject({ sessionID: turn.sessionID, message: { id: result.ids.user, sessionID: turn.sessionID } });
    expect(plugins.of('experimental.text.complete')[0]).toMatchObject({ sessionID: turn.sessionID, messageID: result.ids.assistant });
    const saved = JSON.stringify((await where.store.load(turn.sessionID)).messages);
    expect(saved).toContain('the answer [checked]');
  });

  it('a compaction\'s model call goes through chat.headers and chat.params too (a gateway\'s header), not chat.message', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'first' }, { type: 'text', text: 'SUMMARY.' });
    const config = configFor(server);
    const plugins = testHost({
      'chat.headers': (_input, output) => void (output.headers['x-gateway-team'] = 'core'),
      'chat.message': () => undefined,
    });
    const services = { config, runtime: await h.runtime(config), plugins };
    const where = { store: new SessionStore(await h.tempDir()), projectRoot: await h.tempDir() };
    const turn = await openTurn(where);
    await turn.run(services, { message: 'hello', permissions });
    const next = await openTurn(where, { sessionID: turn.sessionID });
    const compacted = await next.run(services, { message: '', compaction: true, permissions });
    expect(compacted.status).toBe('success');
    expect(server.log.map((r) => r.headers['x-gateway-team'])).toEqual(['core', 'core']);
    expect(plugins.of('chat.message')).toHaveLength(1);
  });

  it('shell mode runs its command with the variables shell.env sets, told the folder, the session and the call', async () => {
    const server = await h.server();
    const config = configFor(server);
    const plugins = testHost({ 'shell.env': (_input, output) => void (output.env.GREETING = 'hi-from-plugin') });
    const services = { config, runtime: await h.runtime(config), plugins };
    const root = await h.tempDir();
    const where = { store: new SessionStore(await h.tempDir()), projectRoot: root };
    const turn = await openTurn(where);
    const result = await turn.run(services, { message: '', shell: 'echo "$GREETING"', permissions });
    expect(result.status).toBe('success');
    expect(JSON.stringify((await where.store.load(turn.sessionID)).messages)).toContain('hi-from-plugin');
    const [input] = plugins.of('shell.env');
    expect(input).toMatchObject({ cwd: fs.realpathSync(root), sessionID: turn.sessionID });
    expect(input.callID).toMatch(/^shell_/);
    expect(server.log).toHaveLength(0);
  });
});
