// The insights index, trends and stickiness pages × every role, against a real D1 and ClickHouse:
// everyone who may read data sees them, those who may export get the trend's CSV, and another
// organisation's app stays invisible.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import * as index from "../app/routes/apps.$app.insights._index";
import * as stickiness from "../app/routes/apps.$app.insights.stickiness";
import * as trends from "../app/routes/apps.$app.insights.trends";
import * as trendsCsv from "../app/routes/apps.$app.insights.trends[.csv]";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { matrixWorld, roleMatrix, type Case } from "./matrix";

let h: Harness;
const sessions = new Map<Role, string>();

const ALL = ROLES;
const EXPORTERS: readonly Role[] = ["owner", "admin", "developer", "analyst"];
const TREND = "range=7d&event0=Purchase&measure0=users&breakdown=country&compare=1";

beforeAll(async () => {
  h = await startHarness();
  for (const [role, session] of (await matrixWorld(h)).sessions) sessions.set(role, session);
}, 180_000);

afterAll(async () => h?.close());

type Loader = (args: Parameters<typeof index.loader>[0]) => Promise<unknown>;
const get = (loader: Loader, path: string, s: string, app = "app_x") => run(() => loader({ request: browserRequest(path, { session: s }), params: { app }, context: h.context }));

const CASES: Case[] = [
  { name: "GET /apps/:app/insights", allowed: ALL, okStatus: 200, call: (s) => get(index.loader, "/apps/app_x/insights", s) },
  { name: "GET /apps/:app/insights/trends", allowed: ALL, okStatus: 200, call: (s) => get(trends.loader, `/apps/app_x/insights/trends?${TREND}`, s) },
  { name: "GET /apps/:app/insights/trends.csv", allowed: EXPORTERS, okStatus: 200, call: (s) => get(trendsCsv.loader, `/apps/app_x/insights/trends.csv?${TREND}`, s) },
  { name: "GET /apps/:app/insights/stickiness", allowed: ALL, okStatus: 200, call: (s) => get(stickiness.loader, "/apps/app_x/insights/stickiness?range=30d&period=month", s) },
];

describe("insights index, trends and stickiness routes × role matrix", () => {
  roleMatrix(CASES, sessions);
});

describe("organisation boundaries", () => {
  it("answers 404 for another organisation's app on every one of these routes", async () => {
    const owner = sessions.get("owner") ?? "";
    const responses = [
      await get(index.loader, "/apps/app_other/insights", owner, "app_other"),
      await get(trends.loader, `/apps/app_other/insights/trends?${TREND}`, owner, "app_other"),
      await get(trendsCsv.loader, `/apps/app_other/insights/trends.csv?${TREND}`, owner, "app_other"),
      await get(stickiness.loader, "/apps/app_other/insights/stickiness", owner, "app_other"),
    ];
    expect(responses.map((r) => r.status)).toEqual([404, 404, 404, 404]);
  });
});
