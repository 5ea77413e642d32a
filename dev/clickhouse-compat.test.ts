// Does this ClickHouse run the product? The migrations (twice), insert deduplication by token
// through the materialized views, the sink's "already stored" check, the dashboard's, the alerts'
// and the lake's queries, the error codes the sink classes, and the users' SQL, all in a scratch
// database dropped at the end. CI runs it against the local server; `npm run compat:clickhouse`
// with CLICKHOUSE_URL, CLICKHOUSE_USER and CLICKHOUSE_PASSWORD runs it against any service
// (docs/decisions/0028-clickhouse-cloud.md).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type ClickHouseClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertRuleSchema } from "../schemas";
import { randomHex } from "../workers/apps/keys";
import { measureRules } from "../workers/alerts/rules/evaluate";
import { classifyClickHouseError, clickhouseClient, clickHouseErrorName } from "../workers/lib/clickhouse";
import { FILE_ROWS } from "../workers/lake/archive";
import { INSERT_SETTINGS } from "../workers/queue/counters";
import { runTrends } from "../dashboard/app/insights/trends.server";
import { parseTrends } from "../dashboard/app/insights/trends";
import { listEvents, parseEventFilters } from "../dashboard/app/queries/events.server";
import { loadOverview } from "../dashboard/app/queries/overview.server";
import { parseRange } from "../dashboard/app/queries/range";
import { startClickHouseServer, type ClickHouseServer } from "./clickhouse/server";
import { dashboardTables, hashedUser, usersSql } from "./deploy/clickhouse-users";
import { migrateClickHouse } from "./migrate-clickhouse";

interface Login {
  url: string;
  username: string;
  password: string;
}

const database = `compat_${randomHex(6)}`;
const app = `app_compat_${randomHex(4)}`;
const now = Date.now();
// Whole minutes well inside every range read below, settled for the alert rules.
const minute = Math.floor((now - 10 * 60_000) / 60_000) * 60_000;

let dataDir: string | undefined;
let server: ClickHouseServer | undefined;
let admin: Login;
// The dashboard's login: a read-only user on the local server, as a deployment should have.
let reader: Login;
let root: ClickHouseClient;
let sink: ClickHouseClient;

beforeAll(async () => {
  const url = process.env.CLICKHOUSE_URL;
  if (url) {
    admin = { url, username: process.env.CLICKHOUSE_USER || "default", password: process.env.CLICKHOUSE_PASSWORD ?? "" };
    // A service's read-only user has grants on its own database, not on this scratch one.
    reader = admin;
  } else {
    dataDir = await mkdtemp(join(tmpdir(), "ch-compat-"));
    const readonlyUser = { user: "dashboard", password: randomHex(8) };
    server = await startClickHouseServer({ dataDir, port: 0, sessions: 2, readonlyUser });
    admin = { url: server.url, username: server.user, password: server.password };
    reader = { url: server.url, username: readonlyUser.user, password: readonlyUser.password };
  }
  root = createClient(admin);
  await root.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  sink = clickhouseClient({ ...admin, database });
});

afterAll(async () => {
  await sink?.close();
  await root?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await root?.close();
  await server?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

async function one<T>(query: string, params: Record<string, unknown> = {}): Promise<T | undefined> {
  const rs = await sink.query({ query, query_params: params, format: "JSONEachRow" });
  return (await rs.json<T>())[0];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A batch as the sink writes it: its rows carry the batch id, the insert its token. */
function batch(id: string, users: readonly string[]): Record<string, unknown>[] {
  return users.map((user, i) => ({
    app_id: app,
    type: "track",
    event: "Signed Up",
    message_id: `${id}-${i}`,
    user_id: user,
    anonymous_id: `anon-${user}`,
    session_id: `s-${user}`,
    timestamp: iso(minute + 1000 * i),
    original_timestamp: iso(minute + 1000 * i),
    sent_at: iso(minute + 1000 * i),
    received_at: iso(minute + 1000 * i),
    platform: "web",
    country: "DE",
    path: "/signup",
    properties: { plan: "pro" },
    context: {},
    batch_id: id,
  }));
}

const insertBatch = (id: string, users: readonly string[]) =>
  sink.insert({ table: "events", format: "JSONEachRow", values: batch(id, users), clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: id } });

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error("expected ClickHouse to refuse"),
    (err: unknown) => err,
  );
}

