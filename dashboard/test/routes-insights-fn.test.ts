// The funnel pages × every role, against a real D1 and ClickHouse: everyone who may read data
// sees a funnel and the people who dropped at a step, those who may export get its CSV and the
// dropped people's CSV, and another organisation's app stays invisible.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import * as funnels from "../app/routes/apps.$app.insights.funnels";
import * as funnelsCsv from "../app/routes/apps.$app.insights.funnels[.csv]";
import * as users from "../app/routes/apps.$app.users._index";
import * as usersCsv from "../app/routes/apps.$app.users[.csv]";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { matrixWorld, roleMatrix, type Case } from "./matrix";

let h: Harness;
const sessions = new Map<Role, string>();

const ALL = ROLES;
const EXPORTERS: readonly Role[] = ["owner", "admin", "developer", "analyst"];
const FUNNEL = "range=7d&step=Product+Viewed&step=Added+to+Cart&window=1d";
const DROPPED = `/apps/app_x/users?range=7d&funnel=${encodeURIComponent(FUNNEL)}&dropped=2`;

beforeAll(async () => {
  h = await startHarness();
  for (const [role, session] of (await matrixWorld(h)).sessions) sessions.set(role, session);
}, 180_000);

afterAll(async () => h?.close());

type Loader = (args: { request: Request; params: Record<string, string>; context: typeof h.context }) => Promise<unknown>;
const get = (mod: { loader: unknown }, path: string, s: string, app = "app_x") =>
  run(() => (mod.loader as Loader)({ request: browserRequest(path, { session: s }), params: { app }, context: h.context }));

const CASES: Case[] = [
  { name: "GET /apps/:app/insights/funnels", allowed: ALL, okStatus: 200, call: (s) => get(funnels, `/apps/app_x/insights/funnels?${FUNNEL}`, s) },
  { name: "GET /apps/:app/insights/funnels.csv", allowed: EXPORTERS, okStatus: 200, call: (s) => get(funnelsCsv, `/apps/app_x/insights/funnels.csv?${FUNNEL}`, s) },
  { name: "GET /apps/:app/users?funnel=…&dropped=… (who dropped at a step)", allowed: ALL, okStatus: 200, call: (s) => get(users, DROPPED, s) },
  { name: "GET /apps/:app/users.csv?funnel=…&dropped=…", allowed: EXPORTERS, okStatus: 200, call: (s) => get(usersCsv, DROPPED.replace("/users?", "/users.csv?"), s) },
];

describe("funnel routes × role matrix", () => {
  roleMatrix(CASES, sessions);
});

describe("organisation boundaries", () => {
  it("answers 404 for another organisation's app on every funnel route", async () => {
    const owner = sessions.get("owner") ?? "";
    const responses = [
      await get(funnels, `/apps/app_other/insights/funnels?${FUNNEL}`, owner, "app_other"),
      await get(funnelsCsv, `/apps/app_other/insights/funnels.csv?${FUNNEL}`, owner, "app_other"),
      await get(users, DROPPED.replace("app_x", "app_other"), owner, "app_other"),
    ];
    expect(responses.map((r) => r.status)).toEqual([404, 404, 404]);
  });
});
