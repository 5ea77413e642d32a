// Retention over hand-worked fixture events in the real local ClickHouse: cohorts by first seen
// (ever, not first in the range) and by a first event, returns on any or a chosen event, days in
// UTC and in Tokyo (one person's two events fall on two UTC days but one Tokyo day), weeks, an
// anonymous visitor who signs up the next day counted as one person, filters, and no other app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardEnv } from "../app/env.server";
import { parseRetention, runRetention, toRetentionSearch, type RetentionResult } from "../app/insights/retention.server";
import * as csv from "../app/routes/apps.$app.insights.retention[.csv]";
import * as page from "../app/routes/apps.$app.insights.retention";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";
const DAY = 86_400_000;
const HOUR = 3_600_000;
// D0 is a Monday (UTC) 10 to 16 days ago, so weeks start on D0 and D0 + 7.
const today = Math.floor(Date.now() / DAY) * DAY;
const D0 = today - 10 * DAY - ((new Date(today - 10 * DAY).getUTCDay() + 6) % 7) * DAY;
// The range (7d) ends at D7 12:00 UTC and starts at D0 12:00: its day periods are D0 … D7.
const NOW = D0 + 7 * DAY + 12 * HOUR;
const at = (day: number, hour: number, minute = 0): string => new Date(D0 + day * DAY + hour * HOUR + minute * 60_000).toISOString();
let seq = 0;

function ev(user: string, anon: string, ts: string, fields: Record<string, string | number> = {}): Record<string, string | number> {
  // A session a person and day, as the SDKs start one per visit.
  const session = `${user || anon}-${ts.slice(0, 10)}`;
  return { app_id: "app_ret", message_id: `r${++seq}`, user_id: user, anonymous_id: anon, session_id: session, timestamp: ts, received_at: ts, type: "page", path: "/", platform: "web", ...fields };
}
const signedUp = { type: "track", event: "Signed Up" };
const ordered = { type: "track", event: "Order Completed" };

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [{ id: "app_ret", name: "Retention" }]);
  await h.insertEvents([
    // u1: signs up D0, back D1 and D3 (an order) and D7.
    ev("u1", "", at(0, 10), signedUp),
    ev("u1", "", at(1, 10)),
    ev("u1", "", at(3, 10), ordered),
    ev("u1", "", at(7, 10)),
    // u2: browses anonymously as a2 on D0, identifies and signs up D1, orders D2.
    ev("", "a2", at(0, 11)),
    ev("u2", "a2", at(1, 9), { type: "identify" }),
    ev("u2", "a2", at(1, 9, 5), signedUp),
    ev("u2", "a2", at(2, 9), ordered),
    // u3: signs up D1 and orders the same day, then again D3.
    ev("u3", "", at(1, 8), signedUp),
    ev("u3", "", at(1, 12), ordered),
    ev("u3", "", at(3, 8), ordered),
    // u4: first seen (and signed up) three days before the range; back D0 and D1 (an order).
    ev("u4", "", at(-3, 10), signedUp),
    ev("u4", "", at(0, 10)),
    ev("u4", "", at(1, 10), ordered),
    // u5, on iOS: D0 23:30 and D1 00:30 UTC, both on D1 in Tokyo (08:30 and 09:30).
    ev("u5", "", at(0, 23, 30), { platform: "ios", path: "Home", type: "screen" }),
    ev("u5", "", at(1, 0, 30), { platform: "ios", path: "Home", type: "screen" }),
    // Another app with the same people: never counted.
    ev("u1", "", at(0, 10), { app_id: "app_noise", ...signedUp }),
    ev("u9", "", at(0, 10), { app_id: "app_noise" }),
    ev("u9", "", at(1, 10), { app_id: "app_noise" }),
  ]);
}, 180_000);

afterAll(async () => h?.close());

const cfg = () => dashboardEnv(h.env).clickhouse;
const retention = (query: string): Promise<RetentionResult> => runRetention(cfg(), "app_ret", parseRetention(new URL(`http://x/?${query}`), NOW));
/** The table as `day size: returned…` lines, for the cohorts that have people. */
const table = (r: RetentionResult): string[] => r.cohorts.filter((c) => c.size > 0).map((c) => `${c.day.slice(5)} ${c.size}: ${c.returned.join(" ")}`);
const day = (n: number): string => new Date(D0 + n * DAY).toISOString().slice(5, 10);

