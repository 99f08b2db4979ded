import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  instructionPaths,
  loadInstructions,
} from "../../src/agents/instructions.ts";
import { tempTree, type TempTree } from "../config/temp-tree.ts";

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.mkdir("repo/.git");
  await tree.mkdir("repo/app/src");
});
afterEach(async () => {
  await tree.remove();
});

const options = (instructions?: string[]) => ({
  config: instructions ? { instructions } : {},
  cwd: tree.path("repo/app/src"),
  projectRoot: tree.path("repo"),
  env: tree.env,
});

describe("instructions (as OpenCode finds them)", () => {
  it("global AGENTS.md, every project AGENTS.md from cwd up to the root, then the config's paths and globs", async () => {
    const global = await tree.write("xdg/opencode/AGENTS.md", "global rules");
    const root = await tree.write("repo/AGENTS.md", "root rules");
    const app = await tree.write("repo/app/AGENTS.md", "app rules");
    await tree.write("repo/CLAUDE.md", "not read: an AGENTS.md exists");
    const style = await tree.write("repo/docs/style.md", "style");
    const extra = await tree.write("home/notes/extra.md", "extra");
    expect(
      await instructionPaths(
        options(["docs/*.md", "~/notes/extra.md", "missing.md"]),
      ),
    ).toEqual([global, app, root, style, extra]);
    expect(await loadInstructions(options())).toEqual([
      `Instructions from: ${global}\nglobal rules`,
      `Instructions from: ${app}\napp rules`,
      `Instructions from: ${root}\nroot rules`,
    ]);
  });

  it("falls back to CLAUDE.md (project) and ~/.claude/CLAUDE.md (global) when there is no AGENTS.md", async () => {
    const claude = await tree.write("repo/CLAUDE.md", "claude rules");
    const home = await tree.write("home/.claude/CLAUDE.md", "home rules");
    expect(await instructionPaths(options())).toEqual([home, claude]);
    expect(
      await instructionPaths({
        ...options(),
        env: { ...tree.env, OPENCODE_DISABLE_CLAUDE_CODE: "1" },
      }),
    ).toEqual([]);
  });

  it("fetches instruction URLs (empty or failing ones are left out; a URL's user and password go as Basic and are not named)", async () => {
    const basic = `Basic ${Buffer.from("me:pa ss").toString("base64")}`;
    const server = http.createServer((req, res) => {
      if (req.url === "/rules.md") res.end("remote rules");
      else if (req.url === "/private.md" && req.headers.authorization === basic)
        res.end("private rules");
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", resolve),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(
        await loadInstructions(
          options([
            `${base}/rules.md`,
            `${base}/missing.md`,
            `${base.replace("http://", "http://me:pa%20ss@")}/private.md`,
          ]),
        ),
      ).toEqual([
        `Instructions from: ${base}/rules.md\nremote rules`,
        `Instructions from: ${base}/private.md\nprivate rules`,
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("instruction globs are bounded", () => {
  const warned = () => {
    const warnings: { code: string; message: string }[] = [];
    return {
      warnings,
      onWarning: (w: { code: string; message: string }) => warnings.push(w),
    };
  };

  it("a glob rooted at / stops at its bounds, keeps what it found and warns naming the entry", async () => {
    const { warnings, onWarning } = warned();
    const files = await instructionPaths({ ...options(["/**"]), onWarning });
    expect(files.length).toBeLessThanOrEqual(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.code).toBe("INSTRUCTIONS_GLOB_BOUNDED");
    expect(warnings[0]?.message).toMatch(
      /^instructions\[0\] "\/\*\*": the search in "\/" was stopped because it (read more than 50,000 directory entries|took longer than 3 s|matched more than 200 files); the [\d,]+ files? found until then (is|are) used and the rest skipped\./,
    );
  });

  it('an escaping glob ("../../**") walking a big tree stops after the entries it may read', async () => {
    for (let d = 0; d < 20; d++)
      for (let f = 0; f < 20; f++)
        await tree.write(`repo/big/d${d}/f${f}.txt`, "x");
    const { warnings, onWarning } = warned();
    const found = await instructionPaths({
      ...options(["../../big/**"]),
      onWarning,
      globBounds: { entries: 100, ms: 60_000, files: 1_000 },
    });
    expect(found.length).toBeGreaterThan(0);
    expect(found.length).toBeLessThan(400);
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(
        /^instructions\[0\] "\.\.\/\.\.\/big\/\*\*": .* because it read more than 100 directory entries; /,
      ),
    ]);
  });

  it("keeps at most `files` matches (sorted) and reads no more than those", async () => {
    for (let f = 0; f < 30; f++)
      await tree.write(
        `repo/docs/n${String(f).padStart(2, "0")}.md`,
        `note ${f}`,
      );
    const { warnings, onWarning } = warned();
    const texts = await loadInstructions({
      ...options(["docs/*.md"]),
      onWarning,
      globBounds: { entries: 1_000, ms: 60_000, files: 10 },
    });
    expect(texts).toHaveLength(10);
    expect(texts[0]).toBe(
      `Instructions from: ${tree.path("repo/docs/n00.md")}\nnote 0`,
    );
    expect(warnings[0]?.message).toContain(
      "because it matched more than 10 files; the 10 files found until then are used and the rest skipped.",
    );
  });

  it("a glob inside its bounds warns about nothing", async () => {
    await tree.write("repo/docs/a.md", "a");
    const { warnings, onWarning } = warned();
    expect(
      await instructionPaths({ ...options(["docs/**/*.md"]), onWarning }),
    ).toEqual([tree.path("repo/docs/a.md")]);
    expect(warnings).toEqual([]);
  });
});
