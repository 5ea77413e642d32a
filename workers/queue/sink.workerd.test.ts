// The sink's handling of capped crashes: a tally message's crash drops land in
// crash_drops_hourly and its counters in pipeline_minutely, each exactly once, however often
// the message is delivered and whichever of the two inserts failed. Real local ClickHouse.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { encodeEventRow, encodeSinkMessage, encodeTallyMessage, EVENT_COLUMNS, messageIdOfRow, rowsWithBatchId, sinkMessageHead, tallyMinute, type Tally } from "../../schemas";
import { deliver } from "../../test/queue-delivery";
import { blankRow, chQuery, createTestApp } from "../../test/seed";
import { frameMessage, packText, readFrame, unpackText } from "./packed";
import { handleSinkBatch } from "./sink";

const QUEUE = "telemetry-events";

// `reason/fingerprint` → crashes dropped, over all hours.
async function dropsOf(appId: string): Promise<Record<string, number>> {
  const rows = await chQuery<{ key: string; n: string }>(
    "SELECT concat(reason, '/', fingerprint) AS key, sum(dropped) AS n FROM crash_drops_hourly WHERE app_id = {app:String} GROUP BY key",
    { app: appId },
  );
  return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
}

// `stage/reason` → pipeline counter, over all minutes.
async function countersOf(appId: string): Promise<Record<string, number>> {
  const rows = await chQuery<{ key: string; n: string }>(
    "SELECT concat(stage, '/', reason) AS key, sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} GROUP BY key",
    { app: appId },
  );
  return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
}

// Every insert into `table` fails as a lost connection would, until mocks are restored.
function failInsertsInto(table: string): void {
  const original = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const query = new URL(input instanceof Request ? input.url : String(input)).searchParams.get("query") ?? "";
    if (query.startsWith("INSERT INTO") && query.includes(table)) throw new TypeError("Network connection lost.");
    return original(input, init);
  });
}

// A tally message from shard 0 with 40 crashes of one issue capped by its own cap and 3 of another by the app's.
function capped(appId: string, batch: string): { text: string; tallies: Tally[] } {
  const minute = tallyMinute(Date.now());
  const tallies: Tally[] = [
    { minute, stage: "accepted", reason: "", n: 120 },
    { minute, stage: "capped", reason: "issue_cap", n: 40, fingerprint: "00a3f1c2d4e5b6" },
    { minute, stage: "capped", reason: "app_cap", n: 3, fingerprint: "11b4e2d3c5f6a7" },
  ];
  return { text: encodeTallyMessage(`${appId}:0:${batch}`, appId, tallies), tallies };
}

afterEach(() => {
  vi.restoreAllMocks();
});

// Only the inserts that carry `appId`'s rows: a queue delivery left from an earlier test may
// still be writing other apps' rows through the same fetch.
// Event rows go packed, counters as text.
const carries = (init: RequestInit | undefined, appId: string): boolean =>
  (typeof init?.body === "string" ? init.body : init?.body instanceof Uint8Array ? unpackText(init.body) : "").includes(appId);

// The settings of every INSERT of `appId`'s rows the consumer sends, by table, while watched.
function watchInserts(appId: string): Array<{ table: string; settings: URLSearchParams }> {
  const seen: Array<{ table: string; settings: URLSearchParams }> = [];
  const original = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const table = /^INSERT INTO (\S+)/.exec(url.searchParams.get("query") ?? "")?.[1];
    if (table && carries(init, appId)) seen.push({ table, settings: url.searchParams });
    return original(input, init);
  });
  return seen;
}

// `appId`'s inserts into `table` reach ClickHouse, but the first `times` answers are lost on the way back.
function loseAnswersOf(table: string, appId: string, times: number): void {
  const original = globalThis.fetch;
  let lost = 0;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const query = new URL(input instanceof Request ? input.url : String(input)).searchParams.get("query") ?? "";
    const res = await original(input, init);
    if (query.startsWith("INSERT INTO") && query.includes(table) && carries(init, appId) && lost < times) {
      lost++;
      throw new TypeError("Network connection lost.");
    }
    return res;
  });
}

