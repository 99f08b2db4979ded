/**
 * Random bytes for identifiers and temporary file names, read from the kernel's /dev/urandom (the
 * source node:crypto draws on too). node:crypto would give the same bytes, but loading it costs a
 * process ~4 ms (about twenty internal modules), and a local `run` needs nothing else from it
 * (docs/performance.md, issue #18). Where there is no /dev/urandom (Windows) or it cannot be read,
 * node:crypto's randomBytes. Bytes are read 256 at a time and each handed out once.
 */
const fs = process.getBuiltinModule('node:fs');

const POOL_BYTES = 256;
let pool: Buffer | undefined;
let used = POOL_BYTES;

/** `size` random bytes (a Buffer of its own). */
export function randomBytes(size: number): Buffer {
  if (size > POOL_BYTES) return fresh(size);
  if (!pool || used + size > POOL_BYTES) {
    pool = fresh(POOL_BYTES);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + size));
  used += size;
  return out;
}

/** A random (version 4) UUID, as node:crypto's randomUUID writes it. */
export function randomUUID(): string {
  const b = randomBytes(16);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function fresh(size: number): Buffer {
  if (process.platform !== 'win32') {
    try {
      return fromUrandom(size);
    } catch {
      // No readable /dev/urandom here (a container without /dev, say): node:crypto's.
    }
  }
  return process.getBuiltinModule('node:crypto').randomBytes(size);
}

function fromUrandom(size: number): Buffer {
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    const bytes = Buffer.alloc(size);
    for (let got = 0; got < size; ) {
      const n = fs.readSync(fd, bytes, got, size - got, null);
      if (n <= 0) throw new Error('/dev/urandom: short read');
      got += n;
    }
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}
