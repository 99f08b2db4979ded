/**
 * `opencode config validate --json` is bounded like the text report: the first warnings (identical
 * ones counted), how many more were left out, the first problems of an invalid config — always
 * exact JSON, always small.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sandbox, type Sandbox } from "./cli-helper.ts";

const MAX_OUTPUT = 64 * 1024;

describe("config validate --json on huge configs", () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  it("6,000 values of ${UNSET} and 20,000 agents with an unknown key: the first 50 warnings and how many more", async () => {
    const agent: Record<string, object> = {};
    for (let i = 0; i < 20_000; i++)
      agent[`a${i}`] =
        i < 6_000
          ? { prompt: "${PANTHEON_TEST_UNSET}", colour: "red" }
          : { colour: "red" };
    const file = sb.write("huge.json", { agent });
    const r = await sb.run(["config", "validate", file, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBeLessThan(MAX_OUTPUT);
    const body = JSON.parse(r.stdout) as {
      valid: boolean;
      warnings: { code: string; path: string }[];
      warningsOmitted: number;
    };
    expect(body.valid).toBe(true);
    expect(body.warnings).toHaveLength(50);
    expect(body.warningsOmitted).toBe(26_000 - 50);
    expect(body.warnings[0]).toEqual(
      expect.objectContaining({ path: expect.stringMatching(/^agent\.a0\b/) }),
    );
    // The text report says the same in a line.
    const text = await sb.run(["config", "validate", file]);
    expect(text.code).toBe(0);
    expect(text.stderr.length).toBeLessThan(MAX_OUTPUT);
    expect(text.stderr).toContain(
      "warning: … and 25,950 more warnings (the first 50 are listed)",
    );
  });

  it("a config with few warnings lists them all and says none were left out", async () => {
    const file = sb.write("small.json", {
      agent: { a: { prompt: "${PANTHEON_TEST_UNSET}" } },
    });
    const r = await sb.run(["config", "validate", file, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as {
      warnings: { code: string }[];
      warningsOmitted: number;
    };
    expect(body.warnings.map((w) => w.code)).toEqual(["ENV_UNSET"]);
    expect(body.warningsOmitted).toBe(0);
  });

  it("20,000 bad agents: exact JSON under 64 KB with the first 50 problems and how many more", async () => {
    const agent: Record<string, object> = {};
    for (let i = 0; i < 20_000; i++) agent[`a${i}`] = { temperature: "hot" };
    const file = sb.write("bad.json", { agent });
    const r = await sb.run(["config", "validate", file, "--json"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout.length).toBeLessThan(MAX_OUTPUT);
    const { error } = JSON.parse(r.stdout) as {
      error: { code: string; message: string; details: string[] };
    };
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe("Invalid config: 20,000 problems in 1 file.");
    expect(error.details).toHaveLength(51);
    expect(error.details[50]).toBe(
      "… and 19,950 more problems (the first 50 are listed)",
    );
  });
});
