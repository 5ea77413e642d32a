import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { ClickHouseError, createClient, type ClickHouseClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateClickHouse } from "../migrate-clickhouse";
import { LOCAL_PASSWORD_FILE } from "./password";
import { startClickHouseServer, type ClickHouseServer } from "./server";

// chDB opens one data directory per process, so every server in this file shares one.
let dataDir: string;
let server: ClickHouseServer;
let client: ClickHouseClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "ch-server-test-"));
  server = await startClickHouseServer({ dataDir, port: 0 });
  // The settings the Worker's client sends with every request, DDL included.
  client = createClient({
    url: server.url,
    username: server.user,
    password: server.password,
    clickhouse_settings: { async_insert: 0, output_format_json_quote_64bit_integers: 1, date_time_input_format: "best_effort" },
  });
});

afterAll(async () => {
  await client.close();
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** The server's credentials as a request header. */
const auth = (): Record<string, string> => ({ Authorization: `Basic ${btoa(`${server.user}:${server.password}`)}` });

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => new Error("expected a failure"),
    (err: unknown) => err,
  );
}

async function count(table: string): Promise<number> {
  const rs = await client.query({ query: `SELECT count() AS n FROM ${table}`, format: "JSONEachRow" });
  const rows = await rs.json<{ n: string }>();
  return Number(rows[0]?.n);
}

