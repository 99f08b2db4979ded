/**
 * The caret under a config parse error points at the character named, on a terminal: after the
 * line is made safe (control characters escaped), with wide characters, and on very long lines.
 */
import { describe, expect, it } from "vitest";
import { safeText } from "../../src/cli/terminal-text.ts";
import { parseJsonc } from "../../src/config/jsonc.ts";
import { PantheonError } from "../../src/errors.ts";

/** Terminal columns of `text` for the characters these tests use (CJK and emoji two, the rest one). */
function columns(text: string): number {
  return [...text].reduce(
    (n, ch) => n + (/[\u4e00-\u9fff\u{1f300}-\u{1f64f}]/u.test(ch) ? 2 : 1),
    0,
  );
}

/** The frame of a parse error as printed (through the CLI's terminal escaping): the shown line and the caret's column in it. */
function frame(text: string): {
  line: string;
  pointsAt: string;
  width: number;
} {
  let error: unknown;
  try {
    parseJsonc(text, "opencode.json");
  } catch (e) {
    error = e;
  }
  if (!(error instanceof PantheonError))
    throw new Error("expected a parse error");
  const [shown, caret] = safeText(error.details.join("\n"))
    .split("\n")
    .slice(-2) as [string, string];
  const gutter = shown.indexOf(" | ") + 3;
  const line = shown.slice(gutter);
  const caretCol = caret.slice(gutter).indexOf("^");
  // The character whose first column is the caret's.
  let col = 0;
  for (const ch of line) {
    if (col === caretCol)
      return {
        line,
        pointsAt: ch,
        width: Math.max(...[shown, caret].map((l) => l.length)),
      };
    col += columns(ch);
  }
  return { line, pointsAt: "", width: shown.length };
}

describe("the caret of a parse error", () => {
  it("stays under the bad character after an ESC sequence, C1 and bidi characters, and a tab", () => {
    const f = frame('{ /* \u001b[2J\u009b\u202e */ "b":\t@ }');
    expect(f.pointsAt).toBe("@");
    expect(f.line).toBe('{ /* \\x1b[2J\\x9b\\u202e */ "b":\\t@ }');
  });

  it("stays under the bad character after wide characters (CJK, emoji)", () => {
    expect(frame('{ "名前": "日本語😀", "b": @ }').pointsAt).toBe("@");
  });

  it("shows a window around the column of a very long line, the caret under the bad character", () => {
    const long = `{ "a": "${"x".repeat(200_000)}", "b": @, "c": "${"y".repeat(200_000)}" }`;
    const f = frame(long);
    expect(f.pointsAt).toBe("@");
    expect(f.line.startsWith("…")).toBe(true);
    expect(f.line.endsWith("…")).toBe(true);
    expect(f.width).toBeLessThan(150);
  });

  it("a short plain line is shown whole", () => {
    const f = frame('{ "b": @ }');
    expect(f.line).toBe('{ "b": @ }');
    expect(f.pointsAt).toBe("@");
  });
});
