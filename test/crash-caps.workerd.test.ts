// A crash loop through the real intake, AppBatcher, queue and consumer into the real local
// ClickHouse: the edge keeps the loop's first crashes of the minute, answers every crash as
// accepted, and counts the rest for their issue, so stored + dropped = sent. Each test has its own app.
import { describe, expect, it, vi } from "vitest";
import { chQuery, createTestApp, post, trackEvent } from "./seed";

// The test project runs with the default cap of 60 crashes per fingerprint a minute.
const ISSUE_CAP = 60;

function crash(error: { type: string; message: string; function: string }, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "crash",
    messageId: crypto.randomUUID(),
    anonymousId: "device-1",
    error: { type: error.type, message: error.message, fatal: true, frames: [{ function: error.function, file: "app.js", line: 12, column: 3, inApp: true }] },
    ...overrides,
  };
}

interface Outcome {
  loopStored: number;
  loopDropped: number;
  otherCrashes: number;
  tracks: number;
  counters: Record<string, number>;
}

async function outcome(appId: string): Promise<Outcome> {
  const p = { app: appId };
  const [events] = await chQuery<{ loop: string; other: string; tracks: string; fp: string }>(
    `SELECT countIf(crash_type = 'LoopError') AS loop, countIf(crash_type = 'OtherError') AS other, countIf(type = 'track') AS tracks,
            anyIf(crash_fingerprint, crash_type = 'LoopError') AS fp
     FROM events WHERE app_id = {app:String}`,
    p,
  );
  const [drops] = await chQuery<{ n: string }>(
    "SELECT sum(dropped) AS n FROM crash_drops_hourly WHERE app_id = {app:String} AND fingerprint = {fp:String} AND reason = 'issue_cap'",
    { ...p, fp: events?.fp ?? "" },
  );
  const counters = await chQuery<{ key: string; n: string }>(
    "SELECT if(reason = '', stage, concat(stage, '/', reason)) AS key, sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} GROUP BY key",
    p,
  );
  return {
    loopStored: Number(events?.loop ?? 0),
    loopDropped: Number(drops?.n ?? 0),
    otherCrashes: Number(events?.other ?? 0),
    tracks: Number(events?.tracks ?? 0),
    counters: Object.fromEntries(counters.map((r) => [r.key, Number(r.n)])),
  };
}

// Polls until `done` holds or the time is up, and returns the last outcome for a readable diff.
async function settle(appId: string, done: (o: Outcome) => boolean): Promise<Outcome> {
  let seen = await outcome(appId);
  await vi
    .waitUntil(
      async () => {
        seen = await outcome(appId);
        return done(seen);
      },
      { timeout: 25_000, interval: 250 },
    )
    .catch(() => undefined);
  return seen;
}

describe("crash caps end to end", () => {
  it("keeps a crash loop to its issue's cap, counts what it dropped on the issue and in the pipeline, and keeps everything else", async () => {
    const app = await createTestApp();
    const auth = { "x-write-key": app.key };
    const loop = Array.from({ length: 300 }, () => crash({ type: "LoopError", message: "boot failed", function: "boot" }));
    const others = Array.from({ length: 5 }, () => crash({ type: "OtherError", message: "save failed", function: "save" }, { anonymousId: "device-2" }));
    const tracks = Array.from({ length: 20 }, () => trackEvent());
    // The loop's crashes arrive with the app's other events in between.
    const batch = [...loop.slice(0, 150), ...others, ...tracks, ...loop.slice(150)];
    const first = await post("/v1/batch", { batch }, auth);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ accepted: batch.length, duplicates: 0, rejected: [] });
    // A client resending the request is answered with duplicates and uses up no budget.
    expect(await (await post("/v1/batch", { batch }, auth)).json()).toMatchObject({ accepted: batch.length, duplicates: batch.length });

    const o = await settle(app.appId, (x) => x.loopStored + x.loopDropped === loop.length && x.counters["capped/issue_cap"] !== undefined && x.counters.inserted === ISSUE_CAP + 25);
    expect(o.loopStored + o.loopDropped).toBe(loop.length);
    expect(o.loopStored).toBe(ISSUE_CAP);
    expect(o.loopDropped).toBe(loop.length - ISSUE_CAP);
    expect(o.otherCrashes).toBe(others.length);
    expect(o.tracks).toBe(tracks.length);
    expect(o.counters).toMatchObject({
      accepted: ISSUE_CAP + 25,
      "capped/issue_cap": loop.length - ISSUE_CAP,
      deduplicated: batch.length,
      flushed: ISSUE_CAP + 25,
      inserted: ISSUE_CAP + 25,
    });
  });

  it("holds the app's whole loop to the cap when its crashes spread over several shards", async () => {
    const app = await createTestApp({ shardCount: 4 });
    // From many devices, so the loop's crashes land on every shard.
    const loop = Array.from({ length: 400 }, (_, i) => crash({ type: "LoopError", message: "boot failed", function: "boot" }, { anonymousId: `device-${i}` }));
    const res = await post("/v1/batch", { batch: loop }, { "x-write-key": app.key });
    expect(await res.json()).toMatchObject({ accepted: loop.length, duplicates: 0 });
    const seen = await settle(app.appId, (x) => x.loopStored + x.loopDropped === loop.length && x.counters["capped/issue_cap"] === x.loopDropped && x.counters.inserted === x.loopStored);
    expect(seen.loopStored + seen.loopDropped).toBe(loop.length);
    expect(seen.loopStored).toBeGreaterThan(0);
    expect(seen.loopStored).toBeLessThanOrEqual(ISSUE_CAP);
    expect(seen.counters["capped/issue_cap"]).toBe(seen.loopDropped);
  });
});
