// The minute cron keeps the dashboards people open warm, in workerd against the real local
// ClickHouse and D1: it computes an opened dashboard's cards with the Worker's own bindings and
// stores them where the dashboard's page reads them, so a viewer's first request, from an
// isolate that never computed them and with ClickHouse out of reach, shows them at once; it
// computes them again only once WARM_EVERY_MS has passed, and leaves a dashboard nobody opened.
import { createScheduledController, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { changeCards, createDashboard, createSavedInsight, getDashboard, getSavedInsights, noteDashboardViewed } from "../../dashboard/app/db/insights.server";
import { forgetIsolateCache } from "../../dashboard/app/insights/cache.server";
import { loadCards, WARM_EVERY_MS, type Card } from "../../dashboard/app/insights/cards.server";
import { scopeFromUrl } from "../../dashboard/app/insights/saved";
import type { TrendsResult } from "../../dashboard/app/insights/trends.server";
import { chInsert } from "../../test/seed";
import { createApp, inOrg } from "../apps/store";
import worker from "../index";
import { MINUTE_CRON } from "./index";

const NOW = Date.parse("2026-11-20T10:00:00Z");
const MINUTE = 60_000;
const ORG = "org_warm";
const APP = "app_warm";
const iso = (ms: number): string => new Date(ms).toISOString();
const signup = (id: string, at: number) => ({ app_id: APP, type: "track", event: "Signed Up", message_id: id, anonymous_id: `anon-${id}`, timestamp: iso(at), received_at: iso(at) });
const cron = (at: number): Promise<void> => worker.scheduled(createScheduledController({ cron: MINUTE_CRON, scheduledTime: at }), env);
/** Nothing listens there: a read that reaches ClickHouse fails. */
const UNREACHABLE = { url: "http://127.0.0.1:9", database: "default" };

async function board(name: string, query: string): Promise<string> {
  const made = await createDashboard(env.DB, ORG, { name, description: "" }, "owner@example.com");
  if (!made.ok) throw new Error(made.reason);
  const insight = await createSavedInsight(env.DB, ORG, { appId: APP, type: "trends", name: `${name} signups`, description: "", query }, "owner@example.com");
  if (!insight.ok) throw new Error(insight.reason);
  const added = await changeCards(env.DB, ORG, made.value.id, { op: "add", insightId: insight.value.id });
  if (!added?.ok) throw new Error("card not added");
  return made.value.id;
}

/** The dashboard as a viewer's first request opens it at `at`: a new isolate, ClickHouse out of reach. */
async function firstView(id: string, at: number): Promise<Card[]> {
  forgetIsolateCache();
  const d = await getDashboard(env.DB, ORG, id);
  if (!d) throw new Error("no dashboard");
  const insights = await getSavedInsights(env.DB, ORG, d.layout.map((c) => c.insightId));
  const behind: Array<Promise<unknown>> = [];
  const cards = await loadCards({ db: env.DB, clickhouse: UNREACHABLE }, ORG, d.layout, insights, scopeFromUrl(new URL("http://x/"), d.scope), { refresh: false, now: at, background: (w) => behind.push(w) });
  await Promise.allSettled(behind);
  return cards;
}

const signups = (card: Card | undefined): number | null => (card?.data?.type === "trends" ? ((card.data.result as TrendsResult).lines[0]?.total ?? null) : null);

let opened = "";
let unopened = "";

beforeAll(async () => {
  await env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, ?1, ?2)").bind(ORG, NOW).run();
  expect(await createApp(env.DB, inOrg(ORG), { id: APP, name: "Warm shop" })).not.toBe("unavailable");
  await chInsert("events", [signup("a", NOW - 2 * 86_400_000), signup("b", NOW - 3_600_000)]);
  opened = await board("Opened", "range=7d&event0=Signed+Up&measure0=total&interval=day");
  // Another definition: cards of one definition share their results, whichever dashboard holds them.
  unopened = await board("Never opened", "range=30d&event0=Signed+Up&measure0=total&interval=day");
  await noteDashboardViewed(env.DB, ORG, opened, NOW - 5 * MINUTE);
});

describe("dashboards kept warm by the minute cron", () => {
  it("computes an opened dashboard's cards, which a viewer's first request then shows without ClickHouse; a dashboard nobody opened is left", async () => {
    await cron(NOW);
    const [card] = await firstView(opened, NOW + 3 * MINUTE);
    expect([card?.error, card?.cached, card?.refreshing, card?.at, signups(card)]).toEqual([null, true, true, NOW, 2]);
    const [cold] = await firstView(unopened, NOW + 3 * MINUTE);
    expect(cold?.data).toBeNull();
    expect(cold?.error).not.toBeNull();
  });

  it("computes it again only once WARM_EVERY_MS has passed since the last time", async () => {
    await chInsert("events", [signup("c", NOW + MINUTE)]);
    await cron(NOW + WARM_EVERY_MS - MINUTE);
    expect(signups((await firstView(opened, NOW + WARM_EVERY_MS))[0])).toBe(2);
    await cron(NOW + WARM_EVERY_MS);
    const [card] = await firstView(opened, NOW + WARM_EVERY_MS + MINUTE);
    expect([card?.at, signups(card)]).toEqual([NOW + WARM_EVERY_MS, 3]);
  });
});
