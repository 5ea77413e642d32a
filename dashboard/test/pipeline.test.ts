// The pipeline health loader and its CSV over the real local ClickHouse: events inserted
// through the production views (inserted, redacted, lag) and counters as the queue consumer
// writes them (accepted, rejected, refused, dead-lettered…), only for the app asked for.
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as pipelineCsv from "../app/routes/apps.$app.pipeline[.csv]";
import * as pipeline from "../app/routes/apps.$app.pipeline";
import { renderPage as renderTo } from "./render";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";

const renderPage = (data: unknown): Promise<string> => renderTo(pipeline.default, "http://127.0.0.1/apps/app_pipe/pipeline", data);

const minute = (minutesAgo: number): number => Math.floor((Date.now() - minutesAgo * 60_000) / 60_000) * 60;

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [
    { id: "app_pipe", name: "Pipe" },
    { id: "app_quiet", name: "Quiet" },
  ]);
  // Six rows that reached ClickHouse about three seconds after the edge received them.
  const received = new Date(Date.now() - 3_000).toISOString();
  await h.insertEvents(
    Array.from({ length: 6 }, (_, i) => ({ app_id: "app_pipe", type: "track", event: "Paid", message_id: `p${i}`, anonymous_id: "a", timestamp: received, received_at: received, redactions: i < 2 ? 2 : 0 })),
  );
  const now = minute(0);
  const tally = (app_id: string, m: number, stage: string, reason: string, n: number) => ({ app_id, minute: m, stage, reason, n });
  const client = createClient({ url: h.clickhouseUrl, ...h.clickhouseWriter });
  await client.insert({
    table: "pipeline_minutely",
    format: "JSONEachRow",
    values: [
      tally("app_pipe", now, "accepted", "", 8),
      tally("app_pipe", now, "deduplicated", "", 2),
      tally("app_pipe", now, "rejected", "invalid_event", 3),
      tally("app_pipe", now, "rejected", "rate_limited", 5),
      tally("app_pipe", now, "refused", "invalid_json", 1),
      tally("app_pipe", now, "flushed", "", 6),
      tally("app_pipe", now, "dead_lettered", "cannot_parse_datetime", 2),
      tally("app_pipe", now, "archive_failed", "r2_error", 3),
      // Events of deleted people, dropped at the edge.
      tally("app_pipe", now, "suppressed", "deleted_user", 2),
      // A crash loop over its issue's cap: the counters name each issue, the pipeline sums them.
      tally("app_pipe", now, "capped", "issue_cap", 4),
      tally("app_pipe", now, "capped", "issue_cap", 5),
      tally("app_pipe", now, "capped", "app_cap", 1),
      // Two hours ago: inside 24h, outside 1h.
      tally("app_pipe", minute(120), "accepted", "", 100),
      tally("app_pipe", minute(120), "flushed", "", 100),
      // Another app's counters never show.
      tally("app_noise", now, "accepted", "", 999),
      tally("app_noise", now, "rejected", "too_deep", 999),
    ],
  });
  await client.close();
}, 120_000);

afterAll(async () => h?.close());

interface Data {
  pipeline: {
    totals: Record<string, number>;
    lag: { p50: number; p95: number; max: number } | null;
    buckets: Array<{ t: number; counts: Record<string, number>; lag: { p50: number } | null }>;
    reasons: Array<{ reason: string; rejected: number; refused: number; deadLettered: number; capped: number }>;
  } | null;
  error: string | null;
  stale: Array<{ shard: number; staleSince: number; oldestAt: number; ageMs: number }>;
  canExport: boolean;
}

async function load(app: string, range = "24h", context = h.context): Promise<Data> {
  const res = await run(() => pipeline.loader({ request: browserRequest(`/apps/${app}/pipeline?range=${range}`, { session }), params: { app }, context }));
  expect(res.status).toBe(200);
  return (await res.json()) as Data;
}

it("totals each stage of the app's pipeline and ranks why events were rejected, refused, capped or dead-lettered", async () => {
  const d = await load("app_pipe");
  expect(d.error).toBeNull();
  expect(d.pipeline?.totals).toEqual({ accepted: 108, deduplicated: 2, capped: 10, rejected: 8, refused: 1, flushed: 106, inserted: 6, redacted: 4, dead_lettered: 2, archive_failed: 3, suppressed: 2 });
  expect(d.pipeline?.reasons).toEqual([
    { reason: "issue_cap", rejected: 0, refused: 0, deadLettered: 0, capped: 9 },
    { reason: "rate_limited", rejected: 5, refused: 0, deadLettered: 0, capped: 0 },
    { reason: "invalid_event", rejected: 3, refused: 0, deadLettered: 0, capped: 0 },
    { reason: "cannot_parse_datetime", rejected: 0, refused: 0, deadLettered: 2, capped: 0 },
    { reason: "app_cap", rejected: 0, refused: 0, deadLettered: 0, capped: 1 },
    { reason: "invalid_json", rejected: 0, refused: 1, deadLettered: 0, capped: 0 },
  ]);
  // Hourly buckets for 24h: the one two hours ago and the current one, whose rows were ~3 s late.
  expect(d.pipeline?.buckets.map((b) => b.counts.accepted)).toEqual([100, 8]);
  expect(d.pipeline?.buckets.every((b) => b.t % 3600 === 0)).toBe(true);
  expect(d.pipeline?.lag?.p50).toBeGreaterThanOrEqual(2_500);
  expect(d.pipeline?.lag?.max).toBeLessThan(60_000);
  expect(d.pipeline?.buckets[1]?.lag?.p50).toBe(d.pipeline?.lag?.p50);
  expect(d.canExport).toBe(true);

  const html = await renderPage(d);
  expect(html).toContain("Pipeline health");
  expect(html).toMatch(/Rejected events.*?>8</s);
  // Dead letters R2 could not yet take are waiting in their queue: the page says how often that failed.
  expect(html).toMatch(/Archive failures.*?>3</s);
  expect(html).toMatch(/Crashes capped.*?>10</s);
  expect(html).toContain("a crash loop");
  expect(html).toContain("invalid_json");
  expect(html).toContain("body is not JSON");
  expect(html).toContain("/apps/app_pipe/pipeline.csv?range=24h");
  // Viewers may read the page but not export it: no link they could not follow.
  expect(await renderPage({ ...d, canExport: false })).not.toContain("pipeline.csv");
});