describe("local ClickHouse over HTTP", () => {
  it("answers ping", async () => {
    expect(await client.ping()).toEqual({ success: true });
    expect(await (await fetch(`${server.url}/ping`)).text()).toBe("Ok.\n");
  });

  it("binds query parameters as values, never as SQL", async () => {
    const rs = await client.query({
      query: "SELECT {ids:Array(String)} AS ids, {s:String} AS s, {n:Nullable(UInt8)} AS n",
      query_params: { ids: ["a", "it's", "tab\there"], s: "x' OR '1'='1", n: null },
      format: "JSONEachRow",
    });
    expect(await rs.json()).toEqual([{ ids: ["a", "it's", "tab\there"], s: "x' OR '1'='1", n: null }]);

    const injected = await client.query({
      query: "SELECT count() AS c FROM numbers(5) WHERE toString(number) = {s:String}",
      query_params: { s: "0' OR '1'='1" },
      format: "JSONEachRow",
    });
    expect(await injected.json()).toEqual([{ c: "0" }]);

    // Long parameters travel as multipart/form-data instead of the URL.
    const multipart = createClient({ url: server.url, username: server.user, password: server.password, use_multipart_params: true });
    const long = "x".repeat(10_000);
    const rs2 = await multipart.query({ query: "SELECT length({s:String}) AS n, {m:Map(String, UInt8)} AS m", query_params: { s: long, m: { "k'": 1 } }, format: "JSONEachRow" });
    expect(await rs2.json()).toEqual([{ n: "10000", m: { "k'": 1 } }]);
    await multipart.close();
  });

  it("returns FORMAT JSONEachRow output and quotes UInt64 in JSON", async () => {
    const plain = createClient({ url: server.url, username: server.user, password: server.password });
    const rs = await plain.exec({ query: "SELECT 1 AS a, toUInt64(18446744073709551615) AS big FORMAT JSONEachRow" });
    expect(rs.response_headers["x-clickhouse-format"]).toBe("JSONEachRow");
    expect(await new Response(rs.stream).text()).toBe('{"a":1,"big":"18446744073709551615"}\n');
    const compact = await plain.query({ query: "SELECT 1 AS a, 'x' AS b", format: "JSONCompactEachRow" });
    expect(await compact.json()).toEqual([[1, "x"]]);
    await plain.close();
  });

  it("inserts JSONEachRow, reads it back, deduplicates by token and applies deletes at once", async () => {
    await client.command({
      query: `CREATE TABLE t_rows (id String, n UInt64, ts DateTime64(3, 'UTC'))
              ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100`,
    });
    const values = [
      { id: "a", n: 1, ts: "2024-05-01T10:00:00.123Z" },
      { id: "b", n: 2, ts: "2024-05-01T10:00:01Z" },
    ];
    const insert = () => client.insert({ table: "t_rows", values, format: "JSONEachRow", clickhouse_settings: { insert_deduplication_token: "batch-1" } });
    const first = await insert();
    expect(JSON.parse(first.response_headers["x-clickhouse-summary"] as string)).toMatchObject({ written_rows: "2" });
    await insert();
    expect(await count("t_rows")).toBe(2);

    const rs = await client.query({ query: "SELECT id, n, ts FROM t_rows ORDER BY id", format: "JSON" });
    const body = await rs.json<{ id: string; n: string; ts: string }>();
    expect(body.data).toEqual([
      { id: "a", n: "1", ts: "2024-05-01 10:00:00.123" },
      { id: "b", n: "2", ts: "2024-05-01 10:00:01.000" },
    ]);

    await client.command({ query: "ALTER TABLE t_rows DELETE WHERE id = 'a'" });
    expect(await count("t_rows")).toBe(1);
  });

  it("accepts a gzip-compressed insert body", async () => {
    await client.command({ query: "CREATE TABLE t_gzip (id UInt32) ENGINE = MergeTree ORDER BY id" });
    const rows = Array.from({ length: 1000 }, (_, id) => JSON.stringify({ id })).join("\n");
    const res = await fetch(`${server.url}/?query=${encodeURIComponent("INSERT INTO t_gzip FORMAT JSONEachRow")}`, {
      method: "POST",
      headers: { "Content-Encoding": "gzip", ...auth() },
      body: gzipSync(rows),
    });
    expect(res.status).toBe(200);
    expect(await count("t_gzip")).toBe(1000);
  });

  it("answers in Parquet and takes Parquet inserts, columns by name and deduplicated by token", async () => {
    await client.command({ query: "CREATE TABLE t_parquet (id UInt32, name String, ts DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100" });
    const out = await client.exec({ query: "SELECT toString(number) AS name, toUInt32(number) AS id, toDateTime64('2024-05-01 10:00:00', 3, 'UTC') + number AS ts FROM numbers(3) FORMAT Parquet" });
    const parquet = new Uint8Array(await new Response(out.stream).arrayBuffer());
    expect(new TextDecoder().decode(parquet.slice(0, 4))).toBe("PAR1");
    const insert = async (): Promise<number> => {
      const query = "INSERT INTO t_parquet SETTINGS insert_deduplication_token = 'file-1' FORMAT Parquet";
      const res = await fetch(`${server.url}/?query=${encodeURIComponent(query)}`, { method: "POST", headers: auth(), body: parquet });
      await res.text();
      return res.status;
    };
    expect(await insert()).toBe(200);
    expect(await insert()).toBe(200);
    const rs = await client.query({ query: "SELECT id, name, ts FROM t_parquet ORDER BY id", format: "JSONEachRow" });
    expect(await rs.json()).toEqual([
      { id: 0, name: "0", ts: "2024-05-01 10:00:00.000" },
      { id: 1, name: "1", ts: "2024-05-01 10:00:01.000" },
      { id: 2, name: "2", ts: "2024-05-01 10:00:02.000" },
    ]);
  });

  it("reports errors the way ClickHouse does", async () => {
    const syntax = await failure(client.query({ query: "SELEC 1" }));
    expect(syntax).toBeInstanceOf(ClickHouseError);
    expect(syntax).toMatchObject({ code: "62", type: "SYNTAX_ERROR" });

    const missing = await failure(client.query({ query: "SELECT * FROM no_such_table" }));
    expect(missing).toMatchObject({ code: "60", type: "UNKNOWN_TABLE" });

    const multi = await failure(client.command({ query: "SELECT 1; SELECT 2" }));
    expect(multi).toMatchObject({ code: "62", type: "SYNTAX_ERROR" });

    const res = await fetch(`${server.url}/?query=SELECT%20*%20FROM%20no_such_table`, { headers: auth() });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-clickhouse-exception-code")).toBe("60");
    expect(await res.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\) \(version \d+\./);

    const garbled = await fetch(`${server.url}/?query=${encodeURIComponent("INSERT INTO t_gzip FORMAT JSONEachRow")}`, {
      method: "POST",
      headers: { "Content-Encoding": "gzip", ...auth() },
      body: "not gzip at all",
    });
    expect(garbled.status).toBe(500);
    // As ClickHouse answers it, so the sink sets such a body aside as refused data.
    expect(garbled.headers.get("x-clickhouse-exception-code")).toBe("354");
    expect(await garbled.text()).toMatch(/\(ZLIB_INFLATE_FAILED\)/);
  });

  it("runs queries side by side and queues beyond the pool", async () => {
    // Ordering, not timing: on a serialized server the quick query could only finish after the slow one.
    const finished: string[] = [];
    const slow = client.query({ query: "SELECT sleep(1)" }).then(() => finished.push("slow"));
    await new Promise((r) => setTimeout(r, 50));
    const quick = client.query({ query: "SELECT 1" }).then(() => finished.push("quick"));
    await Promise.all([slow, quick]);
    expect(finished).toEqual(["quick", "slow"]);

    const many = await Promise.all(Array.from({ length: 10 }, (_, i) => client.query({ query: `SELECT ${i} AS i`, format: "JSONEachRow" }).then((r) => r.json())));
    expect(many.map((rows) => rows[0])).toEqual(Array.from({ length: 10 }, (_, i) => ({ i })));
  });

  it("requires credentials when configured and bounds request bodies", async () => {
    const guarded = await startClickHouseServer({ dataDir, port: 0, sessions: 1, user: "app", password: "s3cret", maxBodyBytes: 1024 });
    try {
      const anonymous = createClient({ url: guarded.url });
      expect(await failure(anonymous.query({ query: "SELECT 1" }))).toMatchObject({ code: "516", type: "AUTHENTICATION_FAILED" });
      const wrong = createClient({ url: guarded.url, username: "app", password: "nope" });
      expect(await failure(wrong.query({ query: "SELECT 1" }))).toMatchObject({ code: "516" });
      const right = createClient({ url: guarded.url, username: "app", password: "s3cret" });
      expect(await (await right.query({ query: "SELECT 7 AS x", format: "JSONEachRow" })).json()).toEqual([{ x: 7 }]);

      const big = await fetch(`${guarded.url}/`, { method: "POST", headers: { Authorization: `Basic ${btoa("app:s3cret")}` }, body: "x".repeat(4096) });
      expect(big.status).toBe(413);
      expect(await big.text()).toMatch(/QUERY_IS_TOO_LARGE/);
      expect(await (await right.query({ query: "SELECT 8 AS x", format: "JSONEachRow" })).json()).toEqual([{ x: 8 }]);
    } finally {
      await guarded.close();
    }
  });
});

