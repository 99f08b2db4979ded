/**
 * Workflow test harness: scripted servers, temp XDG dirs, runtimes and journals closed after each
 * test, an inline config builder and a runWorkflow wrapper that records events.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Config, WorkflowConfig } from '../../src/config/schema-types.ts';
import { EventBus, type PantheonEvent } from '../../src/events.ts';
import { openRuntime, type Runtime } from '../../src/run/runtime.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { Journal } from '../../src/workflow/journal.ts';
import { runWorkflow, type WorkflowRunOptions, type WorkflowRunResult } from '../../src/workflow/run-workflow.ts';
import { startScriptedServer, type RequestLogEntry, type ScriptedServer, type ScriptedServerOptions } from '../support/openai-server.ts';

export const KEY = 'sk-test-workflow-0123456789';

/** The text of the last user message of a logged request. */
export function promptOf(entry: RequestLogEntry): string {
  const users = entry.messages.filter((m) => (m as { role: string }).role === 'user') as { content: unknown }[];
  const content = users.at(-1)?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (part as { text?: string }).text ?? '').join('');
  return '';
}

/** A config with provider `local` (models a, b) at the server, agents `worker` and `checker`, and the workflows given. */
export function workflowConfig(server: { url: string }, workflow: Record<string, WorkflowConfig>, extra: Partial<Config> = {}): Config {
  return {
    model: 'local/a',
    provider: { local: { options: { baseURL: server.url, apiKey: KEY }, models: { a: {}, b: {} } } },
    retry: { maxRetries: 2, baseDelay: 10, maxDelay: 200 },
    cache: { enabled: false },
    agent: { worker: {}, checker: { model: 'local/b' }, retired: { disable: true } },
    workflow,
    ...extra,
  } as Config;
}

export interface Outcome {
  result?: WorkflowRunResult;
  error?: unknown;
  events: PantheonEvent[];
}

export interface WorkflowHarness {
  server: (options?: ScriptedServerOptions) => Promise<ScriptedServer>;
  env: () => Promise<NodeJS.ProcessEnv>;
  runtime: (config: Config) => Promise<Runtime>;
  journal: (env: NodeJS.ProcessEnv) => Journal;
  /** runWorkflow with a fresh bus; never throws (the error is returned). */
  run: (options: Omit<WorkflowRunOptions, 'bus' | 'runtime' | 'journal' | 'inputs'> & Partial<Pick<WorkflowRunOptions, 'runtime' | 'journal' | 'inputs'>>) => Promise<Outcome>;
}

export function useWorkflowHarness(): WorkflowHarness {
  const servers: ScriptedServer[] = [];
  const runtimes: Runtime[] = [];
  const journals: Journal[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const j of journals.splice(0)) j.close();
    await Promise.all(runtimes.splice(0).map((r) => r.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });
  const env = async (): Promise<NodeJS.ProcessEnv> => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-wf-'));
    dirs.push(dir);
    return { XDG_DATA_HOME: path.join(dir, 'data'), XDG_CACHE_HOME: path.join(dir, 'cache'), XDG_CONFIG_HOME: path.join(dir, 'config') };
  };
  const runtime = async (config: Config): Promise<Runtime> => {
    const r = await openRuntime(config, { ledger: new MemoryLedger(), noCache: true });
    runtimes.push(r);
    return r;
  };
  const journal = (e: NodeJS.ProcessEnv): Journal => {
    const j = Journal.open(e);
    journals.push(j);
    return j;
  };
  return {
    env,
    runtime,
    journal,
    async server(options = {}) {
      const s = await startScriptedServer(options);
      servers.push(s);
      return s;
    },
    async run(options) {
      const e = options.env ?? (await env());
      const bus = new EventBus('ses_wf');
      const events: PantheonEvent[] = [];
      bus.subscribe((event) => events.push(event));
      try {
        const result = await runWorkflow({
          ...options,
          inputs: options.inputs ?? {},
          env: e,
          bus,
          runtime: options.runtime ?? (await runtime(options.config)),
          journal: options.journal ?? journal(e),
        });
        return { result, events };
      } catch (error) {
        return { error, events };
      }
    },
  };
}

/** Whether two logged requests were in flight at the same time. */
export function overlap(a: RequestLogEntry, b: RequestLogEntry): boolean {
  return a.startedAt < (b.endedAt ?? Infinity) && b.startedAt < (a.endedAt ?? Infinity);
}
