/**
 * What is wrong with a text `JSON.parse` refused, without the text: V8 quotes the start of it
 * (`Unexpected token 's', "{"key": sk-…" is not valid JSON`), which may hold a key or anything else
 * the sender did not mean to see printed back.
 */
export function jsonFault(error: unknown): string {
  return error instanceof Error ? (error.message.replace(/, "[\s\S]*"(\.\.\.)? is not valid JSON$/, '').split('\n')[0] as string) : 'unreadable';
}
