/**
 * How many results a listing tool's answer holds (grep's matches, glob's files, list's entries), read
 * back from the answer itself, for OpenCode's `metadata.matches` / `metadata.count`: the lines before
 * the first blank one are the results shown (after `header` lines; `none` matches an answer of none), and a "(Showing … of N …)" note after it gives the total.
 * Read from the text so that sessions saved before this existed show their counts too.
 */
export function resultCount(output: string, note: RegExp, { none, header = 0 }: { none: RegExp; header?: number }): { count: number; truncated: boolean } {
  if (none.test(output)) return { count: 0, truncated: false };
  const blank = output.indexOf('\n\n');
  const total = blank < 0 ? null : note.exec(output.slice(blank));
  if (total) return { count: Number(total[1]), truncated: true };
  const shown = (blank < 0 ? output : output.slice(0, blank)).split('\n').length - header;
  return { count: Math.max(0, shown), truncated: false };
}