function eventMessage(appId: string, batch: string, n: number): string {
  const at = new Date().toISOString().replace("T", " ").slice(0, 23);
  const rows = Array.from({ length: n }, (_, i) => encodeEventRow(blankRow(appId, `${batch}-${i}`, at)));
  return encodeSinkMessage(`${appId}:0:${batch}`, appId, rows);
}

async function storedEvents(appId: string): Promise<number> {
  const [row] = await chQuery<{ n: string }>("SELECT count() AS n FROM events WHERE app_id = {app:String}", { app: appId });
  return Number(row?.n);
}

describe("inserts gathered by ClickHouse across deliveries", () => {
  it("asks ClickHouse to gather each insert with other consumers' and to answer once it is written, under its deduplication token", async () => {
    const app = await createTestApp();
    const seen = watchInserts(app.appId);
    const outcome = await deliver(handleSinkBatch, QUEUE, [eventMessage(app.appId, "a1", 3), capped(app.appId, "t1").text]);
    expect(outcome.acked).toHaveLength(2);
    expect(seen.map((s) => s.table).sort()).toEqual(["crash_drops_hourly", "events", "pipeline_minutely"]);
    for (const { settings } of seen) {
      expect(settings.get("async_insert")).toBe("1");
      // Acknowledged only once the rows are in a part: a message is never acked for rows still in a buffer.
      expect(settings.get("wait_for_async_insert")).toBe("1");
      expect(settings.get("async_insert_deduplicate")).toBe("1");
      expect(settings.get("insert_deduplication_token")).toBeTruthy();
    }
  });

  it("stores a delivery once when an insert's answer was lost and the insert was sent again, and once more when the queue delivers it again", async () => {
    const app = await createTestApp();
    const text = eventMessage(app.appId, "a1", 5);
    loseAnswersOf("events", app.appId, 1);
    expect((await deliver(handleSinkBatch, QUEUE, [text, eventMessage(app.appId, "a2", 2)])).acked).toHaveLength(2);
    vi.restoreAllMocks();
    expect(await storedEvents(app.appId)).toBe(7);
    // Its ack lost too: delivered again alone, then regrouped beside a new message.
    expect((await deliver(handleSinkBatch, QUEUE, [text], { attempts: 2 })).acked).toHaveLength(1);
    expect((await deliver(handleSinkBatch, QUEUE, [text, eventMessage(app.appId, "a3", 1)], { attempts: 3 })).acked).toHaveLength(2);
    expect(await storedEvents(app.appId)).toBe(8);
    expect(await countersOf(app.appId)).toMatchObject({ "inserted/": 8 });
  });
});

