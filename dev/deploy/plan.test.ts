import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { clickhouseUrlProblem, dashboardConfig, parseEnvironmentFile, resourceNames, workerConfig } from "./environment";
import { dashboardTables, hashedUser, usersSql } from "./clickhouse-users";
import { deployedUrl, parseD1List, parsePagesProjects, parsePagesSecretList, parseQueueList, parseR2BucketList, parseSecretList, planResources, planSecrets } from "./plan";

const root = resolve(import.meta.dirname, "../..");
const workerToml = readFileSync(resolve(root, "wrangler.toml"), "utf8");
const dashboardToml = readFileSync(resolve(root, "dashboard/wrangler.toml"), "utf8");
const names = resourceNames("staging", workerToml, dashboardToml);
const DB_ID = "3f1c9a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";

// As wrangler 4.86 prints them.
const d1Json = `[\n  {\n    "uuid": "${DB_ID}",\n    "name": "telemetry-meta-staging",\n    "created_at": "2026-11-30T10:00:00.000Z",\n    "version": "production",\n    "num_tables": 31,\n    "file_size": 1048576\n  }\n]`;
const queuesTable = [
  "┌──────────────────────────────────┬──────────────────────────┬─────────────────────────────┬─────────────────────────────┬───────────┬───────────┐",
  "│ id                               │ name                     │ created_on                  │ modified_on                 │ producers │ consumers │",
  "├──────────────────────────────────┼──────────────────────────┼─────────────────────────────┼─────────────────────────────┼───────────┼───────────┤",
  "│ 5e1b2c3d4e5f60718293a4b5c6d7e8f9 │ telemetry-events-staging │ 2026-11-30T10:00:00.000000Z │ 2026-11-30T10:00:00.000000Z │ 1         │ 1         │",
  "├──────────────────────────────────┼──────────────────────────┼─────────────────────────────┼─────────────────────────────┼───────────┼───────────┤",
  "│ 6f2c3d4e5f60718293a4b5c6d7e8f90a │ \u001b[90mtelemetry-webhooks-staging\u001b[39m │ 2026-11-30T10:00:00.000000Z │ 2026-11-30T10:00:00.000000Z │ 1         │ 1         │",
  "└──────────────────────────────────┴──────────────────────────┴─────────────────────────────┴─────────────────────────────┴───────────┴───────────┘",
].join("\n");
const bucketsText = "Listing buckets...\nname:           telemetry-archive-staging\ncreation_date:  2026-11-30T10:00:00.000Z\n\nname:           other-bucket\ncreation_date:  2026-11-29T10:00:00.000Z\n";

describe("deploy: what wrangler lists", () => {
  it("reads D1 databases, queues, buckets, Pages projects and secret names from wrangler's outputs", () => {
    expect(parseD1List(d1Json)).toEqual([{ name: "telemetry-meta-staging", id: DB_ID }]);
    expect(parseQueueList(queuesTable)).toEqual(["telemetry-events-staging", "telemetry-webhooks-staging"]);
    expect(parseQueueList("")).toEqual([]);
    expect(parseR2BucketList(bucketsText)).toEqual(["telemetry-archive-staging", "other-bucket"]);
    expect(parsePagesProjects(`[{"Project Name": "edge-telemetry-dashboard-staging", "Project Domains": "edge-telemetry-dashboard-staging-3x1.pages.dev, telemetry.example.com", "Git Provider": "No", "Last Modified": "1 day ago"}]`)).toEqual([
      { name: "edge-telemetry-dashboard-staging", domains: ["edge-telemetry-dashboard-staging-3x1.pages.dev", "telemetry.example.com"] },
    ]);
    expect(parseSecretList(`[\n  {"name": "ADMIN_TOKEN", "type": "secret_text"}\n]`)).toEqual(["ADMIN_TOKEN"]);
    expect(parsePagesSecretList("The \"production\" environment of your Pages project \"x\" has access to the following secrets:\n  - SESSION_SECRET: Value Encrypted\n  - SETUP_TOKEN: Value Encrypted\n")).toEqual(["SESSION_SECRET", "SETUP_TOKEN"]);
    expect(deployedUrl("Uploaded edge-telemetry-staging (3.2 sec)\nDeployed edge-telemetry-staging triggers (1.1 sec)\n  https://edge-telemetry-staging.acme.workers.dev\n")).toBe("https://edge-telemetry-staging.acme.workers.dev");
  });
});

