/**
 * A project served by `opencode serve` for the tests of OpenCode's session routes: a scripted
 * provider `p` (models `m` and any others named), a sandbox with its config (the response cache
 * off, `extra` merged in), the server, and an `@opencode-ai/sdk` client for the project; all
 * stopped after the file's tests.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

export interface ServedProject {
  server: ScriptedServer;
  sb: Sandbox;
  served: Served;
  client: ReturnType<typeof createOpencodeClient>;
}

export function useServedProject(extra: object = {}, models: Record<string, object> = { m: {} }): ServedProject {
  const project = {} as ServedProject;
  beforeAll(async () => {
    project.server = await startScriptedServer();
    project.sb = await sandbox();
    project.sb.write('opencode.json', { ...providerConfig(project.server, models), model: 'p/m', cache: { enabled: false }, ...extra });
    project.served = await serve(project.sb);
    project.client = createOpencodeClient({ baseUrl: project.served.url, directory: project.sb.project });
  });
  afterAll(async () => {
    await project.served?.stop();
    await project.server?.close();
    await project.sb?.remove();
  });
  return project;
}
