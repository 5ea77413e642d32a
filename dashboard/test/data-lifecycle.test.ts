// An app's data lifecycle in the dashboard, against a real D1 and ClickHouse: the location is
// chosen when the app is created and stays; retention is offered only as far as raw events are
// kept; the settings page says what the daily retention run deletes, what it last did and the
// oldest event still kept, before and after the run.
import { createClient, type ClickHouseClient } from "@clickhouse/client-web";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enforceRetention } from "../../workers/cron/retention.cron";
import { DataLifecycle, ShardChange, type RetentionView } from "../app/components/app-settings";
import { getApp, type AppDetails } from "../app/db/apps.server";
import * as settings from "../app/routes/apps.$app.settings";
import * as apps from "../app/routes/apps._index";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

const DAY = 86_400_000;
let h: Harness;
let session = "";
let orgId = "";
let writer: ClickHouseClient;

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, []);
  orgId = (await h.db.prepare("SELECT id FROM orgs LIMIT 1").first<{ id: string }>())?.id ?? "";
  writer = createClient({ url: h.clickhouseUrl, ...h.clickhouseWriter });
}, 180_000);

afterAll(async () => {
  await writer?.close();
  await h?.close();
});

const create = (form: Record<string, string>) => run(() => apps.action({ request: browserRequest("/apps", { session, form }), params: {}, context: h.context }));
const saveSettings = (app: string, form: Record<string, string>) =>
  run(() => settings.action({ request: browserRequest(`/apps/${app}/settings`, { session, form: { intent: "settings", rateLimit: "0", shardCount: "1", redactionPolicy: "", ...form } }), params: { app }, context: h.context }));
const loadSettings = async (app: string) =>
  (await run(() => settings.loader({ request: browserRequest(`/apps/${app}/settings`, { session }), params: { app }, context: h.context }))).json() as Promise<{ app: AppDetails; retention: RetentionView }>;
const text = (html: string): string => html.replace(/<[^>]+>/g, "").replace(/\s+/g, " ");

describe("data location", () => {
  it("is chosen when the app is created and stays what it was", async () => {
    expect((await create({ id: "app_eu", name: "EU shop", location: "eu" })).status).toBe(302);
    expect((await create({ id: "app_plain", name: "Shop" })).status).toBe(302);
    expect((await getApp(h.db, orgId, "app_eu"))?.location).toBe("eu");
    expect((await getApp(h.db, orgId, "app_plain"))?.location).toBe("default");

    const bad = await create({ id: "app_mars", name: "Mars", location: "mars" });
    expect(bad.status).toBe(400);
    expect(await getApp(h.db, orgId, "app_mars")).toBeNull();

    // The settings form has no location: saving it leaves the app in the EU.
    expect((await saveSettings("app_eu", { retentionDays: "30", location: "default" })).status).toBe(200);
    expect((await getApp(h.db, orgId, "app_eu"))?.location).toBe("eu");
  });
});

