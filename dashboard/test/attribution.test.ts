// Attribution over hand-worked fixture events in the real local ClickHouse: one touch, two
// touches, many touches, a touch outside the window, views against clicks, an anonymous visitor
// who identifies, repeats within a session counted once, and `once` conversions; every credit
// worked out by hand under the five models, and each model's column adding up to the conversions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ATTRIBUTION, type AttributionModel, type AttributionSettings, type Conversion } from "../../schemas";
import { attributionReport, personPaths, recentConversions, type AttributionReport, type ChannelRow } from "../app/attribution/report.server";
import { dashboardEnv } from "../app/env.server";
import { ownerWithApps, startHarness, type Harness } from "./harness";

let h: Harness;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const D0 = Math.floor(Date.now() / DAY) * DAY - 12 * DAY;
const at = (day: number, hours = 10): string => new Date(D0 + day * DAY + hours * HOUR).toISOString();
const APP = "app_attr";
let seq = 0;

type Row = Record<string, string | number>;
const base = (user: string, anon: string, session: string, ts: string): Row => ({ app_id: APP, message_id: `a${++seq}`, user_id: user, anonymous_id: anon, session_id: session, timestamp: ts, received_at: ts, platform: "web" });
const page = (user: string, anon: string, session: string, ts: string, url: string, referrer = ""): Row => ({ ...base(user, anon, session, ts), type: "page", path: new URL(url).pathname, url, referrer });
const utm = (source: string, medium: string, campaign: string, extra = ""): string => `https://shop.example/?utm_source=${source}&utm_medium=${medium}&utm_campaign=${campaign}${extra}`;
const track = (user: string, anon: string, session: string, ts: string, event: string, properties: object = {}): Row => ({ ...base(user, anon, session, ts), type: "track", event, properties: JSON.stringify(properties) });
const purchase = (user: string, ts: string, revenue: number, currency = "USD"): Row => track(user, "", "", ts, "Order Completed", { revenue, currency });

const settings: AttributionSettings = { ...DEFAULT_ATTRIBUTION, clickWindowDays: 7, viewWindowHours: 24, halfLifeDays: 7 };
const purchases = DEFAULT_ATTRIBUTION.conversions.find((c) => c.id === "purchase") as Conversion;
const signups = DEFAULT_ATTRIBUTION.conversions.find((c) => c.id === "signup") as Conversion;
const range = { from: Math.floor((D0 - 10 * DAY) / 1000), to: Math.floor(Date.now() / 1000) + 60 };

// Time decay by hand: a touch `age` days before the conversion weighs 2^(-age/7).
const w = (age: number): number => 2 ** (-age / 7);