it("narrows to the range in the URL, by the minute for the last hour", async () => {
  const d = await load("app_pipe", "1h");
  expect(d.pipeline?.totals.accepted).toBe(8);
  expect(d.pipeline?.buckets).toHaveLength(1);
  expect((d.pipeline?.buckets[0]?.t ?? 1) % 60).toBe(0);
});

it("shows an app without traffic as an empty pipeline, not an error", async () => {
  const d = await load("app_quiet");
  expect(d.error).toBeNull();
  expect(d.pipeline?.buckets).toEqual([]);
  expect(d.pipeline?.lag).toBeNull();
  expect(d.pipeline?.reasons).toEqual([]);
  expect(Object.values(d.pipeline?.totals ?? { x: 1 }).every((n) => n === 0)).toBe(true);
  expect(await renderPage(d)).toContain("Nothing went through the pipeline in the last 24h");
});

it("exports the per-bucket table as CSV", async () => {
  const res = await run(() => pipelineCsv.loader({ request: browserRequest("/apps/app_pipe/pipeline.csv?range=24h", { session }), params: { app: "app_pipe" }, context: h.context }));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/csv");
  expect(res.headers.get("content-disposition")).toContain("app_pipe-pipeline-24h.csv");
  const [header, older, current, end] = (await res.text()).split("\r\n");
  expect(header).toBe("bucket_start_utc,accepted,deduplicated,capped,rejected,refused,flushed,inserted,redacted,dead_lettered,archive_failed,suppressed,lag_p50_ms,lag_p95_ms,lag_max_ms");
  // Nothing was inserted two hours ago, so that row has no lag.
  expect(older).toMatch(/^\d{4}-\d\d-\d\d \d\d:00:00,100,0,0,0,0,100,0,0,0,0,0,,,$/);
  expect(current).toMatch(/^\d{4}-\d\d-\d\d \d\d:00:00,8,2,10,8,1,6,6,4,2,3,2,\d+,\d+,\d+$/);
  expect(end).toBe("");
});

it("exports the rejected-by-reason table as CSV", async () => {
  const res = await run(() =>
    pipelineCsv.loader({ request: browserRequest("/apps/app_pipe/pipeline.csv?range=24h&table=reasons", { session }), params: { app: "app_pipe" }, context: h.context }),
  );
  expect(res.headers.get("content-disposition")).toContain("app_pipe-pipeline-reasons-24h.csv");
  const lines = (await res.text()).trim().split("\r\n");
  expect(lines[0]).toBe("reason,events_rejected,requests_refused,events_dead_lettered,crashes_capped");
  const d = await load("app_pipe", "24h");
  expect(lines.slice(1)).toEqual(d.pipeline?.reasons.map((r) => `${r.reason},${r.rejected},${r.refused},${r.deadLettered},${r.capped}`));
  expect(lines.length).toBeGreaterThan(1);
});

it("reports an unreachable ClickHouse in the page and a 503 for the CSV", async () => {
  const env = { ...h.env, CLICKHOUSE_URL: "http://127.0.0.1:9" };
  const d = await load("app_pipe", "24h", { cloudflare: { env } });
  expect(d.pipeline).toBeNull();
  expect(d.error).toMatch(/did not answer/);
  expect(await renderPage(d)).toContain("Could not load the pipeline counters");
  const csv = await run(() => pipelineCsv.loader({ request: browserRequest("/apps/app_pipe/pipeline.csv", { session }), params: { app: "app_pipe" }, context: { cloudflare: { env } } }));
  expect(csv.status).toBe(503);
});

it("warns when one of the app's shards holds events older than the staleness threshold, and only for that app", async () => {
  const oldest = Date.now() - 12 * 60_000;
  await h.db
    .prepare("INSERT INTO shard_health (app_id, shard, stale_since, oldest_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)")
    .bind("app_pipe", 3, oldest + 5 * 60_000, oldest, "app_noise", 0, oldest, oldest)
    .run();
  try {
    const d = await load("app_pipe");
    expect(d.stale).toEqual([{ shard: 3, staleSince: oldest + 5 * 60_000, oldestAt: oldest, ageMs: expect.any(Number) }]);
    const html = await renderPage(d);
    expect(html).toMatch(/role="alert"[^>]*>.*Events are waiting.*shard 3.*oldest buffered event is 12 min old/s);
    // The app without a stale shard shows no warning, whatever other apps hold.
    const quiet = await load("app_quiet");
    expect(quiet.stale).toEqual([]);
    expect(await renderPage(quiet)).not.toContain("Events are waiting");
  } finally {
    await h.db.prepare("DELETE FROM shard_health WHERE app_id IN ('app_pipe', 'app_noise')").run();
  }
});
