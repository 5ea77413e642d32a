// The events explorer, event detail and CSV export over fixture events in the real local
// ClickHouse: filters narrow, pages follow each other without gaps, the live tail sees only
// newer rows, and another app's events never show up.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { EventRow } from "../app/queries/events.server";
import * as detail from "../app/routes/apps.$app.events.$event";
import * as explorer from "../app/routes/apps.$app.events._index";
import * as csv from "../app/routes/apps.$app.events[.csv]";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";

const at = (minutesAgo: number): string => new Date(Date.now() - minutesAgo * 60_000).toISOString();

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [{ id: "app_shop", name: "Shop" }]);
  const rows: Array<Record<string, string | number>> = [];
  for (let i = 0; i < 120; i++) {
    rows.push({
      app_id: "app_shop",
      message_id: `m${String(i).padStart(3, "0")}`,
      type: i % 4 === 0 ? "page" : "track",
      event: i % 4 === 0 ? "" : i % 2 ? "Clicked" : "Signed Up",
      user_id: i % 10 === 0 ? "user-7" : "",
      anonymous_id: `a${i % 5}`,
      // Pairs share a timestamp, so pages must break ties on the message id.
      timestamp: at(Math.floor(i / 2) * 5 + 1),
      received_at: at(1),
      platform: "web",
      country: "DE",
      path: i % 4 === 0 ? "/pricing" : "",
      properties: JSON.stringify({ plan: i % 3 === 0 ? "pro" : "free", note: i === 3 ? '=cmd|"/c calc"!A1, "quoted"\nnext' : "" }),
    });
  }
  // Another app, one message id shared with app_shop's events.
  rows.push({ app_id: "app_noise", type: "track", event: "Clicked", message_id: "m001", anonymous_id: "a1", timestamp: at(2), received_at: at(2), properties: '{"plan":"pro"}' });
  rows.push({ app_id: "app_noise", type: "track", event: "Clicked", message_id: "secret", anonymous_id: "a1", timestamp: at(2), received_at: at(2) });
  await h.insertEvents(rows);
}, 120_000);

afterAll(async () => h?.close());

type Row = EventRow;
interface Data {
  page: { rows: Row[]; next: string | null } | null;
  error: string | null;
}

async function list(query: string, context = h.context): Promise<Data> {
  const res = await run(() => explorer.loader({ request: browserRequest(`/apps/app_shop/events?${query}`, { session }), params: { app: "app_shop" }, context }));
  expect(res.status).toBe(200);
  return (await res.json()) as Data;
}

it("pages through every event of the app newest first, without gaps or repeats", async () => {
  const seen: Row[] = [];
  let query = "range=24h";
  for (let pages = 0; pages < 10; pages++) {
    const d = await list(query);
    expect(d.error).toBeNull();
    seen.push(...(d.page?.rows ?? []));
    if (!d.page?.next) break;
    expect(d.page.rows).toHaveLength(50);
    query = `range=24h&before=${encodeURIComponent(d.page.next)}`;
  }
  expect(seen).toHaveLength(120);
  expect(new Set(seen.map((r) => r.messageId)).size).toBe(120);
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [seen[i - 1], seen[i]];
    expect(a && b && (a.ts > b.ts || (a.ts === b.ts && a.messageId > b.messageId))).toBe(true);
  }
  expect(seen.some((r) => r.messageId === "secret")).toBe(false);
});

it("narrows by type, event, user or anonymous id, property and range", async () => {
  const ids = async (q: string): Promise<string[]> => {
    const out: string[] = [];
    let next: string | null = "";
    while (next !== null) {
      const d: Data = await list(`range=24h&${q}${next ? `&before=${encodeURIComponent(next)}` : ""}`);
      out.push(...(d.page?.rows ?? []).map((r) => r.messageId));
      next = d.page?.next ?? null;
    }
    return out;
  };
  expect(await ids("type=page")).toHaveLength(30);
  expect(await ids("event=Clicked")).toHaveLength(60);
  expect(await ids("type=track&event=Signed%20Up")).toHaveLength(30);
  expect(await ids("user=user-7")).toHaveLength(12);
  expect(await ids("user=a2")).toHaveLength(24);
  expect(await ids("prop=plan:pro")).toHaveLength(40);
  expect(await ids("prop=plan:pro&event=Clicked")).toHaveLength(20);
  // A property value with quotes and a colon stays a value, not SQL.
  expect(await ids(`prop=${encodeURIComponent("plan:pro' OR 1=1 --")}`)).toEqual([]);
  expect(await ids("event=Nothing")).toEqual([]);
  expect((await list("range=1h")).page?.rows).toHaveLength(24);
});

it("live tail returns only events newer than the cursor", async () => {
  const d = await list("range=24h&before=&after=" + encodeURIComponent(`${Date.now() - 12 * 60_000}_`));
  expect(d.page?.rows.map((r) => r.messageId)).toEqual(["m001", "m000", "m003", "m002", "m005", "m004"]);
});

it("shows the event detail with every column, and 404 for another app's or an unknown id", async () => {
  const get = (id: string) => run(() => detail.loader({ request: browserRequest(`/apps/app_shop/events/${id}`, { session }), params: { app: "app_shop", event: id }, context: h.context }));
  const ok = await get("m010");
  expect(ok.status).toBe(200);
  const d = (await ok.json()) as { event: Record<string, string | number> };
  expect(d.event).toMatchObject({ app_id: "app_shop", message_id: "m010", user_id: "user-7", country: "DE", path: "" });
  expect(JSON.parse(String(d.event.properties))).toMatchObject({ plan: "free" });
  expect((await get("secret")).status).toBe(404);
  expect((await get("nope")).status).toBe(404);
});

it("exports the filtered events as an escaped CSV attachment", async () => {
  const res = await run(() => csv.loader({ request: browserRequest("/apps/app_shop/events.csv?range=24h&prop=plan:pro", { session }), params: { app: "app_shop" }, context: h.context }));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
  expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="app_shop-events-24h.csv"/);
  const text = await res.text();
  expect(text.startsWith("timestamp,type,event,message_id,user_id,anonymous_id,session_id,platform,country,path,properties\r\n")).toBe(true);
  // 40 rows and a header; m003's note holds a newline inside a quoted cell.
  expect(text.match(/\r\n/g)).toHaveLength(41);
  expect(text).toContain('""note"":""=cmd|\\""/c calc\\""!A1, \\""quoted\\""\\nnext""');
  expect(text).not.toContain("secret");
});

it("reports an unreachable ClickHouse in the page instead of failing it", async () => {
  const env = { ...h.env, CLICKHOUSE_URL: "http://127.0.0.1:9" };
  const d = await list("range=24h", { cloudflare: { env } });
  expect(d.page).toBeNull();
  expect(d.error).toMatch(/did not answer/);
});
