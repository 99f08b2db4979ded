/**
 * Work the process does that nobody may be waiting for: a Copilot model list refreshed behind the
 * kept one (plugins/builtin/copilot-models.ts), a `skills.urls` registry read for turns that may all
 * have been cancelled (agents/skill-urls.ts). Each holds an AbortController here, so that a CLI
 * command that is done (cli/cli.ts) or the process's last server that stops (server/start.ts) abandons
 * it at once: its open requests would otherwise keep Node running until they end or time out.
 */
const running = new Set<AbortController>();

export interface BackgroundWork {
  /** Aborted when the work is abandoned (the reason: an Error saying why). */
  readonly signal: AbortSignal;
  /** Abandons this work alone (nobody waits for it any more). */
  abort(reason: string): void;
  /** The work ended: it is no longer abandoned with the rest. */
  done(): void;
}

export function startBackgroundWork(): BackgroundWork {
  const controller = new AbortController();
  running.add(controller);
  return {
    signal: controller.signal,
    abort: (reason) => {
      running.delete(controller);
      controller.abort(new Error(reason));
    },
    done: () => {
      running.delete(controller);
    },
  };
}

/** Abandons every background work under way (`reason`: why, as its notes say it), e.g. "the command ended". */
export function abandonBackgroundWork(reason: string): void {
  const all = [...running];
  running.clear();
  for (const controller of all) controller.abort(new Error(reason));
}
