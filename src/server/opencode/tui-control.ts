/**
 * OpenCode's TUI control: what its `/tui/*` routes publish for the TUI attached to the server (it
 * hears them on its event stream and acts: text appended to its prompt, a toast, a dialog opened, a
 * command run, a session shown), and the wait of `GET /tui/control/next`.
 */
import type { OcEvent } from './live-turn.ts';

/**
 * The command names of `POST /tui/execute-command` OpenCode maps to its TUI's commands (1.18.33's
 * table, for the IDE extensions written against it).
 */
export const TUI_COMMAND_NAMES: Readonly<Record<string, string>> = {
  session_new: 'session.new',
  session_share: 'session.share',
  session_interrupt: 'session.interrupt',
  session_compact: 'session.compact',
  messages_page_up: 'session.page.up',
  messages_page_down: 'session.page.down',
  messages_line_up: 'session.line.up',
  messages_line_down: 'session.line.down',
  messages_half_page_up: 'session.half.page.up',
  messages_half_page_down: 'session.half.page.down',
  messages_first: 'session.first',
  messages_last: 'session.last',
  agent_cycle: 'agent.cycle',
};

/** A TUI command id as the TUI names its own (`model.list`, `prompt.submit`, `theme.switch`). */
const TUI_COMMAND_ID = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$/;

/**
 * The TUI command `POST /tui/execute-command` runs: one of OpenCode's names above, or a command id
 * of the TUI's own, passed on as it is. Undefined for anything else (OpenCode publishes an empty
 * command for it, which the TUI ignores: Pantheon says so instead).
 */
export function tuiCommandOf(name: string): string | undefined {
  if (Object.hasOwn(TUI_COMMAND_NAMES, name)) return TUI_COMMAND_NAMES[name];
  return TUI_COMMAND_ID.test(name) && name.length <= 100 ? name : undefined;
}

/** `tui.command.execute` for a TUI command id. */
export function commandEvent(command: string): OcEvent {
  return { type: 'tui.command.execute', properties: { command } };
}

/** How long a toast stays when the request does not say (OpenCode's default, ms). */
export const TOAST_DEFAULT_MS = 5000;

/**
 * `GET /tui/control/next`'s wait. Nothing in Pantheon (nor in OpenCode 1.18.33's server) puts
 * requests for the TUI on that queue, so its caller waits until it goes away or the server stops
 * (`signal` aborts): the promise rejects with the signal's reason then, and never resolves otherwise.
 */
export function nextTuiRequest(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
