/** Shapes shared by the MCP manager, its tools and the `mcp` commands. */

/**
 * `needs_auth`: a remote server answered 401 and has no usable OAuth tokens (`opencode mcp auth NAME`
 * signs in); `needs_client_registration`: its authorization server cannot register a client and no
 * `oauth.clientId` is configured (OpenCode's states of the same names).
 */
export type ServerState = 'idle' | 'starting' | 'connected' | 'failed' | 'needs_auth' | 'needs_client_registration' | 'disabled' | 'exited' | 'stopped';

export interface ServerStatus {
  name: string;
  type: 'local' | 'remote';
  state: ServerState;
  /** Why it failed, needs authentication, exited or is disabled. */
  reason?: string;
  toolCount: number;
  /** Milliseconds the last start took (connect + initialize + tools/list). */
  startMs?: number;
  transport?: 'stdio' | 'streamable-http' | 'sse';
  /** Local servers: the pid of the process started (the leader of its process group). */
  pid?: number;
  /** Times the server was restarted after it died (at most once per process). */
  restarts: number;
}

export type McpWarningCode = 'MCP_START_FAILED' | 'MCP_SERVER_EXITED' | 'MCP_TOOL_NAME_COLLISION' | 'MCP_UNKNOWN_SERVER' | 'MCP_TOOLS_LIMITED' | 'MCP_CATALOG_FAILED';

/** Something worth telling the user on stderr (and as a warning event); the run goes on. */
export interface McpWarning {
  code: McpWarningCode;
  server?: string;
  message: string;
}

/** A JSON Schema object, as a server sends it for a tool's arguments. */
export type JsonSchemaObject = Record<string, unknown>;

/** A tool as exposed to the model. */
export interface ExposedTool {
  /** `<server>_<tool>`, sanitised, collision-free. */
  name: string;
  server: string;
  /** The tool's own name on its server. */
  tool: string;
  description?: string;
  inputSchema: JsonSchemaObject;
}

/** What a connected server said at initialize about using it (its `instructions`), for the system prompt. */
export interface McpInstructions {
  server: string;
  /** Trimmed, and cut to MAX_INSTRUCTIONS_CHARS. */
  text: string;
  /** The names its tools are exposed under (`<server>_<tool>`). */
  tools: string[];
}

/** A tool call's outcome, as text for the model; errors start with "error: ". */
export interface McpCallResult {
  isError: boolean;
  text: string;
  truncated: boolean;
  /** The server's raw result, when it sent one. */
  raw?: unknown;
}
