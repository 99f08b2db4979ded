/**
 * A session's messages as they stand, in OpenCode's v1 shape, oldest first: the saved ones, then the
 * running turn's (its user message, and the reply so far) unless the session was saved with them
 * already. The v1 and v2 message routes both read them here.
 */
import type { SessionRecord } from '../../session/store.ts';
import type { ServerState } from '../state.ts';
import { openCodeMessages, type OcMessage } from './message-view.ts';

export async function sessionMessages(state: ServerState, id: string): Promise<{ record: SessionRecord; messages: OcMessage[] }> {
  const { host, events } = state;
  const running = events.liveMessages(id).length > 0;
  let record = await host.sessions.get(id);
  let live = events.liveMessages(id);
  // The turn ended while the file was read: its save may have come after the read.
  if (running && live.length === 0) {
    record = await host.sessions.get(id);
    live = events.liveMessages(id);
  }
  const saved = openCodeMessages(record);
  const ids = new Set(saved.map((m) => m.info.id));
  return { record, messages: [...saved, ...(live.filter((m) => !ids.has(m.info.id as string)) as unknown as OcMessage[])] };
}
