/**
 * A prompt's attachments as OpenCode keeps them (checked against OpenCode 1.18's own server): the
 * user message is the user's text, a file part per attachment as it was sent (its TUI shows these as
 * chips under the text), and the text files' contents as synthetic parts (the model's view, which
 * its TUI hides), on the event stream and read back later, through `@opencode-ai/sdk`. The model
 * gets the same request as before: the text with the files inline, the image as an image.
 */
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, userText, type Sandbox } from '../cli/cli-helper.ts';
import { serve } from './serve-helper.ts';
import { idleOf, watchedSession } from './sdk-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;

// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(server, { m: { modalities: { input: ['text', 'image'], output: ['text'] } } }), model: 'p/m', cache: { enabled: false } });
  sb.write('src/a.txt', 'alpha\n');
});

afterAll(async () => {
  await server?.close();
  await sb?.remove();
});

type Part = { id: string; type: string; text?: string; synthetic?: boolean; mime?: string; filename?: string; url?: string };

describe('a prompt’s files', () => {
  it('are file parts under the user’s own text, live and read back; their contents synthetic', async () => {
    const served = await serve(sb);
    try {
      const { client, id, stream, close } = await watchedSession(served.url, sb.project);
      const fileURL = `file://${path.join(sb.project, 'src/a.txt')}`;
      const dataURL = `data:text/markdown;base64,${Buffer.from('# beta\n').toString('base64')}`;
      const imageURL = `data:image/png;base64,${PNG}`;
      const sent = [
        { type: 'file' as const, mime: 'text/plain', filename: 'a.txt', url: fileURL, source: { type: 'file' as const, path: 'src/a.txt', text: { start: 8, end: 14, value: '@a.txt' } } },
        { type: 'file' as const, mime: 'text/markdown', filename: 'b.md', url: dataURL },
        { type: 'file' as const, mime: 'image/png', filename: 'dot.png', url: imageURL },
      ];
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'look at @a.txt' }, ...sent] } });
      await stream.until(idleOf(id));
      // The title is the user's words, not the files'.
      expect((await client.session.get({ path: { id } })).data?.title).toBe('look at @a.txt');
      // The model's request: the text with both text files inline, then the image.
      const request = server.log.at(-1);
      expect(userText(request)).toBe('look at @a.txt\n\n<file path="a.txt">\nalpha\n\n</file>\n\n<file path="b.md">\n# beta\n\n</file>');
      expect(JSON.stringify(request?.messages)).toContain(PNG);

      const messages = (await client.session.messages({ path: { id } })).data ?? [];
      const user = messages.find((m) => m.info.role === 'user');
      const parts = (user?.parts ?? []) as Part[];
      expect(parts.map((p) => ({ type: p.type, text: p.text, synthetic: p.synthetic, mime: p.mime, filename: p.filename, url: p.url }))).toEqual([
        { type: 'text', text: 'look at @a.txt', synthetic: undefined, mime: undefined, filename: undefined, url: undefined },
        { type: 'file', text: undefined, synthetic: undefined, mime: 'text/plain', filename: 'a.txt', url: fileURL },
        // Sent as data: the same data back.
        { type: 'file', text: undefined, synthetic: undefined, mime: 'text/markdown', filename: 'b.md', url: dataURL },
        { type: 'file', text: undefined, synthetic: undefined, mime: 'image/png', filename: 'dot.png', url: imageURL },
        { type: 'text', text: '<file path="a.txt">\nalpha\n\n</file>', synthetic: true, mime: undefined, filename: undefined, url: undefined },
        { type: 'text', text: '<file path="b.md">\n# beta\n\n</file>', synthetic: true, mime: undefined, filename: undefined, url: undefined },
      ]);
      // What the stream said last of each part is what is read back (the parts streamed first keep their ids).
      const live = new Map<string, Part>();
      for (const e of stream.events) {
        const part = (e.properties as { part?: Part & { messageID?: string } }).part;
        if (e.type === 'message.part.updated' && part && part.messageID === user?.info.id) live.set(part.id, part);
      }
      expect([...live.values()].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(parts);

      // The next turn's history: the model sees the files as before.
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'and now?' }] } });
      const history = JSON.stringify(server.log.at(-1)?.messages);
      expect(history).toContain('<file path=\\"b.md\\">\\n# beta\\n');
      expect(history).toContain(PNG);
      close();
    } finally {
      await served.stop();
    }
  });

  it('a prompt of files alone (OpenCode takes one): an empty text, the file parts; the files name the session', async () => {
    const served = await serve(sb);
    try {
      const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
      const id = (await client.session.create({ body: {} })).data?.id ?? '';
      const url = `file://${path.join(sb.project, 'src/a.txt')}`;
      const answered = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'file', mime: 'text/plain', filename: 'a.txt', url }] } });
      expect(answered.error, JSON.stringify(answered.error)).toBeUndefined();
      expect(userText(server.log.at(-1))).toBe('\n\n<file path="a.txt">\nalpha\n\n</file>');
      const messages = (await client.session.messages({ path: { id } })).data ?? [];
      const parts = (messages.find((m) => m.info.role === 'user')?.parts ?? []) as Part[];
      expect(parts.map((p) => [p.type, p.text ?? p.url, p.synthetic ?? false])).toEqual([
        ['text', '', false],
        ['file', url, false],
        ['text', '<file path="a.txt">\nalpha\n\n</file>', true],
      ]);
      expect((await client.session.get({ path: { id } })).data?.title).toBe('a.txt');
    } finally {
      await served.stop();
    }
  });
});
