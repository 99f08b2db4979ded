/**
 * `webfetch {url, format?, timeout?}`: GETs an http(s) URL with a timeout (default 30 s, at most
 * 120 s) and a 5 MB cap. HTML comes back as text with the tags stripped (or as is with
 * format "html"); other text types and JSON as they are; anything else is refused. Governed by
 * `permission.webfetch` (patterns match the URL).
 */
import { safeLine } from '../cli/terminal-text.ts';
import { authorize } from '../permissions/authorize.ts';
import { readCapped } from '../read-capped.ts';
import { ToolError } from './tool-error.ts';
import { MAX_OUTPUT_BYTES, byteLength, formatBytes, headBytes } from './truncate.ts';
import { opencodeDescription, opencodeParameters } from './opencode-tools.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

export const WEBFETCH_MAX_BYTES = 5 * 1024 * 1024;
export const WEBFETCH_DEFAULT_TIMEOUT_S = 30;
export const WEBFETCH_MAX_TIMEOUT_S = 120;

interface WebfetchInput {
  url: string;
  format?: 'text' | 'markdown' | 'html';
  timeout?: number;
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ToolError('webfetch', `not a valid URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ToolError('webfetch', `only http and https URLs can be fetched, not ${url.protocol.replace(/:$/, '')}.`);
  }
  return url;
}

function isTextual(type: string): boolean {
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/x-javascript' ||
    type === 'application/ecmascript' ||
    type === 'application/x-ndjson' ||
    type === 'application/yaml' ||
    type === 'application/x-yaml' ||
    type === 'application/toml'
  );
}

function readWithin(response: Response, url: string): Promise<Buffer> {
  return readCapped(response, WEBFETCH_MAX_BYTES, (declared) =>
    new ToolError('webfetch', declared === undefined ? `${url} is too large: over ${formatBytes(WEBFETCH_MAX_BYTES)} (the limit).` : `${url} is too large: ${formatBytes(declared)} (the limit is ${formatBytes(WEBFETCH_MAX_BYTES)}).`),
  );
}

function describeFailure(error: unknown, url: string, timeoutS: number, signal: AbortSignal | undefined): ToolError {
  if (signal?.aborted) return new ToolError('webfetch', `cancelled: ${url}`);
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') return new ToolError('webfetch', `${url} did not answer within ${timeoutS} s.`);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return new ToolError('webfetch', `could not fetch ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
}

/**
 * A call's title as OpenCode's webfetch gives it: the URL as the model wrote it and the response's
 * `Content-Type` as sent (`https://x.dev/a (text/html; charset=utf-8)`), control characters shown
 * escaped (`\x9b`: a header may hold some, and the TUI draws the title), at most 1,000 characters.
 */
export function webfetchTitle(url: string, contentType: string): string {
  return safeLine(`${url} (${contentType})`);
}

/** Whether this tool's answer (below) was cut at its output limit: OpenCode's `metadata.truncated`. */
export function webfetchTruncated(output: string): boolean {
  return /\n\n\(Content cut at [^\n]* Fetch a more specific page for the rest\.\)$/.test(output);
}

export const webfetchTool: BuiltinTool<WebfetchInput> = {
  name: 'webfetch',
  get description() {
    return opencodeDescription('webfetch');
  },
  get parameters() {
    return opencodeParameters('webfetch');
  },
  inputSchema: {
    type: 'object',
    properties: {
      url: { type: 'string', minLength: 1, description: 'The http:// or https:// URL.' },
      format: { type: 'string', enum: ['text', 'markdown', 'html'], description: 'How to return HTML: "text" (default; "markdown" is the same here) or "html".' },
      timeout: { type: 'number', exclusiveMinimum: 0, maximum: WEBFETCH_MAX_TIMEOUT_S, description: `Timeout in seconds (default ${WEBFETCH_DEFAULT_TIMEOUT_S}).` },
    },
    required: ['url'],
    additionalProperties: false,
  },
  async run(input: WebfetchInput, ctx: ToolContext): Promise<string> {
    const url = parseUrl(input.url);
    await authorize(ctx, { key: 'webfetch', subject: url.href });
    const timeoutS = input.timeout ?? WEBFETCH_DEFAULT_TIMEOUT_S;
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutS * 1000), ...(ctx.signal ? [ctx.signal] : [])]);
    const doFetch = ctx.fetch ?? globalThis.fetch;
    let type: string;
    let contentType: string;
    let body: Buffer;
    try {
      const response = await doFetch(url.href, {
        signal,
        redirect: 'follow',
        headers: { accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.5', 'user-agent': 'pantheon-webfetch' },
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new ToolError('webfetch', `${url.href} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`);
      }
      contentType = response.headers.get('content-type') ?? '';
      type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
      if (type !== '' && !isTextual(type) && type !== 'text/html' && type !== 'application/xhtml+xml') {
        await response.body?.cancel();
        throw new ToolError('webfetch', `${url.href} is ${type}, which webfetch does not return (only HTML, text and JSON).`);
      }
      body = await readWithin(response, url.href);
    } catch (error) {
      if (error instanceof ToolError) throw error;
      throw describeFailure(error, url.href, timeoutS, ctx.signal);
    }
    ctx.onTitle?.(webfetchTitle(input.url, contentType), ctx.toolCallId);
    const raw = body.toString('utf8');
    const isHtml = type === 'text/html' || type === 'application/xhtml+xml' || (type === '' && /^\s*<(!doctype html|html)/i.test(raw));
    // The HTML reader's tables are built when a page needs them, not in every run's start-up.
    const text = isHtml && input.format !== 'html' ? (await import('./html-text.ts')).htmlToText(raw) : raw;
    if (byteLength(text) <= MAX_OUTPUT_BYTES) return text;
    return `${headBytes(text, MAX_OUTPUT_BYTES)}\n\n(Content cut at ${formatBytes(MAX_OUTPUT_BYTES)} of ${formatBytes(byteLength(text))}. Fetch a more specific page for the rest.)`;
  },
};
