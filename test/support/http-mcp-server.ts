/**
 * A real remote MCP server for tests, in the test's process: the SDK's low-level `Server` over its
 * Streamable HTTP server transport (stateful: one session, and one `Server`, per client that
 * initializes) on 127.0.0.1. Its tools are names the test sets; setting them sends
 * `notifications/tools/list_changed` to every client, and `notify` sends it without a change (a
 * server that spams). It counts the `tools/list` requests it answers, can require a bearer token
 * (a 401 otherwise, as an OAuth-protected server answers), and can go away while clients are connected.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

export interface HttpMcpServer {
  /** `http://127.0.0.1:PORT/mcp` */
  url: string;
  port: number;
  /** `tools/list` requests answered so far. */
  listed(): number;
  /** Clients with their notification stream (the GET) open: a list_changed reaches those only. */
  listening(): number;
  /** Replaces the tools (each echoes its arguments) and tells every client their list changed. */
  setTools(names: readonly string[]): Promise<void>;
  /** While set, `tools/list` answers a JSON-RPC error (a server that says its tools changed, then cannot list them). */
  failListing(on: boolean): void;
  /** Sends `notifications/tools/list_changed` `times` times to every client, the tools unchanged. */
  notify(times: number): Promise<void>;
  /** Stops listening and cuts every connection (a server that goes away). */
  close(): Promise<void>;
}

/** `port`: listen there (a server coming back where it was); default a free one. */
export async function startHttpMcpServer(options: { tools?: readonly string[]; token?: string; port?: number } = {}): Promise<HttpMcpServer> {
  let tools = [...(options.tools ?? ['echo'])];
  let listed = 0;
  let failing = false;
  const sessions = new Map<string, { server: Server; transport: StreamableHTTPServerTransport }>();
  const streams = new Set<ServerResponse>();

  const newSession = (): StreamableHTTPServerTransport => {
    const server = new Server({ name: 'http-test-server', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      listed += 1;
      if (failing) throw new McpError(ErrorCode.InternalError, 'the tool registry is being rebuilt');
      return { tools: tools.map((name) => ({ name, description: `The ${name} tool.`, inputSchema: { type: 'object' as const, properties: {} } })) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: 'text', text: `${req.params.name}: ${JSON.stringify(req.params.arguments ?? {})}` }] }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    void server.connect(transport);
    return transport;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }).end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id)?.transport : undefined;
    if (req.method === 'GET' && known) {
      streams.add(res);
      res.once('close', () => streams.delete(res));
    }
    // A request without a session starts one (the transport refuses what is not an initialize).
    await (known ?? newSession()).handleRequest(req, res);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  const everyone = async (send: (server: Server) => Promise<void>) => {
    await Promise.all([...sessions.values()].map(({ server }) => send(server)));
  };
  let closed: Promise<void> | undefined;
  return {
    url,
    port: (http.address() as AddressInfo).port,
    listed: () => listed,
    listening: () => streams.size,
    async setTools(names) {
      tools = [...names];
      await everyone((s) => s.sendToolListChanged());
    },
    failListing(on) {
      failing = on;
    },
    async notify(times) {
      for (let i = 0; i < times; i++) await everyone((s) => s.sendToolListChanged());
    },
    close() {
      closed ??= (async () => {
        const done = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await done;
        await Promise.allSettled([...sessions.values()].map(({ server }) => server.close()));
      })();
      return closed;
    },
  };
}
