/**
 * A session's durable events in the real store (files in a temp folder): numbered with the save that
 * writes them, read back whole, capped with the oldest dropped (numbers not reused), a file without
 * events written as before; and the feed's seam — events committed while the session is read are
 * sent once each, whether the read saw them or not, then live ones, and a feed stopped hears nothing.
 */
import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendEvents, EVENT_CAP, MAX_TOOL_TEXT, type DurableEvent } from '../../src/session/durable-events.ts';
import { openFeed } from '../../src/session/event-feed.ts';
import { SessionStore } from '../../src/session/store.ts';
import { turnEvents } from '../../src/session/turn-events.ts';
import { record, tempDir } from './helpers.ts';

const ID = 'ses_events';
const draft = (n: number) => ({ type: 'session.next.agent.switched', data: { timestamp: n, sessionID: ID, messageID: `msg_${n}`, agent: `a${n}` } });

describe('durable events in the session store', () => {
  let dir: string;
  let store: SessionStore;
  beforeEach(async () => {
    dir = await tempDir();
    store = new SessionStore(dir);
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('are numbered from 1, written with the session, announced once written, and read back', async () => {
    const heard: number[] = [];
    const stop = store.watch(ID, (events) => heard.push(...events.map((e) => e.seq)));
    await store.save(record(ID));
    expect(await fs.readFile(store.fileOf(ID), 'utf8')).not.toContain('"events"');
    const saved = appendEvents(await store.load(ID), [draft(1), draft(2)]);
    expect(heard).toEqual([]);
    await store.save(saved);
    expect(heard).toEqual([1, 2]);
    // Saved again unchanged: nothing new to announce.
    await store.save(saved);
    expect(heard).toEqual([1, 2]);
    const loaded = await store.load(ID);
    expect(loaded.events).toEqual(saved.events);
    await store.save(appendEvents(loaded, [draft(3)]));
    expect(heard).toEqual([1, 2, 3]);
    stop();
    await store.save(appendEvents(await store.load(ID), [draft(4)]));
    expect(heard).toEqual([1, 2, 3]);
    expect((await store.list()).sessions.map((s) => s.id)).toEqual([ID]);
  });

  it('keep the newest EVENT_CAP, numbers going on', async () => {
    let r = record(ID);
    r = appendEvents(r, Array.from({ length: EVENT_CAP - 1 }, (_, i) => draft(i)));
    r = appendEvents(r, [draft(9000), draft(9001), draft(9002)]);
    await store.save(r);
    const events = (await store.load(ID)).events as DurableEvent[];
    expect(events.length).toBe(EVENT_CAP);
    expect([events[0]?.seq, events.at(-1)?.seq]).toEqual([3, EVENT_CAP + 2]);
  });

  it('saved again after loading, at the cap, the file holds exactly the events kept (the saved text reused, the dropped cut)', async () => {
    await store.save(appendEvents(record(ID), Array.from({ length: EVENT_CAP }, (_, i) => draft(i))));
    for (let round = 0; round < 3; round++) {
      const loaded = await store.load(ID);
      const next = appendEvents(loaded, [draft(100 + round), draft(200 + round)]);
      await store.save(next);
      const again = await store.load(ID);
      expect(again.events).toEqual(next.events);
      expect(again.events?.length).toBe(EVENT_CAP);
      expect([again.events?.[0]?.seq, again.events?.at(-1)?.seq]).toEqual([3 + 2 * round, EVENT_CAP + 2 + 2 * round]);
    }
    // Saved with nothing added: the same text.
    const before = await fs.readFile(store.fileOf(ID), 'utf8');
    await store.save(await store.load(ID));
    expect(await fs.readFile(store.fileOf(ID), 'utf8')).toBe(before);
  });

  it('a file whose events are not a list in ascending order is reported, not half read', async () => {
    await store.save(appendEvents(record(ID), [draft(1), draft(2)]));
    const text = await fs.readFile(store.fileOf(ID), 'utf8');
    await fs.writeFile(store.fileOf(ID), text.replace('"seq":2', '"seq":1'));
    await expect(store.load(ID)).rejects.toThrow(/"events" is not a list/);
  });

  it('a turn’s long tool output is cut in its event, its reply text kept whole', () => {
    const long = 'x'.repeat(MAX_TOOL_TEXT + 10);
    const drafts = turnEvents(ID, [
      { role: 'user', content: [{ type: 'text', text: 'go' }], info: { id: 'msg_u', time: 1, agent: 'build', reply: { id: 'msg_a', completed: 2, usage: { inputTokens: 1, outputTokens: 1 }, steps: [{ provider: 'p', model: 'p/m', usage: { inputTokens: 1, outputTokens: 1 } }] } } },
      { role: 'assistant', content: [{ type: 'text', text: long }, { type: 'tool-call', toolCallId: 'c1', toolName: 'read', input: { filePath: 'a' } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'read', output: { type: 'text', value: long } }] },
    ]);
    const success = drafts.find((d) => d.type === 'session.next.tool.success');
    expect(JSON.stringify(success?.data)).toContain('10 more characters not kept');
    expect(drafts.find((d) => d.type === 'session.next.text.ended')?.data.text).toBe(long);
    expect(drafts.find((d) => d.type === 'session.next.step.started')?.data.model).toEqual({ id: 'm', providerID: 'p' });
  });
});

describe('the event feed’s seam', () => {
  let dir: string;
  let store: SessionStore;
  beforeEach(async () => {
    dir = await tempDir();
    store = new SessionStore(dir);
    await store.save(appendEvents(record(ID), [draft(1), draft(2)]));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function commit(n: number): Promise<void> {
    await store.save(appendEvents(await store.load(ID), [draft(n)]));
  }

  it('an event committed before the read is sent once, though both the read and the listener have it', async () => {
    const feed = await openFeed(store, ID, async () => {
      await commit(3);
      return store.load(ID);
    }, 1);
    expect(feed.record.events?.map((e) => e.seq)).toEqual([1, 2, 3]);
    const sent: number[] = [];
    const stop = feed.start((e) => sent.push(e.seq) > 0, () => undefined);
    await commit(4);
    expect(sent).toEqual([2, 3, 4]);
    stop();
    await commit(5);
    expect(sent).toEqual([2, 3, 4]);
  });

  it('an event committed after the read is sent from what the listener kept', async () => {
    const feed = await openFeed(store, ID, async () => {
      const read = await store.load(ID);
      await commit(3);
      return read;
    }, 0);
    expect(feed.record.events?.map((e) => e.seq)).toEqual([1, 2]);
    const sent: number[] = [];
    const stop = feed.start((e) => sent.push(e.seq) > 0, () => undefined);
    expect(sent).toEqual([1, 2, 3]);
    await commit(4);
    expect(sent).toEqual([1, 2, 3, 4]);
    stop();
  });

  it('a reader that is gone stops the sending; a stopped feed or a read that fails leaves no listener', async () => {
    const feed = await openFeed(store, ID, () => store.load(ID), 0);
    expect(store.watching(ID)).toBe(1);
    const sent: number[] = [];
    const stop = feed.start((e) => sent.push(e.seq) < 1, () => undefined);
    expect(sent).toEqual([1]);
    await commit(3);
    expect(sent).toEqual([1]);
    stop();
    expect(store.watching(ID)).toBe(0);
    await expect(openFeed(store, ID, () => Promise.reject(new Error('gone')), 0)).rejects.toThrow('gone');
    expect(store.watching(ID)).toBe(0);
  });
});
