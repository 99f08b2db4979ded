/**
 * Runs the scripted OpenAI-compatible server as a process, for benchmarks, the demo and
 * tests that drive other processes:
 *
 *   npx node test/support/serve-scenario.ts scenario.json [--log requests.ndjson] [--port N]
 *   npx node test/support/serve-scenario.ts '{"models":{"m":{"script":[{"type":"text","text":"hi"}]}}}'
 *
 * When listening it prints exactly one line to stdout, `{"url":"http://127.0.0.1:PORT/v1","port":PORT}`
 * (the readiness signal), and nothing else. With --log, every request is appended to FILE as one
 * JSON line when it ends (credentials in headers masked). SIGTERM/SIGINT close it with exit code 0;
 * a bad scenario exits with code 2 and one line on stderr.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startScriptedServer } from './openai-server.ts';
import type { ScriptedServerOptions } from './openai-server.ts';
import { maskedEntry } from './openai-server/masking.ts';
import { parseScenario } from './openai-server/scenario.ts';

const USAGE = 'usage: serve-scenario.ts <scenario.json | inline JSON> [--log FILE] [--port N]';

function loadScenario(source: string): ScriptedServerOptions {
  const text = source.trimStart().startsWith('{') ? source : readFileSync(source, 'utf8');
  return parseScenario(JSON.parse(text));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { log: { type: 'string' }, port: { type: 'string' } },
    allowPositionals: true,
  });
  const source = positionals[0];
  if (source === undefined || positionals.length > 1) throw new TypeError(USAGE);
  const options = loadScenario(source);
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`--port: expected a port number, found ${values.port}`);
    options.port = port;
  }
  const logFile = values.log;
  if (logFile !== undefined) {
    writeFileSync(logFile, '');
    options.onRequestEnd = (entry) => appendFileSync(logFile, `${JSON.stringify(maskedEntry(entry))}\n`);
  }
  const server = await startScriptedServer(options);
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`serve-scenario: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`serve-scenario: ${message}\n`);
  process.exit(2);
});
