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
/** The managers by config (kept while the config is) and project root. */
const projects = new WeakMap<object, Map<string, LspManager>>();
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

export function registerLsp(manager: LspManager): () => void {
  managers.add(manager);
  return () => managers.delete(manager);
}

/** The open manager of a project under `config`, if one was made. */
export function lspManagerOf(config: object, projectRoot: string): LspManager | undefined {
  const found = projects.get(config)?.get(projectRoot);
  return found && !found.closed ? found : undefined;
}

export function keepLspManager(config: object, projectRoot: string, manager: LspManager): void {
  let byRoot = projects.get(config);
  if (!byRoot) projects.set(config, (byRoot = new Map()));
  byRoot.set(projectRoot, manager);
}

/** The running servers of a project (OpenCode's `GET /lsp`; `[]` when none run). */
export function lspStatusOf(config: object, projectRoot: string): ReturnType<LspManager['status']> {
  return lspManagerOf(config, projectRoot)?.status() ?? [];
}

/** Shuts down the servers of every project under `config` (an instance closed or disposed). */
export async function closeLspOf(config: object): Promise<void> {
  const byRoot = projects.get(config);
  projects.delete(config);
  await Promise.allSettled([...(byRoot?.values() ?? [])].map((m) => m.close()));
}

/** Shuts every language server of the process down (each bounded; see LspClient.shutdown). */
export async function closeAllLsp(): Promise<void> {
  const all = [...managers];
  managers.clear();
  await Promise.allSettled(all.map((m) => m.close()));
}
