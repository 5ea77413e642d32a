// Scheduled exports against the real local ClickHouse, D1 and R2: the hourly cron writes each
// schedule's last whole hour as CSV and as Parquet into the app's bucket, and ClickHouse reads
// the files back with exactly that hour's rows of that app; a big stream goes to R2 in parts; a
// destination that refuses is tried again by later cron runs and, after the last attempt, the
// organisation's webhook endpoint hears of it; a dashboard view and a saved insight are written
// as the dashboard's CSV of that hour, a list longer than one read included, and as Parquet with the
// same rows; and the admin API
// keeps each caller to its own organisation's apps and to the data:export scope, and refuses bad input.
import { createScheduledController, env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { allRows } from "../../dashboard/app/csv/download.server";
import { CSV_VIEWS, INSIGHT_CSV, isRefusal, queryUrl, type CsvFile, type CsvRefusal, type CsvRow } from "../../dashboard/app/csv/views.server";
import { createSavedInsight } from "../../dashboard/app/db/insights.server";
import { toCsv } from "../../dashboard/app/queries/csv";
import { config, type ExportRun, type ExportSchedule } from "../../schemas";
import { chHeaders, chInsert } from "../../test/seed";
import type { Received } from "../../test/webhook-receiver";
import { createEndpoint } from "../alerts/webhooks/store";
import { withDeletionDeps } from "../apps/service";
import { createApp, inOrg } from "../apps/store";
import { PURGE_CRON } from "../cron/index";
import worker from "../index";
import { MIN_PART_BYTES, r2Store, uploadStream } from "../lib/stream-upload";
import { createClient } from "../oauth/clients";
import { issueToken } from "../oauth/tokens";
import { latestPeriod } from "./period";
import { periodRange } from "./sources";

const HOUR = 3_600_000;
// A fixed hour far from midnight, so the retries below stay within one day.
const NOW = Date.parse("2026-11-20T10:41:00Z");
const PERIOD = latestPeriod("hourly", NOW);
const iso = (ms: number): string => new Date(ms).toISOString();

let org = "";
let app = "";
let otherApp = "";

async function newOrgApp(): Promise<{ org: string; app: string }> {
  const id = crypto.randomUUID().replace(/-/g, "").slice(0, 10);
  await env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, ?1, ?2)").bind(`org_${id}`, NOW).run();
  expect(await createApp(env.DB, inOrg(`org_${id}`), { id: `app_exp_${id}`, name: `Shop ${id}` })).not.toBe("unavailable");
  return { org: `org_${id}`, app: `app_exp_${id}` };
}