describe("shards", () => {
  it("change a minute after saving, say when, and cannot change again within a day", async () => {
    await create({ id: "app_shards", name: "Shards" });
    const raised = await saveSettings("app_shards", { retentionDays: "30", shardCount: "4" });
    expect(raised.status).toBe(200);
    expect(text(await raised.text())).toMatch(/Events go to 4 shards instead of 1 from \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    const again = await saveSettings("app_shards", { retentionDays: "30", shardCount: "8" });
    expect(again.status).toBe(409);
    expect(text(await again.text())).toContain("The shard count changed less than a day ago; it can change again after");
    expect((await getApp(h.db, orgId, "app_shards"))?.shardCount).toBe(4);
    // The page shows the change to come, whoever made it: a busy shard makes the same one.
    expect((await loadSettings("app_shards")).app).toMatchObject({ shardCount: 4, previousShardCount: 1, shardsFrom: expect.any(Number) });
  });

  it("say when an app still spreads events by event id, and move it to spreading them by device with its next count", async () => {
    await create({ id: "app_by_id", name: "By id" });
    expect((await loadSettings("app_by_id")).app.shardKey).toBe("device");
    // As an app with several shards was before events were placed by device.
    await h.db.prepare("UPDATE apps SET shard_count = 3, shard_key = 'id' WHERE id = ?").bind("app_by_id").run();
    const shardsLine = async () => text(renderToStaticMarkup(createElement(ShardChange, { app: (await loadSettings("app_by_id")).app })));
    // Saving the same count changes nothing.
    expect((await saveSettings("app_by_id", { retentionDays: "30", shardCount: "3" })).status).toBe(200);
    expect((await loadSettings("app_by_id")).app.shardKey).toBe("id");
    expect(await shardsLine()).toContain("Events are spread over the shards by event id, so a request reaches most of them. The next change of the count spreads them by device");
    expect((await saveSettings("app_by_id", { retentionDays: "30", shardCount: "6" })).status).toBe(200);
    expect((await getApp(h.db, orgId, "app_by_id"))?.shardKey).toBe("device");
    const moved = await shardsLine();
    expect(moved).toMatch(/^Events go to 6 shards instead of 3 from \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\.$/);
  });

  it("raise themselves for a new app until its settings are saved with the box cleared", async () => {
    await create({ id: "app_auto", name: "Auto" });
    expect((await loadSettings("app_auto")).app.autoShards).toBe(true);
    expect((await saveSettings("app_auto", { retentionDays: "30" })).status).toBe(200);
    expect((await getApp(h.db, orgId, "app_auto"))?.autoShards).toBe(false);
    expect((await saveSettings("app_auto", { retentionDays: "30", autoShards: "1" })).status).toBe(200);
    expect((await getApp(h.db, orgId, "app_auto"))?.autoShards).toBe(true);
  });
});

describe("retention", () => {
  it("refuses a retention longer than raw events are kept, saying why", async () => {
    await create({ id: "app_long", name: "Long" });
    const res = await saveSettings("app_long", { retentionDays: "365" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringContaining("at most 90 days") });
    expect((await getApp(h.db, orgId, "app_long"))?.retentionDays).toBe(90);
  });

  it("shows what the daily run deletes, what it last did and the oldest event kept", async () => {
    await create({ id: "app_week", name: "Week", location: "eu" });
    expect((await saveSettings("app_week", { retentionDays: "7" })).status).toBe(200);
    const now = Date.now();
    const ages = [3, 10];
    await h.insertEvents(
      ages.map((age) => ({ app_id: "app_week", type: "track", event: "Opened", message_id: `w${age}`, anonymous_id: `a${age}`, timestamp: new Date(now - age * DAY).toISOString(), received_at: new Date(now).toISOString() })),
    );

    const before = await loadSettings("app_week");
    expect(before.retention).toMatchObject({ oldestEvent: now - 10 * DAY, lastRun: null, error: null });
    const cutoffShown = before.retention.cutoff;
    expect(Math.abs(cutoffShown - (now - 7 * DAY))).toBeLessThan(60_000);

    await enforceRetention({ db: h.db, client: writer }, now);
    const after = await loadSettings("app_week");
    expect(after.retention).toMatchObject({ oldestEvent: now - 3 * DAY, lastRun: { ranAt: now, eventsDeleted: 1, error: null } });

    const page = text(renderToStaticMarkup(createElement(DataLifecycle, { app: after.app, retention: after.retention })));
    const at = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
    expect(page).toContain("Events older than 7 days are deleted daily");
    expect(page).toContain(`The oldest event kept is from ${at(now - 3 * DAY)}.`);
    // The 10-day-old visitor's profile and active hour went with their event.
    expect(page).toContain(`Last run ${at(now)}: deleted 1 event and 2 per-person rows.`);
    expect(page).toContain("kept 365 days");
    expect(page).toContain("Data location: European Union");
    expect(page).toContain("cannot be changed");
  });
});