describe("retention", () => {
  it("cohorts people by the day they were first seen ever, anonymous visits included, and counts who came back each later day", async () => {
    const r = await retention("range=7d");
    expect(r.firstSeen).toBe("profiles");
    // Eight day periods D0 … D7; u4 was first seen before the range, so no cohort has them.
    // D0: u1, u2 (as a2), u5. Back D1: all three; D2: u2; D3: u1; D7: u1. D1: u3, back D3.
    expect(r.cohorts.map((c) => c.day.slice(5))).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map(day));
    expect(table(r)).toEqual([`${day(0)} 3: 3 1 1 0 0 0 1`, `${day(1)} 1: 0 1 0 0 0 0`]);
    // The curve over the cohorts that reached each period, weighted by size (D2…D6 are empty):
    // day 1: (3 + 0) / (3 + 1); day 2: (1 + 1) / 4; day 3: 1 / 4; days 4–6: 0 / 4; day 7: 1 / 3.
    expect(r.average.map((a) => [a.n, a.returned, a.of])).toEqual([
      [1, 3, 4],
      [2, 2, 4],
      [3, 1, 4],
      [4, 0, 4],
      [5, 0, 4],
      [6, 0, 4],
      [7, 1, 3],
    ]);
    expect(r.average[0]?.rate).toBe(0.75);
  });

  it("counts a session sent in several inserts once, its anonymous start and signed-in end one person", async () => {
    // Each insert leaves its own row of a session-day (and of the identity map) until parts merge.
    const parts = "app_ret_parts";
    const one = (user: string, anon: string, ts: string, id: string): Record<string, string | number> => ({ ...ev(user, anon, ts), app_id: parts, session_id: id });
    for (const row of [one("", "a7", at(1, 10), "s7"), one("u7", "a7", at(1, 10, 30), "s7"), one("u7", "", at(3, 9), "s8"), one("", "a7", at(3, 9, 30), "s8"), one("u8", "", at(1, 11), "s9")]) {
      await h.insertEvents([row]);
    }
    const r = await runRetention(cfg(), parts, parseRetention(new URL("http://x/?range=7d"), NOW));
    // D1: a7 who became u7, and u8; back on D3: u7 (once, as u7 and as a7).
    expect(table(r)).toEqual([`${day(1)} 2: 0 1 0 0 0 0`]);
  });

  it("buckets days in the chosen time zone: in Tokyo, u5's two visits are one day and no return", async () => {
    const r = await retention("range=7d&tz=Asia%2FTokyo");
    // Tokyo is UTC+9: every fixture but u5's stays on its UTC date; u5 moves to D1, with no later day.
    // The range starts D0 21:00 in Tokyo, so its periods are D0 … D7 there too.
    expect(r.cohorts).toHaveLength(8);
    expect(table(r)).toEqual([`${day(0)} 2: 2 1 1 0 0 0 1`, `${day(1)} 2: 0 1 0 0 0 0`]);
  });

  it("cohorts by a first event and counts returns of a chosen event only, a later period than the cohort's", async () => {
    const r = await retention("range=7d&start=Signed+Up&return=Order+Completed");
    expect(r.firstSeen).toBe("events");
    // u4 signed up before the range: no cohort. D0: u1, who orders D3. D1: u2 (orders D2) and
    // u3 (orders D1, the cohort's own day, and D3).
    expect(table(r)).toEqual([`${day(0)} 1: 0 0 1 0 0 0 0`, `${day(1)} 2: 1 1 0 0 0 0`]);
  });

  it("groups weeks from Monday: u4, first seen the week before, comes back the next week", async () => {
    const r = await retention("range=30d&period=week");
    // The 30 days from D0 − 23 d 12:00 to D7 12:00 hold the weeks from D0 − 28 to D0 + 7: six.
    // Week D0 − 7: u4 (first seen D0 − 3), back in week D0. Week D0: u1, u2, u3, u5; u1 back D7.
    expect(r.cohorts.map((c) => c.day.slice(5))).toEqual([-28, -21, -14, -7, 0, 7].map(day));
    expect(table(r)).toEqual([`${day(-7)} 1: 1 0`, `${day(0)} 4: 1`]);
  });

  it("applies filters to the cohort and the returns, first seen then read from the raw events", async () => {
    const r = await retention("range=7d&platform=web");
    expect(r.firstSeen).toBe("events");
    // u5 used iOS only; u4's first web event (D0 − 3) is still found before the range.
    expect(table(r)).toEqual([`${day(0)} 2: 2 1 1 0 0 0 1`, `${day(1)} 1: 0 1 0 0 0 0`]);
    const none = await retention("range=7d&prop=plan:pro");
    expect(table(none)).toEqual([]);
  });

  it("keeps its definition in the URL and names what it ignored", () => {
    const def = parseRetention(new URL("http://x/?range=30d&period=week&start=Signed+Up&return=Order+Completed&tz=Asia%2FTokyo&platform=ios&prop=plan:pro"), NOW);
    expect(def.problems).toEqual([]);
    expect(parseRetention(new URL(`http://x/?${toRetentionSearch(def)}`), NOW)).toEqual(def);
    const bad = parseRetention(new URL("http://x/?range=2y&period=hour&tz=Mars%2FOlympus&prop=novalue"), NOW);
    expect(bad).toMatchObject({ period: "day", tz: "UTC", range: { key: "7d" }, filters: { props: [] } });
    expect(bad.problems).toHaveLength(4);
  });
});

describe("retention page and CSV", () => {
  // The page reads the last 90 days from the real clock: every fixture person is in one cohort.
  it("renders the table for the URL's definition and exports it", async () => {
    const res = await run(() => page.loader({ request: browserRequest("/apps/app_ret/insights/retention?range=90d&period=week", { session }), params: { app: "app_ret" }, context: h.context }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: RetentionResult | null; error: string | null };
    expect(body.error).toBeNull();
    // u1 … u5, each in the cohort of their first week.
    expect(body.result?.cohorts.reduce((n, c) => n + c.size, 0)).toBe(5);
    const out = await run(() => csv.loader({ request: browserRequest("/apps/app_ret/insights/retention.csv?range=90d&period=week", { session }), params: { app: "app_ret" }, context: h.context }));
    expect(out.headers.get("content-type")).toContain("text/csv");
    const [header = "", ...lines] = (await out.text()).trim().split("\r\n");
    expect(header.startsWith("cohort,size,period_1,period_2,")).toBe(true);
    expect(lines.reduce((n, l) => n + Number(l.split(",")[1]), 0)).toBe(5);
  });
});
