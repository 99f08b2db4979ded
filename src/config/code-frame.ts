/**
 * The line of a config error with a caret under the column, made so that the caret stays under
 * the character it points at on a terminal: control characters (tab included) are shown escaped
 * here (`\x1b`, `\t`, `\u202e`) so nothing downstream changes the line's width, wide characters
 * (CJK, emoji) count two columns and combining marks none, and a long line (a minified config) is
 * shown as a window around the column, cut with `…` on either side.
 */

/** Columns of the line shown before and after the one pointed at, at most. */
const BEFORE = 40;
const AFTER = 60;

/* eslint-disable no-control-regex -- control characters are what this shows escaped */
const CONTROL =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** Combining marks, variation selectors and zero-width characters: no column of their own. */
const ZERO_WIDTH: [number, number][] = [
  [0x300, 0x36f],
  [0x1ab0, 0x1aff],
  [0x1dc0, 0x1dff],
  [0x200b, 0x200d],
  [0x20d0, 0x20ff],
  [0xfe00, 0xfe0f],
  [0xfe20, 0xfe2f],
];
const zeroWidth = (ch: string): boolean =>
  ZERO_WIDTH.some(
    ([lo, hi]) =>
      (ch.codePointAt(0) ?? 0) >= lo && (ch.codePointAt(0) ?? 0) <= hi,
  );
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
const NAMED: Record<string, string> = { "\t": "\\t", "\r": "\\r", "\n": "\\n" };

function shown(ch: string): { text: string; width: number } {
  if (CONTROL.test(ch)) {
    const code = ch.charCodeAt(0);
    const text =
      NAMED[ch] ??
      (code < 0x100
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : `\\u${code.toString(16).padStart(4, "0")}`);
    return { text, width: text.length };
  }
  if (zeroWidth(ch)) return { text: ch, width: 0 };
  return { text: ch, width: WIDE.test(ch) ? 2 : 1 };
}

/**
 * `[line shown, caret line]` for 1-based `col` (in UTF-16 units, as positions are counted) of
 * `line`, each without the gutter.
 */
export function codeFrame(line: string, col: number): [string, string] {
  const at = Math.min(Math.max(col - 1, 0), line.length);
  // Only a window of the line is looked at, so a 10 MB line costs no more than a short one.
  let start = Math.max(0, at - BEFORE * 2);
  if (start > 0 && /[\udc00-\udfff]/.test(line[start] ?? "")) start += 1;
  const before = [...line.slice(start, at)].map(shown);
  const after = [...line.slice(at, at + AFTER * 2)].map(shown);
  let cutBefore = start > 0;
  let width = before.reduce((n, c) => n + c.width, 0);
  while (width > BEFORE && before.length > 0) {
    width -= (before.shift() as { width: number }).width;
    cutBefore = true;
  }
  let afterWidth = 0;
  let kept = 0;
  while (
    kept < after.length &&
    afterWidth + (after[kept] as { width: number }).width <= AFTER
  )
    afterWidth += (after[kept++] as { width: number }).width;
  const cutAfter = kept < after.length || at + AFTER * 2 < line.length;
  const head = (cutBefore ? "…" : "") + before.map((c) => c.text).join("");
  const text =
    head +
    after
      .slice(0, kept)
      .map((c) => c.text)
      .join("") +
    (cutAfter ? "…" : "");
  return [text, `${" ".repeat(width + (cutBefore ? 1 : 0))}^`];
}
