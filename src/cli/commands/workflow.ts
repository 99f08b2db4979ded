import type { Argv, CommandModule } from 'yargs';
import { parseTimeout } from './run-flags.ts';

export interface WorkflowListArgs {
  json?: boolean;
  config?: string;
}

export interface WorkflowRunArgs {
  name: string;
  input: string[];
  /** undefined: a new run; '' : the newest unfinished run; otherwise a run id. */
  resume?: string;
  format: 'default' | 'json';
  config?: string;
  cache: boolean;
  auto: boolean;
  timeout?: number;
}

export interface WorkflowValidateArgs {
  name?: string;
  json?: boolean;
  config?: string;
}

export interface WorkflowShowArgs {
  runId: string;
  json?: boolean;
  output?: unknown;
}

export const workflowCommand: CommandModule = {
  command: 'workflow',
  describe: 'Run multi-agent workflows declared under "workflow" in the config',
  builder: (y: Argv) =>
    y
      .command({
        command: 'list',
        aliases: ['ls'],
        describe: 'Workflows in the config (steps, inputs) and recent runs',
        builder: (b: Argv) => b.option('json', { type: 'boolean', describe: 'Print one JSON document' }),
        handler: async (args) => {
          const { workflowList } = await import('../workflow-actions.ts');
          await workflowList(args as unknown as WorkflowListArgs);
        },
      })
      .command({
        command: 'run <name>',
        describe: 'Run a workflow: steps in parallel where they can be, inside every provider\'s limits',
        builder: (b: Argv) =>
          b
            .positional('name', { type: 'string', describe: 'Workflow name, as `workflow list` shows it' })
            .option('input', { alias: 'i', type: 'string', describe: 'An input as key=value; repeatable: --input task="add JWT auth" --input topics=a,b' })
            .option('resume', { type: 'string', describe: 'Continue the newest unfinished run of this workflow, or the run RUN_ID; finished tasks are not run again' })
            .option('format', { choices: ['default', 'json'] as const, default: 'default' as const, describe: 'default: progress on stderr, final output on stdout; json: one event per line' })
            .option('cache', { type: 'boolean', default: true, describe: 'Use the response cache (--no-cache to skip it)' })
            .option('timeout', { type: 'string', describe: 'Per-attempt timeout in ms' })
            .option('auto', { type: 'boolean', default: false, describe: 'Approve tool calls whose permission is "ask" (otherwise denied: workflow tasks run unattended)' })
            .example('$0 workflow run feature --input task="add JWT auth"', '')
            .example('$0 workflow run research --input topics="rate limiting, retries, circuit breakers"', '')
            .example('$0 workflow run feature --resume', 'continue the last run that did not finish'),
        handler: async (args) => {
          const timeout = parseTimeout(args.timeout);
          const input = args.input === undefined ? [] : [args.input].flat().map(String);
          const resume = args.resume === undefined ? undefined : String([args.resume].flat().pop());
          const { workflowRun } = await import('../workflow-run-action.ts');
          await workflowRun({ ...(args as unknown as WorkflowRunArgs), input, resume, timeout });
        },
      })
      .command({
        command: 'validate [name]',
        describe: 'Check the workflows (or the one named) as `workflow run` checks them before any step runs',
        builder: (b: Argv) =>
          b
            .positional('name', { type: 'string', describe: 'Workflow name (default: every workflow of the config)' })
            .option('json', { type: 'boolean', describe: 'Print one JSON document' }),
        handler: async (args) => {
          const { workflowValidate } = await import('../workflow-actions.ts');
          await workflowValidate({ ...(args.name === undefined ? {} : { name: String(args.name) }), ...(args.json ? { json: true } : {}), ...(typeof args.config === 'string' ? { config: args.config } : {}) });
        },
      })
      .command({
        command: 'show <run-id>',
        describe: 'One run: steps, tasks, attempts, fallbacks, tokens, cost and times',
        builder: (b: Argv) =>
          b
            .positional('run-id', { type: 'string', describe: 'Run id (wr_…), as `workflow list` and `workflow run` print it' })
            .option('json', { type: 'boolean', describe: 'Print the whole run, outputs included, as JSON' })
            .option('output', { type: 'string', describe: 'Print the output of step STEP (all its items, in order) and nothing else' }),
        handler: async (args) => {
          const { workflowShow } = await import('../workflow-actions.ts');
          await workflowShow({ runId: String(args.runId), ...(args.json ? { json: true } : {}), ...(args.output === undefined ? {} : { output: args.output }) });
        },
      })
      .demandCommand(1, 'Name an action: list, run, validate or show.'),
  handler: () => undefined,
};