describe("deploy: the plan", () => {
  it("names every resource of the environment after the top-level config", () => {
    expect(names).toMatchObject({ worker: "edge-telemetry-staging", d1: { binding: "DB", name: "telemetry-meta-staging" }, pagesProject: "edge-telemetry-dashboard-staging" });
    expect(names.queues).toEqual(["telemetry-events-staging", "telemetry-events-1-staging", "telemetry-events-dlq-staging", "telemetry-webhooks-staging", "telemetry-webhooks-dlq-staging"]);
    expect(names.buckets).toEqual([
      { binding: "ARCHIVE", name: "telemetry-archive-staging" },
      { binding: "ARCHIVE_EU", name: "telemetry-archive-eu-staging", jurisdiction: "eu" },
    ]);
    expect(() => resourceNames("development", workerToml, dashboardToml)).toThrow(/development/);
  });

  it("reuses what the account holds by name and creates the rest (the EU bucket in its jurisdiction)", () => {
    const steps = planResources(names, {
      d1: parseD1List(d1Json),
      queues: parseQueueList(queuesTable),
      buckets: { "": parseR2BucketList(bucketsText), eu: [] },
      pages: [],
    });
    const by = Object.fromEntries(steps.map((s) => [s.name, s]));
    expect(by["telemetry-meta-staging"]).toMatchObject({ action: "reuse", detail: DB_ID });
    expect(by["telemetry-events-staging"]?.action).toBe("reuse");
    expect(by["telemetry-events-1-staging"]).toMatchObject({ action: "create", create: ["queues", "create", "telemetry-events-1-staging"] });
    expect(by["telemetry-archive-staging"]?.action).toBe("reuse");
    expect(by["telemetry-archive-eu-staging"]).toMatchObject({ action: "create", create: ["r2", "bucket", "create", "telemetry-archive-eu-staging", "--jurisdiction", "eu"] });
    expect(by["edge-telemetry-dashboard-staging"]?.action).toBe("create");
  });

  it("creates the database when the account has none, and refuses one whose id differs from the recorded one", () => {
    const fresh = planResources(names, { d1: [], queues: [], buckets: { "": [], eu: [] }, pages: [] });
    expect(fresh.filter((s) => s.action === "create")).toHaveLength(fresh.length);
    expect(fresh[0]).toMatchObject({ kind: "d1", create: ["d1", "create", "telemetry-meta-staging"] });
    expect(() => planResources(names, { d1: parseD1List(d1Json) }, "0b7c1d2e-0000-4000-8000-000000000001")).toThrow(/records 0b7c1d2e/);
    // Not asked (a dry run without a token): nothing is claimed either way.
    expect(new Set(planResources(names, {}).map((s) => s.action))).toEqual(new Set(["unknown"]));
  });

  it("generates secrets only when missing, keeps given ones, and refuses the local defaults", () => {
    let n = 0;
    const random = () => `generated-${++n}`;
    const first = planSecrets({ clickhouseUser: "writer", clickhousePassword: "pw", given: { SETUP_TOKEN: "my-setup-token-123" }, workerHas: [], dashboardHas: [] }, random, ["local-admin-token"]);
    expect(first.worker).toEqual({ CLICKHOUSE_USER: "writer", CLICKHOUSE_PASSWORD: "pw", ADMIN_TOKEN: "generated-1", OAUTH_KEY_SECRET: "generated-2" });
    expect(first.dashboard).toEqual({ CLICKHOUSE_USER: "writer", CLICKHOUSE_PASSWORD: "pw", SESSION_SECRET: "generated-3", SETUP_TOKEN: "my-setup-token-123" });
    const again = planSecrets({ clickhouseUser: "writer", clickhousePassword: "pw", given: {}, workerHas: ["ADMIN_TOKEN", "OAUTH_KEY_SECRET"], dashboardHas: ["SESSION_SECRET", "SETUP_TOKEN"] }, random, []);
    expect(again.generated).toEqual([]);
    expect(Object.keys(again.worker)).toEqual(["CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD"]);
    expect(() => planSecrets({ clickhouseUser: "u", clickhousePassword: "p", given: { ADMIN_TOKEN: "local-admin-token" } }, random, ["local-admin-token"])).toThrow(/ADMIN_TOKEN is the local development default/);
    // Migrations run as the administrator; the Worker and the dashboard get their own users.
    const own = planSecrets(
      { clickhouseUser: "default", clickhousePassword: "admin-pw", workerClickhouseUser: "telemetry_worker", workerClickhousePassword: "w-pw", dashboardClickhouseUser: "telemetry_dashboard", dashboardClickhousePassword: "d-pw", given: {}, workerHas: ["ADMIN_TOKEN", "OAUTH_KEY_SECRET"], dashboardHas: ["SESSION_SECRET", "SETUP_TOKEN"] },
      random,
      [],
    );
    expect([own.worker, own.dashboard]).toEqual([
      { CLICKHOUSE_USER: "telemetry_worker", CLICKHOUSE_PASSWORD: "w-pw" },
      { CLICKHOUSE_USER: "telemetry_dashboard", CLICKHOUSE_PASSWORD: "d-pw" },
    ]);
  });
});

