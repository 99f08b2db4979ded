/**
 * Types of the scripted OpenAI-compatible server: the steps a test scripts, the server
 * options, the request log and the stats computed from it.
 */

/** HTTP error statuses a `status` step may answer with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504 | 529;

/** Token counts to report instead of the chars/4 estimate (either field may be left out). */
export interface UsageOverride {
  prompt_tokens?: number;
  completion_tokens?: number;
  /** Reported as `prompt_tokens_details.cached_tokens` (left out when not given). */
  cached_tokens?: number;
  /** Reported as `completion_tokens_details.reasoning_tokens` (left out when not given). */
  reasoning_tokens?: number;
}

/** Fields every step may carry. */
export interface StepCommon {
  /** Use this step n times (default 1). */
  repeat?: number;
  /** Use this step for every later request (steps queued after it are never reached). */
  forever?: boolean;
  /** Wait this long before the response starts (time to first byte). */
  delayMs?: number;
  /** Answer only once this settles (a gate the test opens when it is ready), then `delayMs`. */
  after?: Promise<unknown>;
}

/** A normal answer. Streamed as `chunks` (default: the text split at word boundaries). */
export interface TextStep extends StepCommon {
  type: 'text';
  /** The answer; may be left out when `chunks` is given. */
  text?: string;
  chunks?: string[];
  /** Reasoning sent before the text (`reasoning_content`, as DeepSeek and vLLM send it; streamed in two deltas). */
  reasoning?: string;
  usage?: UsageOverride;
  /** Wait this long before each streamed chunk (non-streamed: before the whole answer). */
  chunkDelayMs?: number;
  /** Default `stop`, or `length` when the request's `max_tokens` cuts the text. */
  finishReason?: 'stop' | 'length' | 'content_filter';
}

/** `echo: <last user message text>`, the default behaviour of every model. */
export interface EchoStep extends StepCommon {
  type: 'echo';
  /** Text put before the user's message (default `echo: `). */
  prefix?: string;
  chunkDelayMs?: number;
}

/** A text answer streamed slowly, for progress demos and timeout tests. */
export interface SlowStep extends StepCommon {
  type: 'slow';
  text: string;
  chunkDelayMs: number;
  chunks?: string[];
  usage?: UsageOverride;
}

export interface ScriptedToolCall {
  name: string;
  /** An object is sent as JSON; a string is sent as is (it may be invalid JSON on purpose). */
  arguments: Record<string, unknown> | string;
  /** Default `call_<seq>_<index>`. */
  id?: string;
}

/** The model asks for tools; finish_reason `tool_calls`. */
export interface ToolCallsStep extends StepCommon {
  type: 'tool_calls';
  calls: ScriptedToolCall[];
  /** Text sent before the tool calls. */
  text?: string;
  usage?: UsageOverride;
  /** Wait this long before each streamed chunk, the calls' argument pieces included (a call whose input streams slowly). */
  chunkDelayMs?: number;
}

/** An HTTP error with an OpenAI-style body `{error:{message,type,param,code}}`. */
export interface StatusStep extends StepCommon {
  type: 'status';
  status: ErrorStatus;
  /** `Retry-After` header: seconds, or an HTTP date string. */
  retryAfter?: number | string;
  /** `retry-after-ms` header. */
  retryAfterMs?: number;
  /** Replaces the default error body; a string is sent as text/plain. */
  body?: unknown;
  /** Replaces the default error message inside the default body. */
  message?: string;
  headers?: Record<string, string>;
}

/**
 * Accept the request and never answer, until the client aborts or the server closes.
 * With `text` on a streamed request: send the 200 headers and that text, then stall.
 */
export interface HangStep extends StepCommon {
  type: 'hang';
  text?: string;
}

/** Destroy the connection (TCP reset) without any response. */
export interface ResetStep extends StepCommon {
  type: 'reset';
}

/** 200 with a body that is not JSON (streamed: one SSE event that is not JSON, then [DONE]). */
export interface BadJsonStep extends StepCommon {
  type: 'bad_json';
  body?: string;
}

/**
 * A response that stops half-way. Streamed: the role chunk and the text chunks, then the
 * response ends with no finish_reason and no [DONE]. Non-streamed: half of the JSON body.
 * `abrupt: true` destroys the connection instead of ending the response cleanly.
 */
export interface TruncatedStep extends StepCommon {
  type: 'truncated';
  text?: string;
  abrupt?: boolean;
}

export type Step =
  | TextStep
  | EchoStep
  | SlowStep
  | ToolCallsStep
  | StatusStep
  | HangStep
  | ResetStep
  | BadJsonStep
  | TruncatedStep;

export type StepKind = Step['type'];

/** At most `maxRequests` accepted request starts in any sliding window of `windowMs`. */
export interface RateLimit {
  maxRequests: number;
  windowMs: number;
  /**
   * Shrinks the window the server checks by this much, to absorb timing jitter between a
   * client's clock and the moment the server reads the request (default 0).
   */
  graceMs?: number;
}

