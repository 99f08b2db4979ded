/**
 * The instant upstream of bench/gateway.ts: an OpenAI-compatible chat-completions endpoint that
 * answers every request at once with the same small completion (JSON, or one SSE chunk when asked
 * to stream), and `/embeddings` with the same small vector. Prints `{"port":N}` when listening.
 *
 *   node bench/support/instant-upstream.ts
 */
import { createServer } from 'node:http';

const BODY = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'instant',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});
const CHUNK = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'instant', choices: [{ index: 0, delta: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } })}\n\ndata: [DONE]\n\n`;

const EMBEDDING = JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8] }], model: 'instant', usage: { prompt_tokens: 1, total_tokens: 1 } });

const server = createServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8').on('data', (c: string) => (raw += c));
  req.on('end', () => {
    if (req.url?.endsWith('/models')) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"instant","object":"model"}]}');
    if (req.url?.endsWith('/embeddings')) return res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(EMBEDDING) }).end(EMBEDDING);
    if (raw.includes('"stream":true')) return res.writeHead(200, { 'content-type': 'text/event-stream' }).end(CHUNK);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) }).end(BODY);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
