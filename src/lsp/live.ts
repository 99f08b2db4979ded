/**
 * The language servers this process runs, so that none outlives it: `closeAllLsp` shuts them down
 * (the end of `opencode run`, a server's stop), and on exit any left is killed with its process
 * group. Kept apart from the client so that closing costs no import of it when none ran.
 */
/** A project's language servers (lsp.ts's Lsp), as far as this registry needs them. */
export interface LspManager {
  readonly closed: boolean;
  close(): Promise<void>;
  status(): { id: string; name: string; root: string; status: 'connected' | 'error' }[];
}

const managers = new Set<LspManager>();
/**
 * The managers by project root and `lsp` setting: a turn's config made from an instance's (a
 * command's, with its own keys) shares the instance's servers, not a set of its own.
 */
const projects = new Map<string, LspManager>();
const keyOf = (config: { lsp?: unknown }, projectRoot: string): string => `${projectRoot}\u0000${JSON.stringify(config.lsp ?? null)}`;
const groups = new Set<number>();
let hooked = false;

function killLeft(): void {
  for (const pid of groups) {
    try {
      process.kill(process.platform === 'win32' ? pid : -pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  groups.clear();
}

/** A server process (the leader of its own process group) to kill on exit if it is still there. */
export function trackServerProcess(pid: number): () => void {
  groups.add(pid);
  if (!hooked) {
    hooked = true;
    process.once('exit', killLeft);
  }
  return () => groups.delete(pid);
}

const startedListeners = new Set<(projectRoot: string) => void>();

/** Told when a project's language server started (a server publishes OpenCode's `lsp.updated`, on which its TUI asks `GET /lsp` again). */
export function onLspStarted(listener: (projectRoot: string) => void): () => void {
  startedListeners.add(listener);
  return () => startedListeners.delete(listener);
}

export function lspStarted(projectRoot: string): void {
  for (const listener of startedListeners) listener(projectRoot);
}

export function registerLsp(manager: LspManager): () => void {
  managers.add(manager);
  return () => managers.delete(manager);
}

/** The open manager of a project under `config`, if one was made. */
export function lspManagerOf(config: { lsp?: unknown }, projectRoot: string): LspManager | undefined {
  const found = projects.get(keyOf(config, projectRoot));
  return found && !found.closed ? found : undefined;
}

export function keepLspManager(config: { lsp?: unknown }, projectRoot: string, manager: LspManager): void {
  projects.set(keyOf(config, projectRoot), manager);
}

/** The running servers of a project (OpenCode's `GET /lsp`; `[]` when none run). */
export function lspStatusOf(config: { lsp?: unknown }, projectRoot: string): ReturnType<LspManager['status']> {
  return lspManagerOf(config, projectRoot)?.status() ?? [];
}

/** Shuts down the servers of a project under `config` (an instance closed or disposed). */
export async function closeLspOf(config: { lsp?: unknown }, projectRoot: string): Promise<void> {
  const key = keyOf(config, projectRoot);
  const found = projects.get(key);
  projects.delete(key);
  await found?.close();
}

/** Shuts every language server of the process down (each bounded; see LspClient.shutdown). */
export async function closeAllLsp(): Promise<void> {
  const all = [...managers];
  managers.clear();
  projects.clear();
  await Promise.allSettled(all.map((m) => m.close()));
}
