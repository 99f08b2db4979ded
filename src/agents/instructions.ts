/**
 * The instruction files OpenCode adds to every agent's system prompt, found the way OpenCode
 * finds them:
 *  - global: the first of `$XDG_CONFIG_HOME/opencode/AGENTS.md` and `~/.claude/CLAUDE.md`;
 *  - project: every `AGENTS.md` from the working directory up to the project root, or if there is
 *    none every `CLAUDE.md`, or else every `CONTEXT.md`;
 *  - `instructions` from the config: paths and globs (`~/` expands; an absolute one is matched in
 *    its folder, a relative one in each folder from the working directory up to the project root),
 *    and `http(s)://` URLs (fetched, 5 s at most). Each glob's walk is bounded (directory entries
 *    read, time, matches kept: see bounded-glob.ts), so `"/**"` or `"../../**"` cannot walk the
 *    whole machine; a glob cut short is reported as a warning naming the entry and what was skipped.
 * Each non-empty one becomes `Instructions from: <path or URL>\n<content>` (a URL named without
 * the user and password it may carry, which are sent as Basic authorization).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fetchableUrl, withoutCredentials } from "../basic-auth.ts";
import type { Config } from "../config/schema-types.ts";
import { globalConfigFolder, homeDir } from "../config/home.ts";
import { quote } from "../config/excerpt.ts";
import {
  boundedGlob,
  DEFAULT_GLOB_BOUNDS,
  type GlobBounds,
} from "./bounded-glob.ts";
import { thousands } from "../icu-free.ts";

/** Bytes read from one instruction file or URL at most. */
const MAX_BYTES = 1_000_000;
const FETCH_TIMEOUT_MS = 5_000;
const PROJECT_NAMES = ["AGENTS.md", "CLAUDE.md", "CONTEXT.md"];

export interface InstructionOptions {
  config: Readonly<Config>;
  cwd: string;
  projectRoot: string;
  env: NodeJS.ProcessEnv;
  fetch?: typeof globalThis.fetch;
  /** Bounds on each glob's walk (defaults: DEFAULT_GLOB_BOUNDS). */
  globBounds?: GlobBounds;
  /** Told when a glob was cut short (code `INSTRUCTIONS_GLOB_BOUNDED`). */
  onWarning?: (warning: { code: string; message: string }) => void;
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** `cwd` and each folder above it up to `root` (only `cwd` when it is not inside `root`). */
function foldersUp(cwd: string, root: string): string[] {
  const dirs = [cwd];
  const inside = !path.relative(root, cwd).startsWith("..");
  for (let dir = cwd; inside && dir !== root;) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dirs.push((dir = parent));
  }
  return dirs;
}

async function readCapped(file: string): Promise<string> {
  const handle = await fs.open(file, "r").catch(() => undefined);
  if (!handle) return "";
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return "";
    const buffer = Buffer.alloc(Math.min(stat.size, MAX_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

async function fetchText(
  url: string,
  fetcher: typeof globalThis.fetch,
): Promise<string> {
  try {
    // A user and password in the URL go as Basic authorization (fetch refuses them).
    const { href, headers } = fetchableUrl(new URL(url));
    const response = await fetcher(href, {
      headers,
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) return "";
    return (await response.text()).slice(0, MAX_BYTES);
  } catch {
    return "";
  }
}

/** The matches of `instructions[index]` in `dirs`, each walk bounded; a cut-short walk is reported once. */
async function globEntry(
  o: InstructionOptions,
  index: number,
  entry: string,
  dirs: string[],
  pattern: string,
): Promise<string[]> {
  const results = await Promise.all(
    dirs.map((dir) =>
      boundedGlob(dir, pattern, o.globBounds ?? DEFAULT_GLOB_BOUNDS),
    ),
  );
  const cutAt = results.findIndex((r) => r.stoppedBy);
  if (cutAt >= 0) {
    const kept = results.reduce((n, r) => n + r.files.length, 0);
    o.onWarning?.({
      code: "INSTRUCTIONS_GLOB_BOUNDED",
      message:
        `instructions[${index}] ${quote(entry)}: the search in ${quote(dirs[cutAt] ?? "", 80)} was stopped because ${results[cutAt]?.stoppedBy}; ` +
        `the ${thousands(kept)} file${kept === 1 ? "" : "s"} found until then ${kept === 1 ? "is" : "are"} used and the rest skipped. ` +
        'Name the instruction files, or use a pattern inside the project (e.g. "docs/*.md").',
    });
  }
  return results.flatMap((r) => r.files);
}

/** The instruction files, in OpenCode's order, without repeats. */
export async function instructionPaths(
  o: InstructionOptions,
): Promise<string[]> {
  const found = new Set<string>();
  const disableClaude = Boolean(
    o.env.OPENCODE_DISABLE_CLAUDE_CODE ||
    o.env.OPENCODE_DISABLE_CLAUDE_CODE_PROMPT,
  );
  const globals = [
    path.join(globalConfigFolder(o.env), "AGENTS.md"),
    ...(disableClaude
      ? []
      : [path.join(homeDir(o.env), ".claude", "CLAUDE.md")]),
  ];
  for (const file of globals) {
    if (await isFile(file)) {
      found.add(path.resolve(file));
      break;
    }
  }
  const folders = foldersUp(path.resolve(o.cwd), path.resolve(o.projectRoot));
  for (const name of PROJECT_NAMES.filter(
    (n) => !(disableClaude && n === "CLAUDE.md"),
  )) {
    const hits = (
      await Promise.all(
        folders.map(async (dir) =>
          (await isFile(path.join(dir, name)))
            ? path.join(dir, name)
            : undefined,
        ),
      )
    ).filter((f): f is string => f !== undefined);
    if (hits.length === 0) continue;
    hits.forEach((f) => found.add(path.resolve(f)));
    break;
  }
  for (const [index, entry] of (o.config.instructions ?? []).entries()) {
    if (/^https?:\/\//.test(entry)) continue;
    const expanded = entry.startsWith("~/")
      ? path.join(homeDir(o.env), entry.slice(2))
      : entry;
    const matches = path.isAbsolute(expanded)
      ? await globEntry(
          o,
          index,
          entry,
          [path.dirname(expanded)],
          path.basename(expanded),
        )
      : await globEntry(o, index, entry, folders, expanded);
    matches.forEach((f) => found.add(path.resolve(f)));
  }
  return [...found];
}

/** The instruction texts for the system prompt: files first, then URLs. */
export async function loadInstructions(
  o: InstructionOptions,
): Promise<string[]> {
  return (await loadInstructionSet(o)).texts;
}

/**
 * The instruction texts (as loadInstructions), and the files they were read from (every one found,
 * the empty ones too: a `read` does not bring them in again).
 */
export async function loadInstructionSet(
  o: InstructionOptions,
): Promise<{ texts: string[]; files: string[] }> {
  const files = await instructionPaths(o);
  const urls = (o.config.instructions ?? []).filter((entry) =>
    /^https?:\/\//.test(entry),
  );
  const fetcher = o.fetch ?? globalThis.fetch;
  const [texts, pages] = await Promise.all([
    Promise.all(files.map(readCapped)),
    Promise.all(urls.map((u) => fetchText(u, fetcher))),
  ]);
  return {
    texts: [
      ...files.flatMap((file, i) =>
        texts[i] ? [`Instructions from: ${file}\n${texts[i]}`] : [],
      ),
      ...urls.flatMap((url, i) =>
        pages[i] ? [`Instructions from: ${withoutCredentials(url)}\n${pages[i]}`] : [],
      ),
    ],
    files,
  };
}