beforeAll(async () => {
  h = await startHarness();
  await ownerWithApps(h, [{ id: APP, name: "Attribution" }]);
  await h.insertEvents([
    // p1, one touch: a newsletter link, a purchase the next day.
    page("p1", "", "s1", at(0), utm("newsletter", "email", "bf")),
    purchase("p1", at(1), 100),
    // p2, two touches: a Google Ads click (gclid alone: google / cpc), then a Facebook retargeting link.
    page("p2", "", "s2a", at(0), "https://shop.example/?gclid=abc"),
    page("p2", "", "s2b", at(2), utm("facebook", "social", "retarget")),
    purchase("p2", at(3), 50),
    // p3, four touches: a Google search, a partner link, a tweet, a TikTok ad click; then a purchase.
    page("p3", "", "s3a", at(0), "https://shop.example/shoes", "https://www.google.com/search?q=shoes"),
    page("p3", "", "s3b", at(1), utm("partner", "affiliate", "p-1")),
    page("p3", "", "s3c", at(2), "https://shop.example/", "https://t.co/xyz"),
    track("p3", "", "s3d", at(3), "Ad Clicked", { campaign: { source: "tiktok", medium: "paid_social", name: "spring", ad_creative: "video-1" } }),
    purchase("p3", at(4), 200),
    // p4, a touch eight days before: outside the 7-day click window, so "(direct)".
    page("p4", "", "s4", at(0), utm("old", "email", "gone")),
    purchase("p4", at(8), 10),
    // p5, an impression two hours before and a click four days before: the click wins.
    page("p5", "", "s5a", at(1), utm("search-ads", "cpc", "brand")),
    track("p5", "", "s5b", at(5, 8), "Ad Viewed", { campaign: { source: "display-net", medium: "display", name: "banner" } }),
    purchase("p5", at(5), 10),
    // p6, an impression alone two hours before: view-through.
    track("p6", "", "s6", at(5, 8), "Ad Viewed", { campaign: { source: "display-net", medium: "display", name: "banner" } }),
    purchase("p6", at(5), 10),
    // p7, an impression 30 hours before: outside the 24-hour view window.
    track("p7", "", "s7", at(4, 4), "Ad Viewed", { campaign: { source: "display-net", medium: "display", name: "banner" } }),
    purchase("p7", at(5), 10),
    // p8, anonymous a8 arrives from a podcast, identifies as p8, buys two days later signed in.
    page("", "a8", "s8", at(0), utm("podcast", "audio", "ep-12")),
    { ...base("p8", "a8", "s8", at(0, 11)), type: "identify" },
    purchase("p8", at(2), 10),
    // p12, an ad click landing from Google's results; the next page keeps the referrer: one touch, the ad's.
    page("p12", "", "s12", at(0), "https://shop.example/?gclid=def", "https://www.google.com/"),
    page("p12", "", "s12", at(0, 11), "https://shop.example/cart", "https://www.google.com/"),
    purchase("p12", at(1), 10),
    // p13, an app opened from a push notification's deep link (the campaign in the link alone).
    track("p13", "", "s13", at(2), "Deep Link Opened", { url: "shopapp://offers?utm_source=push&utm_medium=notification&utm_campaign=winback" }),
    purchase("p13", at(3), 10),
    // p14, an install an attribution provider credited (Segment's mobile spec).
    track("p14", "", "s14", at(1), "Install Attributed", { provider: "AppsFlyer", campaign: { source: "google-play", medium: "store", name: "launch", ad_creative: "banner-2" } }),
    purchase("p14", at(2), 10),
    // p9, the same link twice in one session (a reload) and another the next day: two touches.
    page("p9", "", "s9a", at(0), utm("x", "email", "one")),
    page("p9", "", "s9a", at(0, 11), utm("x", "email", "one")),
    page("p9", "", "s9b", at(1), utm("y", "email", "two")),
    purchase("p9", at(2), 10),
    // Sign-ups count once a person: p1's second does not count; p10's first was before the range.
    track("p1", "", "s1", at(1), "Signed Up"),
    track("p1", "", "s1", at(2), "Signed Up"),
    track("p10", "", "", new Date(D0 - 40 * DAY).toISOString(), "Signed Up"),
    track("p10", "", "", at(3), "Signed Up"),
    // A purchase in another currency counts but is not summed with dollars.
    purchase("p11", at(3), 99, "EUR"),
    // Another app's touches and conversions are never read.
    { ...page("p1", "", "s1", at(0), utm("leak", "email", "leak")), app_id: "app_other" },
    { ...purchase("p1", at(1), 1000), app_id: "app_other" },
  ]);
}, 120_000);

afterAll(async () => {
  await h.close();
});

const cfg = () => dashboardEnv(h.env).clickhouse;
const MODELS: AttributionModel[] = ["first", "last", "linear", "decay", "position"];
const row = (r: AttributionReport, source: string): ChannelRow => {
  const found = r.rows.find((x) => x.source === source);
  if (!found) throw new Error(`no row for ${source}: ${r.rows.map((x) => x.source).join(", ")}`);
  return found;
};
const credits = (r: AttributionReport, source: string): number[] => MODELS.map((m) => row(r, source).conversions[m]);

