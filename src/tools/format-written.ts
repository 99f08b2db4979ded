/**
 * After `edit` or `write`: the config's formatters run on the file (ToolContext.format), and what
 * the file holds then is what the call's diff shows, as in OpenCode. The model is told which
 * formatters changed it, so that its next edit reads the file again rather than matching text that
 * is no longer there.
 */
import fs from 'node:fs/promises';
import { MAX_TEXT_BYTES } from './file-diff.ts';
import type { ToolContext } from './types.ts';

export interface Formatted {
  /** The file's text after the formatters (what was written when none ran, or it cannot be read back in bounds). */
  text: string;
  /** A sentence for the tool's answer when formatters changed the file, else ''. */
  note: string;
}

export async function formatWritten(ctx: ToolContext, file: string, rel: string, written: string): Promise<Formatted> {
  if (!ctx.format) return { text: written, note: '' };
  const ran = await ctx.format(file, ctx.signal);
  if (ran.length === 0) return { text: written, note: '' };
  const stat = await fs.stat(file).catch(() => undefined);
  const text = stat?.isFile() && stat.size <= MAX_TEXT_BYTES ? await fs.readFile(file, 'utf8').catch(() => written) : written;
  if (text === written) return { text, note: '' };
  return { text, note: ` ${ran.join(' and ')} reformatted ${rel}: read it again before editing it.` };
}