describe("deploy: ClickHouse users", () => {
  it("gives the Worker rows to insert, read and delete plus its scratch tables, and the dashboard reads of the product's tables only", async () => {
    const user = (name: string) => ({ name, sha256: "ab12", salt: "cd34" });
    expect(usersSql({ database: "telemetry", worker: user("telemetry_worker"), dashboard: user("telemetry_dashboard"), dashboardTables: ["events", "events_hourly"] })).toEqual([
      "CREATE SETTINGS PROFILE OR REPLACE telemetry_dashboard_readonly SETTINGS readonly = 1, cancel_http_readonly_queries_on_client_close = 1",
      "CREATE USER IF NOT EXISTS telemetry_worker IDENTIFIED WITH sha256_hash BY 'ab12' SALT 'cd34' SETTINGS PROFILE 'default'",
      "ALTER USER telemetry_worker IDENTIFIED WITH sha256_hash BY 'ab12' SALT 'cd34' SETTINGS PROFILE 'default'",
      "GRANT SELECT, INSERT, ALTER DELETE ON telemetry.* TO telemetry_worker WITH REPLACE OPTION",
      "GRANT CREATE TABLE, DROP TABLE ON telemetry.lake_forget_* TO telemetry_worker",
      "GRANT CREATE TABLE, DROP TABLE ON telemetry.lake_compact_* TO telemetry_worker",
      "GRANT CREATE TABLE, DROP TABLE ON telemetry.export_* TO telemetry_worker",
      "GRANT TABLE ENGINE ON MergeTree TO telemetry_worker",
      "CREATE USER IF NOT EXISTS telemetry_dashboard IDENTIFIED WITH sha256_hash BY 'ab12' SALT 'cd34' SETTINGS PROFILE 'telemetry_dashboard_readonly'",
      "ALTER USER telemetry_dashboard IDENTIFIED WITH sha256_hash BY 'ab12' SALT 'cd34' SETTINGS PROFILE 'telemetry_dashboard_readonly'",
      "GRANT SELECT ON telemetry.events TO telemetry_dashboard WITH REPLACE OPTION",
      "GRANT SELECT ON telemetry.events_hourly TO telemetry_dashboard",
    ]);
    expect(() => usersSql({ database: "x; DROP", worker: user("w"), dashboard: user("d"), dashboardTables: ["events"] })).toThrow(/not a plain ClickHouse name/);
    const tables = await dashboardTables();
    expect(tables).toEqual(expect.arrayContaining(["events", "events_hourly", "sessions", "user_profiles", "pipeline_minutely", "crash_issues_hourly", "network_hourly"]));
    expect(tables).not.toContain("ingest_batches");
    expect(tables).not.toContain("event_ids");
    // The stored hash is of password + salt, so ClickHouse checks the password without the SQL holding it.
    const hashed = await hashedUser("w", "secret", "00ff");
    expect(hashed).toEqual({ name: "w", sha256: createHash("sha256").update("secret00ff").digest("hex"), salt: "00ff" });
  });

  it("lets the Worker create every table its code creates", () => {
    // Scratch tables are made in one place, under a prefix its type allows (workers/lib/scratch.ts);
    // the grants name each of those prefixes.
    const creating = readdirSync(resolve(root, "workers"), { recursive: true, encoding: "utf8" }).filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && readFileSync(resolve(root, "workers", f), "utf8").includes("CREATE TABLE"),
    );
    expect(creating).toEqual(["lib/scratch.ts"]);
  });
});

