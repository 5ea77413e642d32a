// The alert rules and exports pages × every role, against a real D1 and ClickHouse: everyone may
// read the rules and the exports, those who manage alerts may change and test rules, those who
// may export create, run, switch and delete exports, and another organisation's app and its
// rules and exports stay invisible.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import { createRule } from "../app/db/alert-rules.server";
import { createApp } from "../app/db/apps.server";
import * as list from "../app/routes/apps.$app.alerts._index";
import * as page from "../app/routes/apps.$app.alerts.$rule";
import * as exportsPage from "../app/routes/apps.$app.exports";
import { listRuns, listSchedules } from "../app/db/exports.server";
import { createEndpoint } from "../../workers/alerts/webhooks/store";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { roleMatrix, type Case } from "./matrix";
import { newMember, newOrg } from "./orgs";

let h: Harness;
let orgId = "";
let ownerEmail = "";
let hook = "";
let testedRule = "";
let otherRule = "";
const sessions = new Map<Role, string>();
let outsider = "";
let n = 0;


const ALL = ROLES;
const MANAGERS: readonly Role[] = ["owner", "admin", "developer"];

/** A new enabled rule of app_x sending to the organisation's endpoint. */
async function newRule(): Promise<string> {
  const made = await createRule(
    h.db,
    orgId,
    "app_x",
    { name: `Rule ${++n}`, metric: { kind: "events", name: "Checkout Failed" }, window: "1m", condition: { type: "threshold", direction: "above", value: 5 }, endpointIds: [hook] },
    ownerEmail,
  );
  if (!made?.ok) throw new Error("rule not created");
  return made.rule.id;
}

beforeAll(async () => {
  h = await startHarness();
  const acme = await newOrg(h, "Acme");
  orgId = acme.orgId;
  ownerEmail = acme.owner.email;
  sessions.set("owner", acme.owner.session);
  for (const role of ROLES.filter((r) => r !== "owner")) sessions.set(role, (await newMember(h, orgId, role)).session);
  await createApp(h.db, orgId, { id: "app_x", name: "X" });
  const made = await createEndpoint(h.db, orgId, { url: "https://hooks.example.com/x", description: "On-call", format: "standard" });
  if (!made.ok) throw new Error(made.reason);
  hook = made.endpoint.id;
  testedRule = await newRule();
  const other = await newOrg(h, "Other");
  outsider = other.owner.session;
  await createApp(h.db, other.orgId, { id: "app_other", name: "Other's app" });
  const theirs = await createEndpoint(h.db, other.orgId, { url: "https://hooks.example.org/y", description: "", format: "standard" });
  if (!theirs.ok) throw new Error(theirs.reason);
  const rule = await createRule(
    h.db,
    other.orgId,
    "app_other",
    { name: "Theirs", metric: { kind: "users" }, window: "1h", condition: { type: "threshold", direction: "below", value: 10 }, endpointIds: [theirs.endpoint.id] },
    other.owner.email,
  );
  if (!rule?.ok) throw new Error("their rule not created");
  otherRule = rule.rule.id;
}, 180_000);

afterAll(async () => h?.close());

const listAction = (s: string, form: Record<string, string>, app = "app_x") =>
  run(() => list.action({ request: browserRequest(`/apps/${app}/alerts`, { session: s, form }), params: { app }, context: h.context }));
const ruleAction = (s: string, rule: string, form: Record<string, string>, app = "app_x") =>
  run(() => page.action({ request: browserRequest(`/apps/${app}/alerts/${rule}`, { session: s, form }), params: { app, rule }, context: h.context }));