async function call<T>(method: string, path: string, body?: unknown, token = "test-admin-token"): Promise<{ status: number; body: T }> {
  const res = await SELF.fetch(`https://edge.test/admin${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json<T>() };
}

const cron = (at: number): Promise<void> => worker.scheduled(createScheduledController({ cron: PURGE_CRON, scheduledTime: at }), env);

/** Rows read back by ClickHouse from a file's bytes. */
async function readBack(format: "CSVWithNames" | "Parquet", bytes: Uint8Array): Promise<Array<{ app_id: string; message_id: string; event: string }>> {
  const url = new URL(env.CLICKHOUSE_DIRECT_URL);
  const source = format === "Parquet" ? "base64Decode({d:String})" : "{d:String}";
  url.searchParams.set("query", `SELECT app_id, message_id, event FROM format(${format}, ${source}) ORDER BY message_id FORMAT JSONEachRow`);
  url.searchParams.set("param_d", format === "Parquet" ? btoa(String.fromCharCode(...bytes)) : new TextDecoder().decode(bytes));
  const res = await fetch(url, { method: "POST", headers: chHeaders() });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { app_id: string; message_id: string; event: string });
}

/** A Parquet file's rows as ClickHouse reads them (the file goes as a multipart parameter, beyond a URL's size). */
async function readParquet(bytes: Uint8Array): Promise<Array<Record<string, unknown>>> {
  const url = new URL(env.CLICKHOUSE_DIRECT_URL);
  url.searchParams.set("query", "SELECT * FROM format(Parquet, base64Decode({d:String})) FORMAT JSONEachRow");
  let binary = "";
  for (let i = 0; i < bytes.length; i += 8192) binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
  const form = new FormData();
  form.set("param_d", btoa(binary));
  const res = await fetch(url, { method: "POST", headers: chHeaders(), body: form });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const event = (appId: string, id: string, at: number) => ({ app_id: appId, type: "track", event: "Order Completed", message_id: id, anonymous_id: "anon-1", timestamp: iso(at), received_at: iso(at), properties: '{"total":30}' });

beforeAll(async () => {
  ({ org, app } = await newOrgApp());
  otherApp = (await newOrgApp()).app;
  await chInsert("events", [
    event(app, "m1", PERIOD.start),
    event(app, "m2", PERIOD.start + 30 * 60_000),
    event(app, "m3", PERIOD.end - 1),
    // Outside the hour, and another app's event inside it: neither is exported.
    event(app, "before", PERIOD.start - 1),
    event(app, "after", PERIOD.end),
    event(otherApp, "other", PERIOD.start + 60_000),
  ]);
});

describe("scheduled exports", () => {
  it("the hourly cron writes the last whole hour's raw events as CSV and Parquet to the app's bucket, read back by ClickHouse with exactly its rows", async () => {
    const made: ExportSchedule[] = [];
    for (const format of ["csv", "parquet"] as const) {
      const created = await call<{ export: ExportSchedule }>("POST", `/apps/${app}/exports`, { name: `Hourly ${format}`, format, frequency: "hourly" });
      expect(created.status).toBe(201);
      expect(created.body.export).toMatchObject({ appId: app, source: { kind: "events" }, destination: { kind: "r2" }, enabled: true, createdBy: "admin" });
      made.push(created.body.export);
    }
    await cron(NOW);

    const label = iso(PERIOD.start).slice(0, 13);
    for (const schedule of made) {
      const key = `exports/${app}/${schedule.id}/${label}.${schedule.format}`;
      const object = await env.ARCHIVE.get(key);
      expect(object, key).not.toBeNull();
      const bytes = new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0));
      const rows = await readBack(schedule.format === "csv" ? "CSVWithNames" : "Parquet", bytes);
      expect(rows).toEqual(["m1", "m2", "m3"].map((id) => ({ app_id: app, message_id: id, event: "Order Completed" })));

      const log = await call<{ runs: ExportRun[] }>("GET", `/apps/${app}/exports/${schedule.id}/runs`);
      expect(log.body.runs).toEqual([expect.objectContaining({ periodStart: PERIOD.start, periodEnd: PERIOD.end, status: "ok", attempts: 1, rows: 3, bytes: bytes.length, objectKey: key, error: null })]);
    }
    // Turned off, a schedule is left alone by later cron runs.
    for (const schedule of made) expect((await call<{ export: ExportSchedule }>("PATCH", `/apps/${app}/exports/${schedule.id}`, { enabled: false })).body.export.enabled).toBe(false);
    await cron(NOW + HOUR);
    expect((await call<{ runs: ExportRun[] }>("GET", `/apps/${app}/exports/${made[0]?.id}/runs`)).body.runs).toHaveLength(1);

    // "Run now" writes a chosen hour again.
    const again = await call<{ run: ExportRun }>("POST", `/apps/${app}/exports/${made[0]?.id}/run`, { periodStart: iso(PERIOD.start) });
    expect(again.body.run).toMatchObject({ status: "ok", rows: 3, attempts: 1 });
  });

  it("a stream bigger than a part goes to R2 in parts of one size and reads back whole", async () => {
    const total = MIN_PART_BYTES * 2 + 1234;
    let sent = 0;
    const chunk = new Uint8Array(300_000).map((_, i) => i % 251);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const n = Math.min(chunk.length, total - sent);
        if (n === 0) return controller.close();
        controller.enqueue(chunk.slice(0, n));
        sent += n;
      },
    });
    const written = await uploadStream(r2Store(env.ARCHIVE), `exports/${app}/big.bin`, stream, { contentType: "application/octet-stream" });
    expect(written).toEqual({ bytes: total, parts: 3 });
    const object = await env.ARCHIVE.get(`exports/${app}/big.bin`);
    const back = new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(back.length).toBe(total);
    expect(back[MIN_PART_BYTES + 7]).toBe((MIN_PART_BYTES + 7) % 300_000 % 251);
  });

  it("a destination that refuses is retried at later cron runs and, after the last attempt, fails and alerts the organisation's webhook endpoint", async () => {
    const endpoint = await createEndpoint(env.DB, org, { url: `${env.WEBHOOK_RECEIVER_URL}/hooks/export-${org}`, description: "", format: "standard" }, { localMode: true });
    if (!endpoint.ok) throw new Error(endpoint.reason);
    // The receiver answers 404 to anything but POST /hooks/<name>: an S3 service refusing every PUT.
    const destination = { kind: "s3", endpoint: `${env.WEBHOOK_RECEIVER_URL}/nothing`, bucket: "exports-bucket", region: "eu-west-1", accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG" };
    const created = await call<{ export: ExportSchedule }>("POST", `/apps/${app}/exports`, { name: "Daily to S3", format: "csv", frequency: "daily", destination });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain("wJalrXUtnFEMI");
    const id = created.body.export.id;
    const runs = async () => (await call<{ runs: ExportRun[] }>("GET", `/apps/${app}/exports/${id}/runs`)).body.runs;

    await cron(NOW);
    expect(await runs()).toEqual([expect.objectContaining({ status: "retrying", attempts: 1, error: expect.stringContaining("HTTP 404") })]);
    // Not due yet an hour early, due at the following hourly runs.
    await cron(NOW + 0.5 * HOUR);
    expect((await runs())[0]?.attempts).toBe(1);
    for (const [hours, attempts] of [[1, 2], [3, 3]] as const) {
      await cron(NOW + hours * HOUR);
      expect((await runs())[0]).toMatchObject({ status: "retrying", attempts });
    }
    await cron(NOW + 7 * HOUR);
    const [failed] = await runs();
    expect(failed).toMatchObject({ status: "failed", attempts: 4, nextAttemptAt: null });

    let got: Received[] = [];
    for (let i = 0; i < 100 && got.length === 0; i++) {
      got = await (await fetch(`${env.WEBHOOK_RECEIVER_URL}/received/export-${org}`)).json<Received[]>();
      if (got.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(got).toHaveLength(1);
    expect(got[0]?.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(JSON.parse(got[0]?.body ?? "{}")).toMatchObject({ type: "export.failed", app: { id: app }, export: { id, name: "Daily to S3", format: "csv", frequency: "daily" }, run: { id: failed?.id, attempts: 4, error: expect.stringContaining("HTTP 404") } });
    // A failed period stays failed: later cron runs do not try it again.
    await cron(NOW + 8 * HOUR);
    expect((await runs())[0]).toMatchObject({ status: "failed", attempts: 4 });
    await call("DELETE", `/apps/${app}/exports/${id}`);
  });

  it("keeps an API client to its organisation's apps and the data:export scope, and refuses bad input", async () => {
    const token = async (scopes: string[]) => {
      const made = await createClient(env.DB, org, { name: `exports ${scopes.join(" ")}`, scopes, appIds: null }, scopes, "ana@example.com");
      if (!made.ok) throw new Error(made.reason);
      return (await issueToken(env.DB, config(env).oauthKeySecret, made.client, scopes)).access_token;
    };
    const exporter = await token(["data:export"]);
    const reader = await token(["data:read"]);
    const ok = await call<{ export: ExportSchedule }>("POST", `/apps/${app}/exports`, { name: "Daily", format: "parquet", frequency: "daily" }, exporter);
    expect(ok.status).toBe(201);
    expect(ok.body.export.createdBy).toMatch(/^client:/);
    expect((await call("GET", `/apps/${app}/exports`, undefined, reader)).status).toBe(403);
    // Another organisation's app and its schedules are not there for this client.
    expect((await call("GET", `/apps/${otherApp}/exports`, undefined, exporter)).status).toBe(404);
    expect((await call("GET", `/apps/${app}/exports/${ok.body.export.id}`, undefined, exporter)).status).toBe(200);
    expect((await call("GET", `/apps/${otherApp}/exports/${ok.body.export.id}`)).status).toBe(404);

    for (const bad of [
      { name: "x", format: "xlsx", frequency: "daily" },
      { name: "x", format: "csv", frequency: "weekly" },
      { name: "x", format: "csv", frequency: "daily", destination: { kind: "s3", endpoint: "http://169.254.169.254", bucket: "b-1", accessKeyId: "a", secretAccessKey: "s" } },
      { name: "", format: "csv", frequency: "daily" },
    ]) {
      const res = await call<{ error: { code: string; message: string } }>("POST", `/apps/${app}/exports`, bad, exporter);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe("invalid_body");
    }
    const early = await call<{ error: { message: string } }>("POST", `/apps/${app}/exports/${ok.body.export.id}/run`, { periodStart: "2026-11-20T10:00:00Z" }, exporter);
    expect(early.status).toBe(400);
    await call("DELETE", `/apps/${app}/exports/${ok.body.export.id}`, undefined, exporter);
  });

  it("a view and a saved insight are written by the cron as the dashboard's CSV of that hour, every row of a list longer than one read, and as Parquet with the same rows; bad sources are refused", async () => {
    const { org: viewOrg, app: viewApp } = await newOrgApp();
    // More matching events than one read of the list holds (5,000), another event and one outside the hour.
    const many = Array.from({ length: 5_003 }, (_, i) => event(viewApp, `v${String(i).padStart(5, "0")}`, PERIOD.start + (i % 3_600) * 1_000));
    await chInsert("events", [...many, { ...event(viewApp, "signup", PERIOD.start + 5_000), event: "Signed Up" }, event(viewApp, "early", PERIOD.start - 1)]);
    const saved = await createSavedInsight(env.DB, viewOrg, { type: "trends", appId: viewApp, name: "Orders", description: "", query: "event0=Order+Completed&interval=hour&range=30d" }, "ana@example.com");
    if (!saved.ok) throw new Error(saved.reason);
    const otherOrg = await newOrgApp();
    const theirs = await createSavedInsight(env.DB, otherOrg.org, { type: "trends", appId: otherOrg.app, name: "Theirs", description: "", query: "" }, "bo@example.com");
    if (!theirs.ok) throw new Error(theirs.reason);

    for (const source of [
      { kind: "view", view: "nope" },
      { kind: "insight", insightId: theirs.value.id },
      { kind: "insight", insightId: "ins_missing" },
    ]) {
      const res = await call<{ error: { code: string } }>("POST", `/apps/${viewApp}/exports`, { name: "x", source, format: "csv", frequency: "hourly" });
      expect(res.status, JSON.stringify(source)).toBe(400);
    }
    const made: ExportSchedule[] = [];
    for (const format of ["csv", "parquet"]) {
      for (const source of [
        // A pasted URL: its range is the period's.
        { kind: "view", view: "events", query: `https://dash.test/apps/${viewApp}/events?event=Order+Completed&range=30d` },
        { kind: "insight", insightId: saved.value.id },
      ]) {
        const created = await call<{ export: ExportSchedule }>("POST", `/apps/${viewApp}/exports`, { name: source.kind, source, format, frequency: "hourly" });
        expect(created.status).toBe(201);
        made.push(created.body.export);
      }
    }
    expect(made[0]?.source).toEqual({ kind: "view", view: "events", query: "event=Order+Completed&range=30d" });
    await cron(NOW);

    // What the dashboard's download answers for the same app, query and range (the period's, as the last 1h at its end).
    const { range, now } = periodRange("hourly", PERIOD);
    const call0 = { env: { db: env.DB, sessionSecret: "", clickhouse: config(env).clickhouse, development: true, setupToken: null }, orgId: viewOrg, appId: viewApp, now };
    const rowsOf = async (file: CsvFile | CsvRefusal): Promise<{ columns: readonly string[]; rows: CsvRow[] }> => {
      if (isRefusal(file)) throw new Error(file.message);
      return { columns: file.columns, rows: await allRows(file) };
    };
    const sources = [await rowsOf(await CSV_VIEWS.events({ ...call0, url: queryUrl("event=Order+Completed", range) })), await rowsOf(await INSIGHT_CSV.trends({ ...call0, url: queryUrl(saved.value.query, range) }))];
    const expected = sources.map((f) => toCsv(f.columns, f.rows));
    const label = iso(PERIOD.start).slice(0, 13);
    // The Parquet files hold the same rows as the CSV, numbers as numbers, read back by ClickHouse.
    for (const [i, schedule] of made.slice(2).entries()) {
      const object = await env.ARCHIVE.get(`exports/${viewApp}/${schedule.id}/${label}.parquet`);
      const bytes = new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0));
      const columns = sources[i]?.columns ?? [];
      expect(await readParquet(bytes)).toEqual(sources[i]?.rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? ""]))));
      const [run] = (await call<{ runs: ExportRun[] }>("GET", `/apps/${viewApp}/exports/${schedule.id}/runs`)).body.runs;
      expect(run).toMatchObject({ status: "ok", rows: sources[i]?.rows.length, bytes: bytes.byteLength });
      await call("PATCH", `/apps/${viewApp}/exports/${schedule.id}`, { enabled: false });
    }
    expect(sources[1]?.rows.some((r) => typeof r.value === "number")).toBe(true);
    const files: string[] = [];
    for (const [i, schedule] of made.slice(0, 2).entries()) {
      const text = (await (await env.ARCHIVE.get(`exports/${viewApp}/${schedule.id}/${label}.csv`))?.text()) ?? "";
      expect(text).toBe(expected[i]);
      files.push(text);
      const [run] = (await call<{ runs: ExportRun[] }>("GET", `/apps/${viewApp}/exports/${schedule.id}/runs`)).body.runs;
      expect(run).toMatchObject({ status: "ok", rows: text.split("\r\n").length - 2, bytes: new TextEncoder().encode(text).length });
      await call("PATCH", `/apps/${viewApp}/exports/${schedule.id}`, { enabled: false });
    }
    // Every order of the hour, newest first, and nothing else; the trend's hour counts them all.
    const lines = (files[0] ?? "").trimEnd().split("\r\n");
    expect(lines).toHaveLength(5_004);
    expect(lines[0]?.startsWith("timestamp,type,event,message_id")).toBe(true);
    expect(new Set(lines.slice(1).map((l) => l.split(",")[3])).size).toBe(5_003);
    expect(lines.some((l) => l.includes("signup") || l.includes("early"))).toBe(false);
    const trend = (files[1] ?? "").trimEnd().split("\r\n").slice(1).map((l) => Number(l.split(",")[4]));
    expect(trend.reduce((a, b) => a + b, 0)).toBe(5_003);
  });

  it("deleting the app deletes its schedules, their run log and the files they wrote to the platform's bucket", async () => {
    expect((await env.ARCHIVE.list({ prefix: `exports/${app}/` })).objects.length).toBeGreaterThan(0);
    await withDeletionDeps(env, (deps) => deps.purge(app));
    expect((await env.ARCHIVE.list({ prefix: `exports/${app}/` })).objects).toEqual([]);
    expect(await env.DB.prepare("SELECT (SELECT count(*) FROM export_schedules WHERE app_id = ?1) + (SELECT count(*) FROM export_runs WHERE app_id = ?1) AS n").bind(app).first("n")).toBe(0);
  });
});
