import { PantheonError } from '../errors.ts';

const fs = process.getBuiltinModule('node:fs');

/** The most a message read from stdin may hold: more than any model's context window takes. */
export const MAX_STDIN_BYTES = 8 * 1024 * 1024;

function tooLarge(): PantheonError {
  return new PantheonError('USAGE', `run: standard input is over the ${MAX_STDIN_BYTES / 1024 / 1024} MiB limit for a message.`, {
    hint: 'Pipe only the part the model needs (for example `tail -c 1000000 app.log | opencode run "…"`).',
  });
}

/**
 * What standard input is, from `fstat` alone: a character device (a terminal, or /dev/null as
 * scripts and CI give it) has nothing to read; a regular file is read at once; anything else (a
 * pipe, a socket) is read as a stream. Making `process.stdin` for /dev/null loads Node's file
 * streams and reads to its end: ~2.5 ms of every scripted `run` (docs/performance.md).
 */
function stdinKind(): 'nothing' | 'file' | 'stream' {
  try {
    const stat = fs.fstatSync(0);
    if (stat.isCharacterDevice()) return 'nothing';
    return stat.isFile() ? 'file' : 'stream';
  } catch {
    // No standard input at all (closed).
    return 'nothing';
  }
}

/** A regular file on stdin, from where it stands, read to its end or one byte past the limit (it may grow while read). */
function readFileStdin(): string {
  const bytes = Buffer.alloc(Math.min(MAX_STDIN_BYTES + 1, Math.max(0, fs.fstatSync(0).size) + 1));
  let got = 0;
  let buffer = bytes;
  for (;;) {
    if (got === buffer.length) {
      if (got > MAX_STDIN_BYTES) throw tooLarge();
      const bigger = Buffer.alloc(Math.min(MAX_STDIN_BYTES + 1, buffer.length * 2));
      buffer.copy(bigger);
      buffer = bigger;
    }
    const n = fs.readSync(0, buffer, got, buffer.length - got, null);
    if (n === 0) break;
    got += n;
  }
  if (got > MAX_STDIN_BYTES) throw tooLarge();
  return buffer.toString('utf8', 0, got);
}

/**
 * Reads stdin when it is piped or redirected from a file (not a terminal); resolves to '' when there
 * is none. More than MAX_STDIN_BYTES is a usage error, found without reading past the limit.
 */
export async function readPipedStdin(stream?: NodeJS.ReadStream): Promise<string> {
  if (!stream) {
    const kind = stdinKind();
    if (kind === 'nothing') return '';
    if (kind === 'file') return readFileStdin();
  }
  const input = stream ?? process.stdin;
  if (input.isTTY) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    // Leaving the loop destroys the stream: nothing more is read.
    if (size > MAX_STDIN_BYTES) throw tooLarge();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}