describe("attribution report", () => {
  let report: AttributionReport;
  beforeAll(async () => {
    report = await attributionReport(cfg(), APP, settings, purchases, range);
  });

  it("counts every conversion once under each model, and sums dollars apart from euros", () => {
    expect(report.conversions).toBe(13);
    for (const m of MODELS) expect(report.rows.reduce((n, r) => n + r.conversions[m], 0)).toBeCloseTo(13, 9);
    expect(report.revenue).toBe(440);
    expect(report.otherCurrencies).toEqual([{ currency: "EUR", conversions: 1 }]);
    expect(report.rows.some((r) => r.source === "leak")).toBe(false);
  });

  it("gives a single touch all the credit", () => {
    expect(credits(report, "newsletter")).toEqual([1, 1, 1, 1, 1]);
    expect(row(report, "newsletter")).toMatchObject({ medium: "email", campaign: "bf", revenue: { first: 100, last: 100, linear: 100, decay: 100, position: 100 } });
    expect(row(report, "newsletter").medianToConvert).toBe(86_400);
  });

  it("splits two touches: first, last, half each, by age, and 50/50 by position", () => {
    const google = credits(report, "google");
    const facebook = credits(report, "facebook");
    expect(row(report, "google").medium).toBe("cpc");
    // p12's ad click (google / cpc, alone in its session with the referrer it landed from) adds 1 to each model.
    expect(google.slice(0, 3)).toEqual([2, 1, 1.5]);
    expect(facebook.slice(0, 3)).toEqual([0, 1, 0.5]);
    expect(google[3]).toBeCloseTo(1 + w(3) / (w(3) + w(1)), 9);
    expect(facebook[3]).toBeCloseTo(w(1) / (w(3) + w(1)), 9);
    expect(google[4]).toBe(1.5);
    expect(facebook[4]).toBe(0.5);
    expect(row(report, "facebook").revenue.last).toBe(50);
  });

  it("shares many touches: 40 % first and last and the rest between the middle ones", () => {
    const total = w(4) + w(3) + w(2) + w(1);
    expect(credits(report, "google.com")).toEqual([1, 0, 0.25, expect.closeTo(w(4) / total, 9), 0.4]);
    expect(credits(report, "partner")).toEqual([0, 0, 0.25, expect.closeTo(w(3) / total, 9), expect.closeTo(0.1, 9)]);
    expect(credits(report, "t.co")).toEqual([0, 0, 0.25, expect.closeTo(w(2) / total, 9), expect.closeTo(0.1, 9)]);
    expect(credits(report, "tiktok")).toEqual([0, 1, 0.25, expect.closeTo(w(1) / total, 9), 0.4]);
    expect(row(report, "google.com").medium).toBe("search");
    expect(row(report, "t.co").medium).toBe("social");
    expect(row(report, "tiktok")).toMatchObject({ medium: "paid_social", campaign: "spring", content: "video-1" });
  });

  it("leaves conversions whose touches are older than the windows to (direct), and prefers a click to a view", () => {
    // p4 (a click 8 days before), p7 (a view 30 hours before) and p11 (no touch at all).
    expect(credits(report, "(direct)")).toEqual([3, 3, 3, 3, 3]);
    expect(report.rows.some((r) => r.source === "old")).toBe(false);
    expect(credits(report, "search-ads")).toEqual([1, 1, 1, 1, 1]);
    // p6's impression is the only one that counts: view-through.
    expect(credits(report, "display-net")).toEqual([1, 1, 1, 1, 1]);
    expect(report.touched).toBe(10);
  });

  it("reads a deep link's campaign and an attributed install's", () => {
    expect(credits(report, "push")).toEqual([1, 1, 1, 1, 1]);
    expect(row(report, "push")).toMatchObject({ medium: "notification", campaign: "winback" });
    expect(credits(report, "google-play")).toEqual([1, 1, 1, 1, 1]);
    expect(row(report, "google-play")).toMatchObject({ medium: "store", campaign: "launch", content: "banner-2" });
  });

  it("credits an anonymous visitor's touch to the user they became", () => {
    expect(credits(report, "podcast")).toEqual([1, 1, 1, 1, 1]);
  });

  it("counts a link seen twice in a session as one touch", () => {
    expect(credits(report, "x")).toEqual([1, 0, 0.5, expect.closeTo(w(2) / (w(2) + w(1)), 9), 0.5]);
    expect(credits(report, "y")).toEqual([0, 1, 0.5, expect.closeTo(w(1) / (w(2) + w(1)), 9), 0.5]);
  });

  it("counts a once-a-person conversion at the person's first, and none for a first before the range", async () => {
    const r = await attributionReport(cfg(), APP, settings, signups, range);
    expect(r.conversions).toBe(1);
    expect(credits(r, "newsletter")).toEqual([1, 1, 1, 1, 1]);
  });

  it("shows one person's conversions with the touches behind them and their credits", async () => {
    const paths = await personPaths(cfg(), APP, settings, purchases, range, "p2");
    expect(paths).toHaveLength(1);
    expect(paths[0]?.revenue).toBe(50);
    expect(paths[0]?.touches.map((t) => [t.source, t.medium, t.credits.first, t.credits.last])).toEqual([
      ["google", "cpc", 1, 0],
      ["facebook", "social", 0, 1],
    ]);
    const anon = await personPaths(cfg(), APP, settings, purchases, range, "p8");
    expect(anon[0]?.touches.map((t) => t.source)).toEqual(["podcast"]);
  });

  it("lists the latest conversions with who made them, the anonymous visitor by the user they became", async () => {
    const recent = await recentConversions(cfg(), APP, purchases, range, 4);
    expect(recent.map((r) => [r.person, r.revenue])).toEqual([
      ["p4", 10],
      ["p5", 10],
      ["p6", 10],
      ["p7", 10],
    ]);
    const signed = await recentConversions(cfg(), APP, signups, range);
    expect(signed.map((r) => r.person)).toEqual(["p1"]);
  });
});
