// The attribution pages × every role, against a real D1 and ClickHouse: everyone who may read data
// sees the report and a person's touch path, those who may export get its CSV, those who manage
// apps change its settings (and a refused form says which row is wrong), and another
// organisation's app stays invisible.
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import { getAttribution } from "../app/db/apps.server";
import * as page from "../app/routes/apps.$app.attribution._index";
import * as people from "../app/routes/apps.$app.attribution.people";
import * as csv from "../app/routes/apps.$app.attribution[.csv]";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { matrixWorld, roleMatrix, type Case } from "./matrix";

let h: Harness;
let orgId = "";
const sessions = new Map<Role, string>();

const ALL = ROLES;
const EXPORTERS: readonly Role[] = ["owner", "admin", "developer", "analyst"];
const MANAGERS: readonly Role[] = ["owner", "admin", "developer"];

const DAY = 86_400_000;
const ts = (daysAgo: number): string => new Date(Date.now() - daysAgo * DAY).toISOString();

beforeAll(async () => {
  h = await startHarness();
  const world = await matrixWorld(h);
  orgId = world.orgId;
  for (const [role, session] of world.sessions) sessions.set(role, session);
  const row = (id: string, user: string, daysAgo: number, extra: Record<string, string>) => ({ app_id: "app_x", message_id: id, user_id: user, anonymous_id: "", session_id: `s-${id}`, timestamp: ts(daysAgo), received_at: ts(daysAgo), ...extra });
  await h.insertEvents([
    row("m1", "buyer", 3, { type: "page", path: "/", url: "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=bf" }),
    row("m2", "buyer", 2, { type: "track", event: "Order Completed", properties: JSON.stringify({ revenue: 42.5, currency: "USD" }) }),
  ]);
}, 180_000);

afterAll(async () => h?.close());

const get = (mod: { loader: (args: LoaderFunctionArgs) => Promise<unknown> }, path: string, s: string, app = "app_x") =>
  run(() => mod.loader({ request: browserRequest(path, { session: s }), params: { app }, context: h.context }));
const post = (form: Record<string, string>, s: string, app = "app_x") =>
  run(() => (page.action as (args: ActionFunctionArgs) => Promise<unknown>)({ request: browserRequest(`/apps/${app}/attribution`, { session: s, form }), params: { app }, context: h.context }));

const SETTINGS = {
  intent: "save",
  rows: "2",
  clickWindowDays: "14",
  viewWindowHours: "12",
  halfLifeDays: "3",
  "c0.name": "Trials",
  "c0.event": "Trial Started",
  "c0.once": "on",
  "c1.name": "Purchases",
  "c1.event": "Order Completed",
  "c1.revenueProp": "revenue",
  "c1.currency": "usd",
};

const CASES: Case[] = [
  { name: "GET /apps/:app/attribution", allowed: ALL, okStatus: 200, call: (s) => get(page, "/apps/app_x/attribution?range=30d&conversion=purchase", s) },
  { name: "GET /apps/:app/attribution.csv", allowed: EXPORTERS, okStatus: 200, call: (s) => get(csv, "/apps/app_x/attribution.csv?range=30d&conversion=purchase", s) },
  { name: "GET /apps/:app/attribution/people?person=…", allowed: ALL, okStatus: 200, call: (s) => get(people, "/apps/app_x/attribution/people?range=30d&person=buyer&conversion=purchase", s) },
  { name: "POST /apps/:app/attribution (save settings)", allowed: MANAGERS, okStatus: 200, call: (s) => post(SETTINGS, s) },
];

describe("attribution routes × role matrix", () => {
  roleMatrix(CASES, sessions);
});

describe("attribution pages", () => {
  // The matrix's saves above leave the settings of SETTINGS: "purchases" counts the orders.
  it("reports the purchase credited to the newsletter under every model, and exports it", async () => {
    const owner = sessions.get("owner") ?? "";
    const res = await get(page, "/apps/app_x/attribution?range=30d&conversion=purchases", owner);
    const body = (await res.json()) as { report: { conversions: number; revenue: number; rows: Array<{ source: string; conversions: Record<string, number> }> } };
    expect(body.report.conversions).toBe(1);
    expect(body.report.revenue).toBe(42.5);
    expect(body.report.rows.map((r) => [r.source, r.conversions.first, r.conversions.position])).toEqual([["newsletter", 1, 1]]);
    const file = await (await get(csv, "/apps/app_x/attribution.csv?range=30d&conversion=purchases", owner)).text();
    expect(file.split("\n")[0]).toContain("conversions_first,conversions_last,conversions_linear,conversions_decay,conversions_position");
    expect(file).toContain("newsletter,email,bf,,1.000000,1.000000,1.000000,1.000000,1.000000,42.50");
  });

  it("shows a person's conversion with its touch", async () => {
    const res = await get(people, "/apps/app_x/attribution/people?range=30d&person=buyer&conversion=purchases", sessions.get("analyst") ?? "");
    const body = (await res.json()) as { paths: Array<{ revenue: number; touches: Array<{ source: string }> }> };
    expect(body.paths.map((p) => [p.revenue, p.touches.map((t) => t.source)])).toEqual([[42.5, ["newsletter"]]]);
  });

  it("saves settings from the form and names the row a refused one got wrong, keeping what was typed", async () => {
    const owner = sessions.get("owner") ?? "";
    expect((await post(SETTINGS, owner)).status).toBe(200);
    const saved = await getAttribution(h.db, orgId, "app_x");
    expect(saved).toEqual({
      clickWindowDays: 14,
      viewWindowHours: 12,
      halfLifeDays: 3,
      conversions: [
        { id: "trials", name: "Trials", event: "Trial Started", once: true },
        { id: "purchases", name: "Purchases", event: "Order Completed", revenueProp: "revenue", currency: "USD", once: false },
      ],
    });
    const bad = await post({ ...SETTINGS, "c1.currency": "dollars" }, owner);
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string; rows: Array<{ currency: string }> };
    expect(body.error).toMatch(/^Conversion 2 \(Purchases\), currency: a currency is a three-letter code/);
    expect(body.rows[1]?.currency).toBe("DOLLARS");
    const noWindow = await post({ ...SETTINGS, clickWindowDays: "0" }, owner);
    expect(((await noWindow.json()) as { error: string }).error).toMatch(/^Click window/);
    // The refused forms changed nothing.
    expect((await getAttribution(h.db, orgId, "app_x"))?.clickWindowDays).toBe(14);
  });

  it("answers 404 for another organisation's app on every attribution route", async () => {
    const owner = sessions.get("owner") ?? "";
    const responses = [
      await get(page, "/apps/app_other/attribution", owner, "app_other"),
      await get(csv, "/apps/app_other/attribution.csv", owner, "app_other"),
      await get(people, "/apps/app_other/attribution/people?person=buyer", owner, "app_other"),
      await post(SETTINGS, owner, "app_other"),
    ];
    expect(responses.map((r) => r.status)).toEqual([404, 404, 404, 404]);
  });
});
