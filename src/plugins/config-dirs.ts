/**
 * The folders OpenCode looks in for plugins (`plugin/`, `plugins/`) and custom tools (`tool/`,
 * `tools/`): the global config folder, each `.opencode` folder from the project root down to the
 * working directory, `~/.opencode`, and `OPENCODE_CONFIG_DIR` — lowest precedence first (a nearer
 * folder's tool of the same name wins). `OPENCODE_DISABLE_PROJECT_CONFIG` leaves the project's out.
 */
import path from 'node:path';
import { globalConfigFolder, homeDir } from '../config/home.ts';
import { searchDirs } from '../config/discover.ts';

export function pluginFolders(directory: string, projectRoot: string, env: NodeJS.ProcessEnv): string[] {
  const within = path.relative(projectRoot, directory);
  const inside = within === '' || (!within.startsWith('..') && !path.isAbsolute(within));
  const project = truthy(env.OPENCODE_DISABLE_PROJECT_CONFIG) ? [] : searchDirs(directory, inside ? projectRoot : undefined).reverse().map((dir) => path.join(dir, '.opencode'));
  const folders = [globalConfigFolder(env), ...project, path.join(homeDir(env), '.opencode'), ...(env.OPENCODE_CONFIG_DIR ? [path.resolve(directory, env.OPENCODE_CONFIG_DIR)] : [])];
  return [...new Set(folders)];
}

function truthy(value: string | undefined): boolean {
  return value === '1' || value?.toLowerCase() === 'true';
}