/** A real provider's rate-limit header style (see announce.ts); `gemini` announces only in its 429 body. */
export type AnnounceStyle = 'openai' | 'anthropic' | 'openrouter' | 'nim' | 'ietf' | 'gemini';

export interface ModelOptions {
  /** Announce the model's `rateLimit` window on every answer in this provider's style. */
  announce?: AnnounceStyle;
  /** Headers sent with every answer of the model (e.g. `x-venice-balance-usd`); read at each request. */
  headers?: Record<string, string>;
  /** Steps queued at start (and again after `reset()`). */
  script?: Step[];
  /** What the model does when its queue is empty (default: the server's `default`). */
  default?: Step;
  rateLimit?: RateLimit;
  /** More requests in flight than this → 429. */
  concurrencyLimit?: number;
  /** Key this model requires instead of the server's `apiKey`; `false`: no key needed. */
  apiKey?: string | false;
}

export interface ScriptedServerOptions {
  /** Default 0 (a free port). The server listens on 127.0.0.1 only. */
  port?: number;
  /** When set, requests need `Authorization: Bearer <apiKey>` or get 401. */
  apiKey?: string;
  models?: Record<string, ModelOptions>;
  /** A window over all models together. */
  rateLimit?: RateLimit;
  /** In-flight limit over all models together. */
  concurrencyLimit?: number;
  /** Behaviour of a model with an empty queue and no `default` (default `{type:'echo'}`). */
  default?: Step;
  /** Answer 404 `model_not_found` for models neither configured nor scripted. */
  strictModels?: boolean;
  /** Clock for the log and the rate windows (default Date.now). */
  now?: () => number;
  /** Called once per request when its log entry is final (response done or connection gone). */
  onRequestEnd?: (entry: RequestLogEntry) => void;
}

export type Outcome = 'ok' | 'status' | 'hang' | 'reset' | 'bad_json' | 'truncated' | 'rate_limited';

export interface RequestLogEntry {
  /** 1, 2, 3… in order of arrival (restarts at 1 after `reset()`). */
  seq: number;
  model: string;
  /** Which route: `/v1/chat/completions` or `/v1/embeddings`. */
  endpoint: 'chat' | 'embeddings' | 'completions';
  stream: boolean;
  /** now() when the request body had been read; rate windows use the same instant. */
  startedAt: number;
  /** now() when the response finished or the connection closed; null while open. */
  endedAt: number | null;
  /** HTTP status sent; null when none was (hang, reset). */
  status: number | null;
  outcome: Outcome;
  /** The step that answered (`undefined` for auth, validation and rate-limit answers). */
  step: StepKind | undefined;
  /** Which limit refused the request (outcome `rate_limited`). */
  limit: 'model-window' | 'global-window' | 'model-concurrency' | 'global-concurrency' | undefined;
  /** True when the client closed the connection before the response was complete. */
  clientAborted: boolean;
  messages: unknown[];
  tools: unknown[] | undefined;
  temperature: number | undefined;
  top_p: number | undefined;
  max_tokens: number | undefined;
  /** Lower-cased request headers; `authorization` exactly as sent. */
  headers: Record<string, string>;
  /** The parsed request body. */
  body: unknown;
  /** Usage reported to the client, when a completion was sent. */
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined;
}

export interface ModelStats {
  requests: number;
  outcomes: Record<Outcome, number>;
  /** Requests refused by a server-side rate window or concurrency limit. */
  overLimit: number;
  peakConcurrency: number;
  inFlight: number;
}

export interface ServerStats extends ModelStats {
  models: Record<string, ModelStats>;
  /**
   * The largest number of request starts (every logged request, refused ones included) in
   * any window [t, t + windowMs) — for one model, or all models when `model` is undefined.
   */
  maxStartsInWindow: (model: string | undefined, windowMs: number) => number;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:PORT/v1` — the baseURL to give a client. */
  url: string;
  port: number;
  /** The live request log (entries are updated in place when they end). */
  log: RequestLogEntry[];
  /** Queue steps for an upstream model id (FIFO, after those already queued). */
  script: (model: string, ...steps: Step[]) => void;
  /** Steps still queued for a model (Infinity when a `forever` step is queued). */
  pending: (model: string) => number;
  /** Back to the options' scripts, an empty log, empty rate windows. Open requests stay. */
  reset: () => void;
  stats: () => ServerStats;
  /** Resolves when `predicate(log)` is true (checked now and after every log change). */
  waitFor: (predicate: (log: readonly RequestLogEntry[]) => boolean) => Promise<void>;
  /** Resolves when at least `count` requests (for `model`, if given) have been logged. */
  waitForRequests: (count: number, model?: string) => Promise<RequestLogEntry[]>;
  /** Destroys every connection (hung ones too) and resolves when the server has closed. */
  close: () => Promise<void>;
}