const CASES: Case[] = [
  {
    name: "GET /apps/:app/alerts",
    allowed: ALL,
    okStatus: 200,
    call: (s) => run(() => list.loader({ request: browserRequest("/apps/app_x/alerts", { session: s }), params: { app: "app_x" }, context: h.context })),
  },
  {
    name: "GET /apps/:app/alerts/:rule",
    allowed: ALL,
    okStatus: 200,
    call: (s) => run(() => page.loader({ request: browserRequest(`/apps/app_x/alerts/${testedRule}`, { session: s }), params: { app: "app_x", rule: testedRule }, context: h.context })),
  },
  {
    // Another organisation's rule under our app: 404 for whoever may read.
    name: "GET /apps/:app/alerts/:rule (another organisation's)",
    allowed: ALL,
    okStatus: 404,
    call: (s) => run(() => page.loader({ request: browserRequest(`/apps/app_x/alerts/${otherRule}`, { session: s }), params: { app: "app_x", rule: otherRule }, context: h.context })),
  },
  {
    name: "POST /apps/:app/alerts (create a rule)",
    allowed: MANAGERS,
    okStatus: 200,
    call: (s) =>
      listAction(s, { intent: "create", name: `New ${++n}`, kind: "crashes", window: "5m", condition: "above", value: "3", enabled: "on", endpointIds: hook }),
  },
  { name: "POST /apps/:app/alerts/:rule (mute)", allowed: MANAGERS, okStatus: 200, call: async (s) => ruleAction(s, await newRule(), { intent: "mute", for: "1h" }) },
  { name: "POST /apps/:app/alerts/:rule (send test)", allowed: MANAGERS, okStatus: 200, call: (s) => ruleAction(s, testedRule, { intent: "test" }) },
  { name: "POST /apps/:app/alerts/:rule (delete)", allowed: MANAGERS, okStatus: 302, call: async (s) => ruleAction(s, await newRule(), { intent: "delete" }) },
];

describe("alert routes × role matrix", () => {
  roleMatrix(CASES, sessions);
});

describe("organisation boundaries", () => {
  it("hides another organisation's app and its rules: 404 on every read and write", async () => {
    const responses = [
      await run(() => list.loader({ request: browserRequest("/apps/app_other/alerts", { session: sessions.get("owner") }), params: { app: "app_other" }, context: h.context })),
      await run(() =>
        page.loader({ request: browserRequest(`/apps/app_other/alerts/${otherRule}`, { session: sessions.get("owner") }), params: { app: "app_other", rule: otherRule }, context: h.context }),
      ),
      await listAction(sessions.get("owner") ?? "", { intent: "create", name: "Intruder", kind: "users", window: "1h", condition: "above", value: "1", endpointIds: hook }, "app_other"),
      await ruleAction(sessions.get("owner") ?? "", otherRule, { intent: "mute", for: "7d" }, "app_other"),
      await ruleAction(sessions.get("owner") ?? "", otherRule, { intent: "test" }, "app_other"),
      await ruleAction(sessions.get("owner") ?? "", otherRule, { intent: "delete" }, "app_other"),
      // Their owner, on our app.
      await run(() => list.loader({ request: browserRequest("/apps/app_x/alerts", { session: outsider }), params: { app: "app_x" }, context: h.context })),
      await ruleAction(outsider, testedRule, { intent: "delete" }),
    ];
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 404));
    const theirs = await run(() =>
      page.loader({ request: browserRequest(`/apps/app_other/alerts/${otherRule}`, { session: outsider }), params: { app: "app_other", rule: otherRule }, context: h.context }),
    );
    expect(await theirs.json()).toMatchObject({ rule: { name: "Theirs", mutedUntil: null } });
  });
});

const EXPORTERS: readonly Role[] = ["owner", "admin", "developer", "analyst"];
const exportsAction = (s: string, form: Record<string, string>, app = "app_x") =>
  run(() => exportsPage.action({ request: browserRequest(`/apps/${app}/exports`, { session: s, form }), params: { app }, context: h.context }));
const newExport = async (): Promise<string> => {
  const res = await exportsAction(sessions.get("owner") ?? "", { intent: "create", name: `Export ${++n}`, format: "csv", frequency: "hourly", destination: "r2" });
  expect(res.status).toBe(200);
  const all = await listSchedules(h.db, "app_x");
  return all[all.length - 1]?.id ?? "";
};