describe("deploy: the environment's configuration", () => {
  it("refuses a loopback or plain-http ClickHouse", () => {
    expect(clickhouseUrlProblem("http://127.0.0.1:8123")).toMatch(/loopback/);
    expect(clickhouseUrlProblem("https://localhost:8443")).toMatch(/loopback/);
    expect(clickhouseUrlProblem("http://ch.example.com:8123")).toMatch(/https/);
    expect(clickhouseUrlProblem("https://abc.eu-central-1.aws.clickhouse.cloud:8443")).toBeUndefined();
  });

  it("generates [env.staging] with its names, ids and URLs, leaves the top level and other environments as they were, and regenerates in place", () => {
    const file = parseEnvironmentFile(JSON.stringify({ clickhouse: { url: "https://abc.clickhouse.cloud:8443" }, d1DatabaseId: DB_ID, dashboardUrl: "https://dash.example.com" }), "staging.json");
    const out = workerConfig(workerToml, "staging", file);
    const config = parse(out) as { name: string; vars: Record<string, string>; env: Record<string, { name: string; vars: Record<string, string>; d1_databases: Array<{ database_id?: string }>; queues: { consumers: Array<{ queue: string; dead_letter_queue?: string; max_concurrency?: number }> }; r2_buckets: Array<{ bucket_name: string }>; analytics_engine_datasets: Array<{ binding: string; dataset: string }> }> };
    const staging = config.env.staging;
    expect(config.name).toBe("edge-telemetry");
    expect(config.vars.ENVIRONMENT).toBeUndefined();
    expect(staging?.name).toBe("edge-telemetry-staging");
    expect(staging?.vars).toMatchObject({ ENVIRONMENT: "staging", CLICKHOUSE_URL: "https://abc.clickhouse.cloud:8443", DASHBOARD_URL: "https://dash.example.com", FLUSH_MAX_ROWS: "2000", EVENTS_QUEUES: "2" });
    expect(staging?.d1_databases[0]?.database_id).toBe(DB_ID);
    expect(staging?.queues.consumers.map((c) => [c.queue, c.dead_letter_queue, c.max_concurrency])).toEqual([
      ["telemetry-events-staging", "telemetry-events-dlq-staging", 50],
      ["telemetry-events-1-staging", "telemetry-events-dlq-staging", 50],
      ["telemetry-events-dlq-staging", undefined, 5],
      ["telemetry-webhooks-staging", "telemetry-webhooks-dlq-staging", 20],
      ["telemetry-webhooks-dlq-staging", undefined, 1],
    ]);
    expect(staging?.r2_buckets.map((b) => b.bucket_name)).toEqual(["telemetry-archive-staging", "telemetry-archive-eu-staging"]);
    // Staging's pipeline counters never land in production's Analytics Engine dataset.
    expect(staging?.analytics_engine_datasets).toEqual([{ binding: "PIPELINE_METRICS", dataset: "edge_telemetry_pipeline_staging" }]);
    expect(config.env.production?.vars.CLICKHOUSE_URL).toBeUndefined();
    expect(out.slice(out.indexOf("# --- [env."))).not.toMatch(/127\.0\.0\.1|localhost|00000000-0000/);
    expect(workerConfig(out, "staging", file)).toBe(out);

    const dash = parse(dashboardConfig(dashboardToml, "staging", file)) as { name: string; vars: Record<string, string>; services: Array<{ service: string }>; d1_databases: Array<{ database_id: string }> };
    expect(dash.name).toBe("edge-telemetry-dashboard-staging");
    expect(dash.vars).toMatchObject({ ENVIRONMENT: "staging", CLICKHOUSE_URL: "https://abc.clickhouse.cloud:8443" });
    expect(dash.services.map((s) => s.service)).toEqual(["edge-telemetry-staging", "edge-telemetry-staging", "edge-telemetry-staging"]);
    expect(dash.d1_databases[0]?.database_id).toBe(DB_ID);
  });
});