/** POSTs `query` with the server's credentials; `url` adds URL parameters. */
function post(query: string, url = "", body?: string): Promise<Response> {
  const target = `${server.url}/?${body === undefined ? "" : `query=${encodeURIComponent(query)}&`}${url}`;
  return fetch(target, { method: "POST", headers: auth(), body: body ?? query });
}

describe("the local server is not an open door", () => {
  it("listens on loopback only", async () => {
    for (const host of ["0.0.0.0", "::", "192.0.2.10", "example.com"]) {
      await expect(startClickHouseServer({ dataDir, port: 0, host }), host).rejects.toThrow(/loopback/);
    }
  });

  it("requires the password it made on first start, kept in the data directory for its owner only", async () => {
    const file = join(dataDir, LOCAL_PASSWORD_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, "utf8")).trim()).toBe(server.password);
    expect(server.password.length).toBeGreaterThanOrEqual(24);

    const anonymous = await fetch(`${server.url}/?query=${encodeURIComponent("SELECT 1")}`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toMatch(/^Code: 516\..*\(AUTHENTICATION_FAILED\)/);
    const viaUrl = await fetch(`${server.url}/?query=${encodeURIComponent("SELECT 1")}&user=default&password=${encodeURIComponent(server.password)}`);
    expect(await viaUrl.text()).toBe("1\n");

    const again = await startClickHouseServer({ dataDir, port: 0, sessions: 1 });
    try {
      expect(again.password).toBe(server.password);
    } finally {
      await again.close();
    }
  });

  it("refuses table functions, engines, dictionaries and statements that reach files, URLs or other servers, however they are written", async () => {
    const out = join(dataDir, "..", `${dataDir.split("/").pop() ?? "x"}-outfile.tsv`);
    const refused = [
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM FILE ('/etc/passwd', LineAsString)",
      "SELECT * FROM /* a comment */ `file`/**/('/etc/passwd', 'LineAsString')",
      "SELECT * FROM \"url\"('http://127.0.0.1:9/', CSV, 'a String')",
      "SELECT file('/etc/passwd')",
      "SELECT * FROM remote('127.0.0.1', system.one)",
      "SELECT * FROM remoteSecure('127.0.0.1', system.one)",
      "SELECT * FROM s3('http://127.0.0.1:9/b/k', CSV)",
      "SELECT * FROM sqlite('/tmp/x.sqlite', 't')",
      "SELECT * FROM executable('cat /etc/passwd', TSV, 'a String')",
      "SELECT * FROM urlCluster('default', 'http://127.0.0.1:9/')",
      "SELECT * FROM icebergS3('http://127.0.0.1:9/')",
      "SELECT * FROM clusterAllReplicas('default', system.one)",
      "SELECT * FROM numbers(1) WHERE number IN (SELECT * FROM (SELECT * FROM file('a', 'TSV', 'x UInt8')))",
      `INSERT INTO FUNCTION file('${out}', 'TSV') SELECT 1`,
      `SELECT 1 INTO OUTFILE '${out}'`,
      `SELECT 1 into\n outfile '${out}' TRUNCATE`,
      "INSERT INTO t_any FROM INFILE '/etc/passwd' FORMAT LineAsString",
      "CREATE TABLE t_file (a String) ENGINE = File(TSV)",
      "CREATE TABLE t_url (a String) ENGINE=URL('http://127.0.0.1:9/', CSV)",
      "CREATE TABLE t_kafka (a String) ENGINE = Kafka SETTINGS kafka_broker_list = 'x'",
      "CREATE TABLE t_dist AS system.one ENGINE = Distributed('default', 'system', 'one')",
      "CREATE DATABASE d_sqlite ENGINE = SQLite('/tmp/x.sqlite')",
      "CREATE DICTIONARY d (k UInt64, v String) PRIMARY KEY k SOURCE(CLICKHOUSE(HOST '127.0.0.1' PORT 9000 TABLE 'x')) LAYOUT(FLAT()) LIFETIME(0)",
      "BACKUP TABLE t_gzip TO Disk('default', 'b.zip')",
      "ATTACH TABLE t_attached FROM '../../' (a String) ENGINE = MergeTree ORDER BY a",
    ];
    for (const query of refused) {
      const res = await post(query);
      expect(res.status, query).toBe(403);
      expect(await res.text(), query).toMatch(/^Code: 497\. DB::Exception: .*\(ACCESS_DENIED\)/);
    }
    // The statement in the URL and rows in the body, as clients insert.
    const inline = await post(`INSERT INTO FUNCTION file('${out}', 'TSV') FORMAT TSV`, "", "1\n");
    expect(inline.status).toBe(403);
    const viaGet = await fetch(`${server.url}/?query=${encodeURIComponent(`SELECT 1 INTO OUTFILE '${out}'`)}&user=default&password=${encodeURIComponent(server.password)}`);
    expect(viaGet.status).toBe(403);
    expect(existsSync(out)).toBe(false);

    // The same words as text, or as names that are not calls, are fine.
    const harmless = await post("SELECT 'file(' AS a, 'INTO OUTFILE x' AS b, 1 AS file, domain('http://x.example/') AS url FORMAT TSV");
    expect(await harmless.text()).toBe("file(\tINTO OUTFILE x\t1\tx.example\n");
  });

  it("never answers with Access-Control-Allow-Origin, whatever the request asks", async () => {
    const res = await fetch(`${server.url}/?query=${encodeURIComponent("SELECT 1")}&add_http_cors_header=1&user=default&password=${encodeURIComponent(server.password)}`, {
      headers: { Origin: "http://evil.example" },
    });
    expect(await res.text()).toBe("1\n");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("a read-only user, as ClickHouse treats one with readonly = 1", () => {
  let guarded: ClickHouseServer;
  let reader: ClickHouseClient;
  let writer: ClickHouseClient;

  beforeAll(async () => {
    guarded = await startClickHouseServer({ dataDir, port: 0, sessions: 1, user: "app", password: "s3cret", readonlyUser: { user: "viewer", password: "look" } });
    reader = createClient({ url: guarded.url, username: "viewer", password: "look" });
    writer = createClient({ url: guarded.url, username: "app", password: "s3cret" });
    await writer.command({ query: "CREATE TABLE IF NOT EXISTS t_ro (id UInt32) ENGINE = MergeTree ORDER BY id" });
    await writer.insert({ table: "t_ro", values: [{ id: 1 }], format: "JSONEachRow" });
  });

  afterAll(async () => {
    await reader.close();
    await writer.close();
    await guarded.close();
  });

  it("reads, and passes settings that keep their current value", async () => {
    expect(await (await reader.query({ query: "SELECT count() AS n FROM t_ro", format: "JSONEachRow" })).json()).toEqual([{ n: "1" }]);
    const same = await reader.query({ query: "SELECT 1 AS x", format: "JSONEachRow", clickhouse_settings: { async_insert: 0 } });
    expect(await same.json()).toEqual([{ x: 1 }]);
  });

  it("refuses a changed setting with READONLY, in the URL, the query or a SET", async () => {
    const viaUrl = await fetch(`${guarded.url}/?query=${encodeURIComponent("SELECT 1")}&max_result_rows=5`, { headers: { Authorization: `Basic ${btoa("viewer:look")}` } });
    expect(viaUrl.status).toBe(500);
    expect(viaUrl.headers.get("x-clickhouse-exception-code")).toBe("164");
    expect(await viaUrl.text()).toMatch(/^Code: 164\. DB::Exception: .*Cannot modify 'max_result_rows' setting in readonly mode.*\(READONLY\)/);
    expect(await failure(reader.query({ query: "SELECT 1", clickhouse_settings: { async_insert: 1 } }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await failure(reader.query({ query: "SELECT 1 SETTINGS max_result_rows = 5" }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await failure(reader.command({ query: "SET max_result_rows = 5" }))).toMatchObject({ code: "164", type: "READONLY" });
  });

  it("refuses writes and DDL with READONLY", async () => {
    expect(await failure(reader.insert({ table: "t_ro", values: [{ id: 2 }], format: "JSONEachRow" }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await failure(reader.command({ query: "INSERT INTO t_ro VALUES (3)" }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await failure(reader.command({ query: "INSERT INTO t_ro SELECT 4" }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await failure(reader.command({ query: "CREATE TABLE t_ro2 (id UInt32) ENGINE = MergeTree ORDER BY id" }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await failure(reader.command({ query: "ALTER TABLE t_ro DELETE WHERE 1" }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await failure(reader.command({ query: "DROP TABLE t_ro" }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await failure(reader.command({ query: "TRUNCATE TABLE t_ro" }))).toMatchObject({ code: "164", type: "READONLY" });
    expect(await (await writer.query({ query: "SELECT count() AS n FROM t_ro", format: "JSONEachRow" })).json()).toEqual([{ n: "1" }]);
  });

  it("still needs the right password, and leaves the other user as it was", async () => {
    const wrong = createClient({ url: guarded.url, username: "viewer", password: "nope" });
    expect(await failure(wrong.query({ query: "SELECT 1" }))).toMatchObject({ code: "516" });
    await wrong.close();
    const rs = await writer.query({ query: "SELECT 2 AS x", format: "JSONEachRow", clickhouse_settings: { max_result_rows: "5" } });
    expect(await rs.json()).toEqual([{ x: 2 }]);
  });
});

describe("ClickHouse migrations", () => {
  it("applies the repository's migrations, and the materialized view fills ingest_batches", async () => {
    const files = (await readdir(resolve(import.meta.dirname, "../../schemas/sql/clickhouse"))).filter((f) => f.endsWith(".sql")).sort();
    expect(files.slice(0, 5)).toEqual(["0001_events.sql", "0002_ingest_batches.sql", "0003_inserted_at.sql", "0004_rollups.sql", "0005_sessions_users.sql"]);
    const target = { url: server.url, username: server.user, password: server.password };
    expect(await migrateClickHouse(target)).toEqual(files);
    expect(await migrateClickHouse(target)).toEqual([]);
    await client.insert({
      table: "events",
      values: [{ app_id: "app1", batch_id: "b1", message_id: "m1", timestamp: new Date().toISOString() }],
      format: "JSONEachRow",
    });
    const rs = await client.query({ query: "SELECT app_id, batch_id, rows FROM ingest_batches", format: "JSONEachRow" });
    expect(await rs.json()).toEqual([{ app_id: "app1", batch_id: "b1", rows: "1" }]);
  });

  it("fills the rollups once per event, even when an insert is retried, and merges uniques across days", async () => {
    const day1 = "2026-11-01 10:15:00.000";
    const day2 = "2026-11-02 11:45:00.000";
    const row = (m: string, ts: string, user: string, extra: object = {}) => ({ app_id: "app_roll", batch_id: "r1", message_id: m, timestamp: ts, anonymous_id: user, session_id: `s-${user}`, type: "track", event: "Bought", ...extra });
    const values = [
      row("m1", day1, "u1"),
      row("m2", day1, "u2"),
      row("m3", day2, "u1"),
      row("m4", day2, "u3", { type: "crash", event: "TypeError", crash_fatal: 1 }),
      row("m5", day2, "u3", { type: "page", event: "Home", path: "/home" }),
    ];
    // The sink retries an insert with the same token after a timeout: the rollups must not double.
    for (let i = 0; i < 2; i++) {
      await client.insert({ table: "events", values, format: "JSONEachRow", clickhouse_settings: { insert_deduplication_token: "app_roll:0:1" } });
    }
    const q = async <T>(query: string): Promise<T[]> => (await client.query({ query, query_params: { app: "app_roll" }, format: "JSONEachRow" })).json<T>();
    expect(await q("SELECT count() AS n FROM events WHERE app_id = {app:String}")).toEqual([{ n: "5" }]);
    expect(await q("SELECT toDate(hour) AS day, sum(events) AS n FROM events_hourly WHERE app_id = {app:String} GROUP BY day ORDER BY day")).toEqual([
      { day: "2026-11-01", n: "2" },
      { day: "2026-11-02", n: "3" },
    ]);
    expect(await q("SELECT sum(events) AS n FROM events_minutely WHERE app_id = {app:String}")).toEqual([{ n: "5" }]);
    expect(await q("SELECT path, sum(views) AS n FROM pages_hourly WHERE app_id = {app:String} GROUP BY path")).toEqual([{ path: "/home", n: "1" }]);
    expect(
      await q("SELECT uniqMerge(users) AS users, uniqMerge(sessions) AS sessions, uniqMerge(crashed_users) AS crashed FROM users_daily WHERE app_id = {app:String}"),
    ).toEqual([{ users: "3", sessions: "3", crashed: "1" }]);
    expect(await q("SELECT session_id, sum(events) AS n FROM sessions WHERE app_id = {app:String} GROUP BY session_id ORDER BY session_id")).toEqual([
      { session_id: "s-u1", n: "2" },
      { session_id: "s-u2", n: "1" },
      { session_id: "s-u3", n: "2" },
    ]);
    expect(await q("SELECT user_key, sum(events) AS n, uniqMerge(sessions) AS s FROM user_profiles WHERE app_id = {app:String} GROUP BY user_key ORDER BY user_key")).toEqual([
      { user_key: "u1", n: "2", s: "1" },
      { user_key: "u2", n: "1", s: "1" },
      { user_key: "u3", n: "2", s: "1" },
    ]);
  });

  it("records applied files, skips them next time and refuses a changed one", async () => {
    const dir = join(dataDir, "..", `${dataDir.split("/").pop() ?? "x"}-migrations`);
    await mkdir(dir, { recursive: true });
    try {
      await client.command({ query: "CREATE DATABASE IF NOT EXISTS mig" });
      await writeFile(
        join(dir, "0001_first.sql"),
        "-- two statements; the ; inside the string must not split\nCREATE TABLE a (s String) ENGINE = MergeTree ORDER BY s;\n" +
          "INSERT INTO a VALUES ('semi;colon -- not a comment');\n",
      );
      await writeFile(join(dir, "0002_second.sql"), "CREATE TABLE b (n UInt8) ENGINE = MergeTree ORDER BY n; -- trailing comment\n");
      const lines: string[] = [];
      const opts = { url: server.url, username: server.user, password: server.password, database: "mig", dir, log: (l: string) => lines.push(l) };

      expect(await migrateClickHouse(opts)).toEqual(["0001_first.sql", "0002_second.sql"]);
      expect(lines).toHaveLength(2);
      const recorded = await client.query({ query: "SELECT name FROM mig.schema_migrations ORDER BY name", format: "JSONEachRow" });
      expect(await recorded.json()).toEqual([{ name: "0001_first.sql" }, { name: "0002_second.sql" }]);
      const a = await client.query({ query: "SELECT s FROM mig.a", format: "JSONEachRow" });
      expect(await a.json()).toEqual([{ s: "semi;colon -- not a comment" }]);

      expect(await migrateClickHouse(opts)).toEqual([]);

      await writeFile(join(dir, "0002_second.sql"), "CREATE TABLE b (n UInt16) ENGINE = MergeTree ORDER BY n;\n");
      await writeFile(join(dir, "0003_third.sql"), "CREATE TABLE c (n UInt8) ENGINE = MergeTree ORDER BY n;\n");
      await expect(migrateClickHouse(opts)).rejects.toThrow(/0002_second\.sql was changed/);
      expect(await count("mig.schema_migrations")).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("resumes a migration cut short after its last statement that went through, without repeating its backfill", async () => {
    const dir = join(dataDir, "..", `${dataDir.split("/").pop() ?? "x"}-resume`);
    await mkdir(dir, { recursive: true });
    try {
      await client.command({ query: "CREATE DATABASE IF NOT EXISTS resume" });
      const file = join(dir, "0001_rollup.sql");
      const head = "CREATE TABLE backfilled (n UInt8) ENGINE = MergeTree ORDER BY n;\nINSERT INTO backfilled VALUES (1);\n";
      await writeFile(file, `${head}INSERT INTO missing_table VALUES (2);\n`);
      const opts = { url: server.url, username: server.user, password: server.password, database: "resume", dir };
      await expect(migrateClickHouse(opts)).rejects.toThrow(/0001_rollup\.sql failed at statement 3 of 3/);

      await writeFile(file, `${head}INSERT INTO backfilled VALUES (2);\n`);
      expect(await migrateClickHouse(opts)).toEqual(["0001_rollup.sql"]);
      const rs = await client.query({ query: "SELECT n FROM resume.backfilled ORDER BY n", format: "JSONEachRow" });
      expect(await rs.json()).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