describe("export routes × role matrix", () => {
  roleMatrix(
    [
      { name: "GET /apps/:app/exports", allowed: ALL, okStatus: 200, call: (s) => run(() => exportsPage.loader({ request: browserRequest("/apps/app_x/exports", { session: s }), params: { app: "app_x" }, context: h.context })) },
      { name: "POST /apps/:app/exports (create)", allowed: EXPORTERS, okStatus: 200, call: (s) => exportsAction(s, { intent: "create", name: `Daily ${++n}`, format: "parquet", frequency: "daily", destination: "r2" }) },
      { name: "POST /apps/:app/exports (run now)", allowed: EXPORTERS, okStatus: 200, call: async (s) => exportsAction(s, { intent: "run", id: await newExport() }) },
      { name: "POST /apps/:app/exports (turn off)", allowed: EXPORTERS, okStatus: 200, call: async (s) => exportsAction(s, { intent: "disable", id: await newExport() }) },
      { name: "POST /apps/:app/exports (delete)", allowed: EXPORTERS, okStatus: 200, call: async (s) => exportsAction(s, { intent: "delete", id: await newExport() }) },
    ],
    sessions,
  );

  it("Run now writes the last hour's events of the app to its bucket and the page's run log says so; another organisation's app is 404", async () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const at = (ms: number) => new Date(ms).toISOString();
    await h.insertEvents(["a", "b"].map((id, i) => ({ app_id: "app_x", type: "track", event: "Signed Up", message_id: `exp-${id}`, anonymous_id: "anon", timestamp: at(hour + i * 60_000), received_at: at(hour + i * 60_000) })));
    const id = await newExport();
    const ran = await exportsAction(sessions.get("analyst") ?? "", { intent: "run", id });
    expect(await ran.json()).toMatchObject({ ok: expect.stringContaining("Exported 2 rows") });
    const [runLog] = await listRuns(h.db, "app_x", id);
    const file = await h.archive.get(runLog?.objectKey ?? "");
    expect((await file?.text())?.trim().split("\n")).toHaveLength(3);
    const shown = await (await run(() => exportsPage.loader({ request: browserRequest("/apps/app_x/exports", { session: sessions.get("viewer") }), params: { app: "app_x" }, context: h.context }))).json<{ canManage: boolean; exports: Array<{ schedule: { id: string }; runs: Array<{ status: string; rows: number }> }> }>();
    expect(shown.canManage).toBe(false);
    expect(shown.exports.find((e) => e.schedule.id === id)?.runs).toEqual([expect.objectContaining({ status: "ok", rows: 2 })]);

    const theirs = [
      await run(() => exportsPage.loader({ request: browserRequest("/apps/app_other/exports", { session: sessions.get("owner") }), params: { app: "app_other" }, context: h.context })),
      await exportsAction(sessions.get("owner") ?? "", { intent: "create", name: "Intruder", format: "csv", frequency: "daily", destination: "r2" }, "app_other"),
      await exportsAction(outsider, { intent: "run", id }),
    ];
    expect(theirs.map((r) => r.status)).toEqual([404, 404, 404]);
  });

  it("a view chosen with a pasted URL is exported as that view's CSV of the hour and listed with its query; a view may be Parquet too", async () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const at = (ms: number) => new Date(ms).toISOString();
    await h.insertEvents(["p1", "p2", "p3"].map((id, i) => ({ app_id: "app_x", type: "track", event: i < 2 ? "Viewed Plan" : "Other", message_id: `view-${id}`, anonymous_id: "anon", timestamp: at(hour + i * 60_000), received_at: at(hour + i * 60_000) })));
    const owner = sessions.get("owner") ?? "";
    const form = { intent: "create", name: "Plan views", source: "view", view: "events", query: "https://dash.test/apps/app_x/events?event=Viewed+Plan&range=7d", frequency: "hourly", destination: "r2" };
    expect((await exportsAction(owner, { ...form, format: "parquet" })).status).toBe(200);
    expect((await exportsAction(owner, { ...form, format: "csv" })).status).toBe(200);
    const id = (await listSchedules(h.db, "app_x")).at(-1)?.id ?? "";
    expect(await (await exportsAction(owner, { intent: "run", id })).json()).toMatchObject({ ok: expect.stringContaining("Exported 2 rows") });
    const [runLog] = await listRuns(h.db, "app_x", id);
    const lines = ((await (await h.archive.get(runLog?.objectKey ?? ""))?.text()) ?? "").trimEnd().split("\r\n");
    expect(lines[0]).toBe("timestamp,type,event,message_id,user_id,anonymous_id,session_id,platform,country,path,properties");
    expect(lines.slice(1).map((l) => l.split(",")[3])).toEqual(["view-p2", "view-p1"]);
    const shown = await (await run(() => exportsPage.loader({ request: browserRequest("/apps/app_x/exports", { session: owner }), params: { app: "app_x" }, context: h.context }))).json<{ exports: Array<{ schedule: { id: string; source: unknown } }> }>();
    expect(shown.exports.find((e) => e.schedule.id === id)?.schedule.source).toEqual({ kind: "view", view: "events", query: "event=Viewed+Plan&range=7d" });
  });
});
