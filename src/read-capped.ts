/**
 * A `fetch` response's body, at most `maxBytes` (declared larger, or grown past it as it comes: the
 * body is cancelled and `tooLarge` thrown with what was seen, e.g. `12 MB` or `over 10 MB`).
 */
export async function readCapped(response: Response, maxBytes: number, tooLarge: (declared: number | undefined) => Error): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(declared);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(undefined);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