describe("what a delivery tells operators", () => {
  // The `sink.batch` lines logged while `fn` runs, parsed.
  async function batchLines(fn: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
    const lines: unknown[] = [];
    for (const level of ["log", "warn"] as const) vi.spyOn(console, level).mockImplementation((line: unknown) => void lines.push(line));
    await fn();
    vi.restoreAllMocks();
    return lines.map((l) => JSON.parse(String(l)) as Record<string, unknown>).filter((l) => l.event === "sink.batch");
  }

  it("logs one line per delivery with its app and counts, and writes the rows it stored to Analytics Engine (a recording dataset: Miniflare's drops its points)", async () => {
    const app = await createTestApp();
    const points: AnalyticsEngineDataPoint[] = [];
    const metrics = { ...env, PIPELINE_METRICS: { writeDataPoint: (p?: AnalyticsEngineDataPoint) => void (p && points.push(p)) } };
    const text = eventMessage(app.appId, "o1", 4);
    const [first] = await batchLines(() => deliver(handleSinkBatch, QUEUE, [text, eventMessage(app.appId, "o2", 2), capped(app.appId, "t1").text], { env: metrics }));
    expect(first).toMatchObject({ level: "info", queue: QUEUE, messages: 3, apps: [app.appId], stored: 6, duplicates: 0, dead_lettered: 0, retried: 0, counters: 3 });
    expect(typeof first?.insert_ms === "number" && typeof first.ms === "number").toBe(true);
    expect(points).toEqual([{ blobs: ["inserted", "", app.appId], doubles: [6], indexes: [app.appId] }]);
    // Delivered again: nothing stored twice, nothing charted twice.
    const [again] = await batchLines(() => deliver(handleSinkBatch, QUEUE, [text], { env: metrics, attempts: 2 }));
    expect(again).toMatchObject({ messages: 1, stored: 0, duplicates: 4 });
    expect(points).toHaveLength(1);
  });

  it("stores event messages packed as the batchers send them beside text ones, and dead-letters bytes that are no message", async () => {
    const app = await createTestApp();
    const packed = packText(eventMessage(app.appId, "p1", 3));
    const [line] = await batchLines(() => deliver(handleSinkBatch, QUEUE, [packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.byteLength), eventMessage(app.appId, "p2", 2), new TextEncoder().encode("not gzip").buffer]));
    expect(line).toMatchObject({ apps: [app.appId], stored: 5, dead_lettered: 1, retried: 0 });
    expect(await storedEvents(app.appId)).toBe(5);
  });

  it("warns with the reason when ClickHouse is unavailable and the delivery goes back to the queue", async () => {
    const app = await createTestApp();
    failInsertsInto("events");
    const [line] = await batchLines(() => deliver(handleSinkBatch, QUEUE, [eventMessage(app.appId, "u1", 2)]));
    expect(line).toMatchObject({ level: "warn", apps: [app.appId], stored: 0, retried: 1, error: expect.stringContaining("Network connection lost") });
  });
});

describe("crash drops in the sink", () => {
  it("counts a tally message's capped crashes once per issue and hour, however often it is delivered", async () => {
    const app = await createTestApp();
    const { text } = capped(app.appId, "t1");
    expect((await deliver(handleSinkBatch, QUEUE, [text])).acked).toHaveLength(1);
    // Delivered again, alone and beside a new message (a regrouped delivery has another token).
    expect((await deliver(handleSinkBatch, QUEUE, [text], { attempts: 2 })).acked).toHaveLength(1);
    expect((await deliver(handleSinkBatch, QUEUE, [text, capped(app.appId, "t2").text], { attempts: 3 })).acked).toHaveLength(2);
    expect(await dropsOf(app.appId)).toEqual({ "issue_cap/00a3f1c2d4e5b6": 80, "app_cap/11b4e2d3c5f6a7": 6 });
    expect(await countersOf(app.appId)).toEqual({ "accepted/": 240, "capped/issue_cap": 80, "capped/app_cap": 6 });
    const [hour] = await chQuery<{ ok: number }>("SELECT min(hour = toStartOfHour(now())) AS ok FROM crash_drops_hourly WHERE app_id = {app:String}", { app: app.appId });
    expect(Number(hour?.ok)).toBe(1);
  });

  it("writes only the counters on redelivery when the drops were stored and the counters' insert failed", async () => {
    const app = await createTestApp();
    const { text } = capped(app.appId, "t1");
    failInsertsInto("pipeline_minutely");
    expect(await deliver(handleSinkBatch, QUEUE, [text])).toMatchObject({ acked: [], retried: [expect.anything()] });
    vi.restoreAllMocks();
    expect(await countersOf(app.appId)).toEqual({});
    // Redelivered beside another message: the insert's deduplication token is not the first one's.
    const other = encodeTallyMessage(`${app.appId}:1:t1`, app.appId, [{ minute: tallyMinute(Date.now()), stage: "capped", reason: "issue_cap", n: 1, fingerprint: "22c5f3e4d6a7b8" }]);
    expect((await deliver(handleSinkBatch, QUEUE, [text, other], { attempts: 2 })).acked).toHaveLength(2);
    expect(await dropsOf(app.appId)).toEqual({ "issue_cap/00a3f1c2d4e5b6": 40, "app_cap/11b4e2d3c5f6a7": 3, "issue_cap/22c5f3e4d6a7b8": 1 });
    expect(await countersOf(app.appId)).toEqual({ "accepted/": 120, "capped/issue_cap": 41, "capped/app_cap": 3 });
  });

  it("stores nothing while the drops cannot be written, and both once the redelivery goes through", async () => {
    const app = await createTestApp();
    const { text } = capped(app.appId, "t1");
    failInsertsInto("crash_drops_hourly");
    expect(await deliver(handleSinkBatch, QUEUE, [text])).toMatchObject({ acked: [], retried: [expect.anything()] });
    vi.restoreAllMocks();
    expect(await dropsOf(app.appId)).toEqual({});
    expect(await countersOf(app.appId)).toEqual({});
    expect((await deliver(handleSinkBatch, QUEUE, [text], { attempts: 2 })).acked).toHaveLength(1);
    expect(await dropsOf(app.appId)).toEqual({ "issue_cap/00a3f1c2d4e5b6": 40, "app_cap/11b4e2d3c5f6a7": 3 });
    expect(await countersOf(app.appId)).toEqual({ "accepted/": 120, "capped/issue_cap": 40, "capped/app_cap": 3 });
  });
});

