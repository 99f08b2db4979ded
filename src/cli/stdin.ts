const fs = process.getBuiltinModule('node:fs');

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

/** Reads stdin when it is piped or redirected from a file (not a terminal); resolves to '' when there is none. */
export async function readPipedStdin(stream?: NodeJS.ReadStream): Promise<string> {
  if (!stream) {
    const kind = stdinKind();
    if (kind === 'nothing') return '';
    if (kind === 'file') return fs.readFileSync(0, 'utf8');
  }
  const input = stream ?? process.stdin;
  if (input.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