describe(`ClickHouse compatibility (${process.env.CLICKHOUSE_URL ? "CLICKHOUSE_URL" : "the local server"})`, () => {
  it("applies every migration, then finds nothing left to apply", async () => {
    const applied = await migrateClickHouse({ ...admin, database });
    expect(applied.length).toBeGreaterThanOrEqual(15);
    expect(await migrateClickHouse({ ...admin, database })).toEqual([]);
    // Read back, so a server that ignored the statement fails here rather than in production.
    const events = await one<{ q: string }>("SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = 'events'");
    expect(events?.q).toMatch(/replicated_deduplication_window = 10000/);
    expect(events?.q).toMatch(/replicated_deduplication_window_seconds = 604800/);
  });

  it("stores a batch inserted twice with one token once, in the table and in its views, and the sink finds it stored", async () => {
    const a = `batch_${randomHex(6)}`;
    const b = `batch_${randomHex(6)}`;
    await insertBatch(a, ["u1", "u2", "u3"]);
    await insertBatch(a, ["u1", "u2", "u3"]);
    // Another batch with rows the views sum to the same block still counts.
    await insertBatch(b, ["u1", "u2", "u3"]);
    const counts = await one<{ raw: string; hourly: string; minutely: string }>(
      `SELECT (SELECT count() FROM events WHERE app_id = {app:String}) AS raw,
              (SELECT sum(events) FROM events_hourly WHERE app_id = {app:String}) AS hourly,
              (SELECT sum(events) FROM events_minutely WHERE app_id = {app:String}) AS minutely`,
      { app },
    );
    expect(counts).toEqual({ raw: "6", hourly: "6", minutely: "6" });
    // The sink's "already stored" check (storedIds in workers/queue/sink.ts), through the Worker's client.
    const stored = await sink.query({
      query: "SELECT DISTINCT batch_id FROM ingest_batches WHERE app_id IN {apps:Array(String)} AND batch_id IN {ids:Array(String)}",
      query_params: { apps: [app], ids: [a, b, "batch_never_sent"] },
      format: "JSONEachRow",
    });
    expect(new Set((await stored.json<{ batch_id: string }>()).map((r) => r.batch_id))).toEqual(new Set([a, b]));
  });

  it("answers the dashboard's, the alerts' and the lake's queries", async () => {
    const cfg = { ...reader, database };
    const search = (q: string) => new URL(`https://dashboard.example/?${q}`);
    const overview = await loadOverview(cfg, app, parseRange(search("range=24h"), now), undefined, now);
    expect(overview.totals).toEqual({ events: 6, users: 3, sessions: 3 });
    expect(overview.topEvents).toEqual([{ key: "Signed Up", n: 6 }]);
    const page = await listEvents(cfg, app, parseEventFilters(search("range=24h&event=Signed+Up"), now), null);
    expect(page.rows).toHaveLength(6);
    const trends = await runTrends(cfg, app, parseTrends(search("range=7d&interval=day&event=Signed+Up"), now));
    expect(trends.lines.map((l) => l.total)).toEqual([6]);

    const rule = (metric: Record<string, unknown>) => ({
      id: "r",
      appId: app,
      name: "r",
      rule: AlertRuleSchema.parse({ name: "r", metric, window: "5m", condition: { type: "threshold", direction: "above", value: 0 }, endpointIds: ["wh"], cooldownMinutes: 0 }),
    });
    // Neither rule reads D1 (only regressions do).
    const noD1 = {} as D1Database;
    const measured = await measureRules({ db: noD1, client: sink }, app, [rule({ kind: "events", name: "Signed Up" }), rule({ kind: "users" })], minute + 3 * 60_000);
    expect(measured.map((m) => m.value)).toEqual([6, 3]);

    const { stream } = await sink.exec({
      query: `SELECT * FROM events WHERE ${FILE_ROWS} ORDER BY timestamp, message_id FORMAT Parquet`,
      query_params: { app, from: 0, to: now + 3_600_000, parts: 1, part: 0 },
      // As the lake writes its files (workers/lake/archive.ts).
      clickhouse_settings: { output_format_parquet_compression_method: "zstd", output_format_parquet_string_as_string: 1 },
    });
    const parquet = new Uint8Array(await new Response(stream).arrayBuffer());
    expect(new TextDecoder().decode(parquet.slice(-4))).toBe("PAR1");
  });

  it("names its errors as the sink's classes expect", async () => {
    const unknownTable = await failure(sink.query({ query: "SELECT 1 FROM no_such_table", format: "JSONEachRow" }));
    expect([clickHouseErrorName(unknownTable), classifyClickHouseError(unknownTable)]).toEqual(["UNKNOWN_TABLE", "operator"]);
    const syntax = await failure(sink.query({ query: "SELEC 1", format: "JSONEachRow" }));
    expect(clickHouseErrorName(syntax)).toBe("SYNTAX_ERROR");
    const badRow = await failure(sink.insert({ table: "events", format: "JSONEachRow", values: [{ app_id: app, timestamp: "not a time" }], clickhouse_settings: INSERT_SETTINGS }));
    expect(classifyClickHouseError(badRow)).toBe("data");
    const stranger = clickhouseClient({ ...admin, password: `${admin.password}-wrong`, database });
    const auth = await failure(stranger.query({ query: "SELECT 1", format: "JSONEachRow" }));
    await stranger.close();
    expect([clickHouseErrorName(auth), classifyClickHouseError(auth)]).toEqual(["AUTHENTICATION_FAILED", "operator"]);
    if (server !== undefined) {
      const readOnly = createClient({ ...reader, database });
      const write = await failure(readOnly.command({ query: "INSERT INTO events (app_id) VALUES ('x')" }));
      await readOnly.close();
      expect([clickHouseErrorName(write), classifyClickHouseError(write)]).toEqual(["READONLY", "operator"]);
    }
  });

  it("parses the users' SQL", async () => {
    const sql = usersSql({
      database,
      worker: await hashedUser("telemetry_worker", "w"),
      dashboard: await hashedUser("telemetry_dashboard", "d"),
      dashboardTables: await dashboardTables(),
    });
    for (const statement of sql) expect(await one<{ q: string }>("SELECT formatQuery({s:String}) AS q", { s: statement })).toEqual({ q: expect.any(String) });
  });
});