describe("rows queued before an upgrade", () => {
  it("stores rows in the encoding before row_format by column name, beside current rows, with nothing dead-lettered", async () => {
    const app = await createTestApp();
    const at = new Date().toISOString().replace("T", " ").slice(0, 23);
    const current = blankRow(app.appId, "m-current", at);
    // The value list an AppBatcher buffered before the upgrade: no row_format, no templates or outcome.
    const before = EVENT_COLUMNS.filter((c) => !["row_format", "path_template", "net_template", "net_outcome", "net_request_bytes", "net_response_bytes"].includes(c));
    const old: Record<string, unknown> = { ...current, type: "network", event: "GET", message_id: "m-old", net_method: "GET", net_host: "api.example.com", net_path: "/orders/7", net_status: 503, duration_ms: 12 };
    const oldRow = JSON.stringify(before.map((c) => old[c]));
    const text = encodeSinkMessage(`${app.appId}:0:upgrade`, app.appId, [oldRow, encodeEventRow(current)]);
    const outcome = await deliver(handleSinkBatch, QUEUE, [text]);
    expect(outcome.acked).toHaveLength(1);
    const rows = await chQuery<{ message_id: string; row_format: number; net_path: string; net_template: string }>(
      "SELECT message_id, row_format, net_path, net_template FROM events WHERE app_id = {app:String} ORDER BY message_id",
      { app: app.appId },
    );
    expect(rows).toEqual([
      { message_id: "m-current", row_format: 2, net_path: "", net_template: "" },
      { message_id: "m-old", row_format: 1, net_path: "/orders/7", net_template: "" },
    ]);
    // The network rollup groups the old call by its path and reads its outcome from the status.
    const rolled = await chQuery<{ template: string; outcome: string; n: string }>(
      "SELECT template, toString(outcome) AS outcome, sum(n) AS n FROM network_hourly WHERE app_id = {app:String} GROUP BY template, outcome",
      { app: app.appId },
    );
    expect(rolled).toEqual([{ template: "/orders/7", outcome: "server_error", n: "1" }]);
  });
});

