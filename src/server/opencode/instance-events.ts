/**
 * Letting projects' instances go as OpenCode does, with its events: `server.instance.disposed`
 * (`{directory}`) on each project's stream, which the attached TUI answers by reading the project
 * anew (its config, agents, providers), and `global.disposed` on `/global/event` when all went.
 */
import type { Instance } from '../../core/instances.ts';
import type { ServerState } from '../state.ts';

/** Lets one instance go (the next request opens it again, its config read anew) and says so. */
export async function disposeInstance(state: ServerState, instance: Pick<Instance, 'directory' | 'projectRoot'>): Promise<void> {
  await state.host.instances.dispose(instance.directory);
  state.events.publish(instance.projectRoot, { type: 'server.instance.disposed', properties: { directory: instance.directory } });
}

/** Lets every open instance go (`POST /global/dispose`, a change of the global config), then `global.disposed`. */
export async function disposeAll(state: ServerState): Promise<void> {
  const open = await state.host.instances.list();
  await Promise.all(open.map((instance) => disposeInstance(state, instance)));
  state.events.publish(undefined, { type: 'global.disposed', properties: {} });
}
