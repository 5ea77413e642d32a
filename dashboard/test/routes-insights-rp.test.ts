// The retention and paths pages × every role, against a real D1 and ClickHouse: everyone who may
// read data sees them and the people on a path, those who may export get the retention CSV, and
// another organisation's app stays invisible.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import * as paths from "../app/routes/apps.$app.insights.paths";
import * as retention from "../app/routes/apps.$app.insights.retention";
import * as retentionCsv from "../app/routes/apps.$app.insights.retention[.csv]";
import * as users from "../app/routes/apps.$app.users._index";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { matrixWorld, roleMatrix, type Case } from "./matrix";

let h: Harness;
const sessions = new Map<Role, string>();

const ALL = ROLES;
const EXPORTERS: readonly Role[] = ["owner", "admin", "developer", "analyst"];
const ON_PATH = `/apps/app_x/users?range=7d&paths=${encodeURIComponent("range=7d&kind=pages&start=/&depth=3")}&step=%2F&step=%2Fpricing`;

beforeAll(async () => {
  h = await startHarness();
  for (const [role, session] of (await matrixWorld(h)).sessions) sessions.set(role, session);
}, 180_000);

afterAll(async () => h?.close());

const get = (mod: { loader: (args: LoaderFunctionArgs) => Promise<unknown> }, path: string, s: string, app = "app_x") =>
  run(() => mod.loader({ request: browserRequest(path, { session: s }), params: { app }, context: h.context }));

const CASES: Case[] = [
  { name: "GET /apps/:app/insights/retention", allowed: ALL, okStatus: 200, call: (s) => get(retention, "/apps/app_x/insights/retention?range=30d&period=week", s) },
  { name: "GET /apps/:app/insights/retention.csv", allowed: EXPORTERS, okStatus: 200, call: (s) => get(retentionCsv, "/apps/app_x/insights/retention.csv?range=30d", s) },
  { name: "GET /apps/:app/insights/paths", allowed: ALL, okStatus: 200, call: (s) => get(paths, "/apps/app_x/insights/paths?range=7d&start=%2F", s) },
  { name: "GET /apps/:app/users?paths=…&step=… (the people on a path)", allowed: ALL, okStatus: 200, call: (s) => get(users, ON_PATH, s) },
];

describe("retention and paths routes × role matrix", () => {
  roleMatrix(CASES, sessions);
});

describe("organisation boundaries", () => {
  it("answers 404 for another organisation's app on every retention and paths route", async () => {
    const owner = sessions.get("owner") ?? "";
    const responses = [
      await get(retention, "/apps/app_other/insights/retention", owner, "app_other"),
      await get(retentionCsv, "/apps/app_other/insights/retention.csv", owner, "app_other"),
      await get(paths, "/apps/app_other/insights/paths", owner, "app_other"),
      await get(users, ON_PATH.replace("app_x", "app_other"), owner, "app_other"),
    ];
    expect(responses.map((r) => r.status)).toEqual([404, 404, 404, 404]);
  });
});
