// `npm run deploy -- --env staging --dry-run` end to end, offline: the CLI as a user runs it,
// with wrangler's own dry run bundling the Worker under the generated [env.staging].
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resourceNames } from "./environment";

const root = resolve(import.meta.dirname, "../..");
const DB_ID = "3f1c9a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
const CLICKHOUSE = "https://abc123.eu-central-1.aws.clickhouse.cloud:8443";

let dir = "";
let run: { code: number | null; out: string } = { code: null, out: "" };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deploy-dry-run-"));
  // What an earlier deploy of staging recorded.
  await writeFile(join(dir, "staging.json"), JSON.stringify({ clickhouse: { url: CLICKHOUSE, database: "telemetry" }, d1DatabaseId: DB_ID, dashboardUrl: "https://edge-telemetry-dashboard-staging.pages.dev" }));
  const env = { ...process.env };
  delete env.CLOUDFLARE_API_TOKEN;
  delete env.CLICKHOUSE_URL;
  run = await new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", "dev/deploy/main.ts", "--env", "staging", "--dry-run", "--deploy-dir", dir], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, out }));
  });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npm run deploy -- --env staging --dry-run", () => {
  it("lists every resource and every command that would change the account, and changes nothing", async () => {
    expect(run.code, run.out).toBe(0);
    const names = resourceNames("staging", await readFile(join(root, "wrangler.toml"), "utf8"), await readFile(join(root, "dashboard/wrangler.toml"), "utf8"));
    for (const name of [names.d1.name, ...names.queues, ...names.buckets.map((b) => b.name), names.pagesProject]) expect(run.out).toMatch(new RegExp(`(D1 database|queue|R2 bucket|Pages project) ${name}: created unless it exists`));
    expect(run.out).toContain("would run: wrangler r2 bucket create telemetry-archive-eu-staging --jurisdiction eu");
    expect(run.out).toContain("would run: wrangler d1 migrations apply DB --remote --env staging");
    expect(run.out).toContain("would run: wrangler pages deploy");
    expect(run.out).toContain("Dry run of staging done");
    // The recorded file is the input, not rewritten.
    expect(JSON.parse(await readFile(join(dir, "staging.json"), "utf8"))).toMatchObject({ d1DatabaseId: DB_ID });
  });

  it("has wrangler's own dry run bundle the Worker with staging's bindings: its ids and ClickHouse, no loopback", async () => {
    expect(run.out).toContain("--dry-run: exiting now.");
    expect(existsSync(join(root, ".wrangler/deploy/staging/worker/index.js"))).toBe(true);
    const bindings = run.out.slice(run.out.indexOf("[7/8]"));
    expect(bindings).toContain("telemetry-meta-staging");
    expect(bindings).toContain("telemetry-events-1-staging");
    expect(bindings).toContain("telemetry-archive-eu-staging");
    // Wrangler shortens long values in its table: the start of the URL, and the file it read holds the rest.
    expect(bindings).toContain('env.CLICKHOUSE_URL ("https://abc123.');
    expect(bindings).toContain('env.ENVIRONMENT ("staging")');
    expect(bindings).not.toMatch(/127\.0\.0\.1|localhost/);
    const generated = await readFile(join(root, ".wrangler/deploy/staging/wrangler.toml"), "utf8");
    expect(generated).toContain(`database_id = "${DB_ID}"`);
    expect(generated).toContain(`CLICKHOUSE_URL = "${CLICKHOUSE}"`);
    const dashboard = await readFile(join(root, ".wrangler/deploy/staging/dashboard/wrangler.toml"), "utf8");
    expect(dashboard).toContain(`database_id = "${DB_ID}"`);
    expect(dashboard).toContain('service = "edge-telemetry-staging"');
  });
});