describe("rows a batcher marked for checking (decision record 0021)", () => {
  // A message whose rows are `ids`, the rows at `check` marked.
  function marked(appId: string, batch: string, ids: readonly string[], check: number[]): string {
    const at = new Date().toISOString().replace("T", " ").slice(0, 23);
    return encodeSinkMessage(`${appId}:0:${batch}`, appId, ids.map((id) => encodeEventRow(blankRow(appId, id, at))), { check });
  }

  const idsOf = async (appId: string): Promise<string[]> =>
    (await chQuery<{ message_id: string }>("SELECT message_id FROM events WHERE app_id = {app:String} ORDER BY message_id", { app: appId })).map((r) => r.message_id);

  it("drops a marked row whose id an earlier batch stored, keeps marked rows never stored, and counts what it dropped", async () => {
    const app = await createTestApp();
    expect((await deliver(handleSinkBatch, QUEUE, [marked(app.appId, "b1", ["e-1", "e-2"], [])])).acked).toHaveLength(1);
    // A day later the batcher no longer holds e-1 exactly; its filter said "maybe" for e-1 and e-3.
    const again = marked(app.appId, "b2", ["e-1", "e-3", "e-4"], [0, 1]);
    expect((await deliver(handleSinkBatch, QUEUE, [again])).acked).toHaveLength(1);
    expect(await idsOf(app.appId)).toEqual(["e-1", "e-2", "e-3", "e-4"]);
    expect(await countersOf(app.appId)).toMatchObject({ "inserted/": 4, "deduplicated/stored_before": 1 });
  });

  it("does not take a batch's own rows for earlier copies when its insert is sent again after a lost answer", async () => {
    const app = await createTestApp();
    loseAnswersOf("events", app.appId, 1);
    expect((await deliver(handleSinkBatch, QUEUE, [marked(app.appId, "b1", ["e-1", "e-2"], [0, 1])])).acked).toHaveLength(1);
    vi.restoreAllMocks();
    expect(await idsOf(app.appId)).toEqual(["e-1", "e-2"]);
    expect((await countersOf(app.appId))["deduplicated/stored_before"]).toBeUndefined();
  });
});

describe("messages the batchers frame: a header, then the rows packed as stored (decision record 0034)", () => {
  // A message as an AppBatcher sends it: chunks `[seq, ids]` of shard 0, each row carrying its chunk's batch id.
  function framed(appId: string, chunks: ReadonlyArray<readonly [number, readonly string[]]>, check: number[] = []): Uint8Array {
    const at = new Date().toISOString().replace("T", " ").slice(0, 23);
    const ids = chunks.map(([seq]) => `${appId}:0:${seq}`);
    const members = chunks.map(([seq, rows]) => packText(`\n${rowsWithBatchId(rows.map((id) => encodeEventRow(blankRow(appId, id, at))), `${appId}:0:${seq}`)}`));
    const count = chunks.reduce((n, [, rows]) => n + rows.length, 0);
    return frameMessage(sinkMessageHead(ids[0] ?? "", appId, { check, chunks: ids, count }), members);
  }

  const batchIdsOf = async (appId: string): Promise<Record<string, string>> =>
    Object.fromEntries(
      (await chQuery<{ message_id: string; batch_id: string }>("SELECT message_id, batch_id FROM events WHERE app_id = {app:String}", { app: appId })).map((r) => [r.message_id, r.batch_id]),
    );

  // The bodies of `appId`'s inserts into `events`, as sent; the answers to the first `lose` are lost on the way back.
  function eventBodies(appId: string, lose = 0): Uint8Array[] {
    const bodies: Uint8Array[] = [];
    const original = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const query = new URL(input instanceof Request ? input.url : String(input)).searchParams.get("query") ?? "";
      const ours = query.startsWith("INSERT INTO events") && init?.body instanceof Uint8Array && carries(init, appId);
      if (ours && init.body instanceof Uint8Array) bodies.push(new Uint8Array(init.body));
      const res = await original(input, init);
      if (ours && bodies.length <= lose) throw new TypeError("Network connection lost.");
      return res;
    });
    return bodies;
  }

  it("hands ClickHouse the rows as the batcher packed them, each row with its chunk's batch id, and finds the message stored when it comes again", async () => {
    const app = await createTestApp();
    const body = framed(app.appId, [[5, ["f-1", "f-2", "f-3"]], [6, ["f-4", "f-5"]]]);
    const sent = eventBodies(app.appId);
    expect((await deliver(handleSinkBatch, QUEUE, [body])).acked).toHaveLength(1);
    // Not one byte unpacked or packed again on the way.
    expect(sent).toEqual([new Uint8Array(readFrame(body)?.packed ?? [])]);
    expect(await batchIdsOf(app.appId)).toEqual({
      "f-1": `${app.appId}:0:5`,
      "f-2": `${app.appId}:0:5`,
      "f-3": `${app.appId}:0:5`,
      "f-4": `${app.appId}:0:6`,
      "f-5": `${app.appId}:0:6`,
    });
    // Delivered again, alone and beside a message of the version before: stored once.
    expect((await deliver(handleSinkBatch, QUEUE, [body], { attempts: 2 })).acked).toHaveLength(1);
    expect((await deliver(handleSinkBatch, QUEUE, [body, eventMessage(app.appId, "t1", 2)], { attempts: 3 })).acked).toHaveLength(2);
    expect(await storedEvents(app.appId)).toBe(7);
    expect(await countersOf(app.appId)).toMatchObject({ "inserted/": 7 });
  });

  it("settles marked rows against earlier batches and not against its own chunks, unpacking only a message that loses rows", async () => {
    const app = await createTestApp();
    expect((await deliver(handleSinkBatch, QUEUE, [framed(app.appId, [[1, ["e-1", "e-2"]]])])).acked).toHaveLength(1);
    // e-1 was stored by chunk 1; e-3 never was. The answer to the first insert is lost.
    const again = framed(app.appId, [[2, ["e-1", "e-3"]], [3, ["e-4"]]], [0, 1, 2]);
    const sent = eventBodies(app.appId, 1);
    expect((await deliver(handleSinkBatch, QUEUE, [again])).acked).toHaveLength(1);
    vi.restoreAllMocks();
    expect(await batchIdsOf(app.appId)).toEqual({ "e-1": `${app.appId}:0:1`, "e-2": `${app.appId}:0:1`, "e-3": `${app.appId}:0:2`, "e-4": `${app.appId}:0:3` });
    expect(await countersOf(app.appId)).toMatchObject({ "inserted/": 4, "deduplicated/stored_before": 1 });
    // Sent twice (the first answer lost), both times without the copy of e-1.
    expect(sent).toHaveLength(2);
    for (const b of sent) expect(unpackText(b).split("\n").filter((r) => r.length > 0).map(messageIdOfRow)).toEqual(["e-3", "e-4"]);
  });

  it("dead-letters a framed message whose rows do not unpack, and stores the messages beside it", async () => {
    const app = await createTestApp();
    const good = framed(app.appId, [[1, ["g-1", "g-2"]]]);
    const broken = frameMessage(sinkMessageHead(`${app.appId}:0:2`, app.appId, { chunks: [`${app.appId}:0:2`], count: 3 }), [new TextEncoder().encode("not gzip")]);
    // Rows marked for checking are read before the insert: not unpacking must not hold the delivery up either.
    const brokenMarked = frameMessage(sinkMessageHead(`${app.appId}:0:3`, app.appId, { chunks: [`${app.appId}:0:3`], count: 2, check: [1] }), [new TextEncoder().encode("not gzip")]);
    const outcome = await deliver(handleSinkBatch, QUEUE, [good, broken, brokenMarked]);
    expect(outcome.acked).toHaveLength(3);
    expect(outcome.retried).toHaveLength(0);
    expect(await storedEvents(app.appId)).toBe(2);
    expect(await countersOf(app.appId)).toMatchObject({ "inserted/": 2, "dead_lettered/zlib_inflate_failed": 5 });
  });
});
