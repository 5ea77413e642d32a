// The feature flags and remote config pages × every role, against a real D1: everyone may read
// the flags and the configuration and try a user out, those who manage flags may change them,
// and another organisation's app and its flags stay invisible.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import { appFlags } from "../app/db/flags.server";
import * as configPage from "../app/routes/apps.$app.config";
import * as list from "../app/routes/apps.$app.flags._index";
import * as page from "../app/routes/apps.$app.flags.$key";
import { booleanFlag } from "../../schemas/flags";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { matrixWorld, roleMatrix, type Case } from "./matrix";
import { newOrg } from "./orgs";

let h: Harness;
const sessions = new Map<Role, string>();
let outsider = "";
let n = 0;

const ALL = ROLES;
const MANAGERS: readonly Role[] = ["owner", "admin", "developer"];

/** A new flag of `app` (app_x unless said), made as its organisation's owner would. */
async function newFlag(orgId: string, app = "app_x"): Promise<{ key: string; version: number }> {
  const flags = await appFlags(h.db, orgId, app);
  const key = `flag-${++n}`;
  const saved = await flags?.save(booleanFlag(key, `Flag ${n}`), { by: "owner@example.com" });
  if (saved?.status !== "saved") throw new Error("flag not saved");
  return { key, version: saved.version };
}

let orgId = "";
let theirs = "";

beforeAll(async () => {
  h = await startHarness();
  const world = await matrixWorld(h);
  orgId = world.orgId;
  for (const [role, session] of world.sessions) sessions.set(role, session);
  theirs = (await newFlag(world.otherOrgId, "app_other")).key;
  outsider = (await newOrg(h, "Outsiders")).owner.session;
}, 180_000);

afterAll(async () => h?.close());

const listAction = (s: string, form: Record<string, string>, app = "app_x") =>
  run(() => list.action({ request: browserRequest(`/apps/${app}/flags`, { session: s, form }), params: { app }, context: h.context }));
const flagAction = (s: string, key: string, form: Record<string, string>, app = "app_x") =>
  run(() => page.action({ request: browserRequest(`/apps/${app}/flags/${key}`, { session: s, form }), params: { app, key }, context: h.context }));
const configAction = (s: string, form: Record<string, string>, app = "app_x") =>
  run(() => configPage.action({ request: browserRequest(`/apps/${app}/config`, { session: s, form }), params: { app }, context: h.context }));
const flagLoader = (s: string, key: string, app = "app_x") => run(() => page.loader({ request: browserRequest(`/apps/${app}/flags/${key}`, { session: s }), params: { app, key }, context: h.context }));

const CASES: Case[] = [
  { name: "GET /apps/:app/flags", allowed: ALL, okStatus: 200, call: (s) => run(() => list.loader({ request: browserRequest("/apps/app_x/flags", { session: s }), params: { app: "app_x" }, context: h.context })) },
  { name: "GET /apps/:app/flags/:key", allowed: ALL, okStatus: 200, call: async (s) => flagLoader(s, (await newFlag(orgId)).key) },
  // Another organisation's flag key under our app: 404 for whoever may read.
  { name: "GET /apps/:app/flags/:key (another organisation's)", allowed: ALL, okStatus: 404, call: (s) => flagLoader(s, theirs) },
  { name: "GET /apps/:app/config", allowed: ALL, okStatus: 200, call: (s) => run(() => configPage.loader({ request: browserRequest("/apps/app_x/config", { session: s }), params: { app: "app_x" }, context: h.context })) },
  { name: "POST /apps/:app/flags (create)", allowed: MANAGERS, okStatus: 200, call: (s) => listAction(s, { intent: "create", key: `made-${++n}`, name: "Made", kind: "boolean" }) },
  {
    name: "POST /apps/:app/flags (kill switch)",
    allowed: MANAGERS,
    okStatus: 200,
    call: async (s) => {
      const f = await newFlag(orgId);
      return listAction(s, { intent: "toggle", key: f.key, enabled: "false", version: String(f.version) });
    },
  },
  {
    name: "POST /apps/:app/flags/:key (save)",
    allowed: MANAGERS,
    okStatus: 200,
    call: async (s) => {
      const f = await newFlag(orgId);
      return flagAction(s, f.key, { intent: "save", flag: JSON.stringify(booleanFlag(f.key, "Renamed")), version: String(f.version) });
    },
  },
  { name: "POST /apps/:app/flags/:key (restore)", allowed: MANAGERS, okStatus: 200, call: async (s) => flagAction(s, (await newFlag(orgId)).key, { intent: "rollback", to: "1" }) },
  { name: "POST /apps/:app/flags/:key (delete)", allowed: MANAGERS, okStatus: 302, call: async (s) => flagAction(s, (await newFlag(orgId)).key, { intent: "delete" }) },
  { name: "POST /apps/:app/flags/:key (test a user)", allowed: ALL, okStatus: 200, call: async (s) => flagAction(s, (await newFlag(orgId)).key, { intent: "test", userId: "u1", traits: "" }) },
  { name: "POST /apps/:app/config (save)", allowed: MANAGERS, okStatus: 200, call: (s) => configSaved(s) },
];

/** A configuration save over whatever version is current now (the matrix's saves follow one another). */
async function configSaved(s: string): Promise<Response> {
  const flags = await appFlags(h.db, orgId, "app_x");
  const version = (await flags?.config())?.version ?? 0;
  return configAction(s, { intent: "save", config: `{"n": ${++n}}`, schema: "", note: "", version: String(version) });
}

describe("flag routes × role matrix", () => {
  roleMatrix(CASES, sessions);
});

describe("organisation boundaries", () => {
  it("hides another organisation's app, its flags and its configuration: 404 on every read and write", async () => {
    const owner = sessions.get("owner") ?? "";
    const responses = [
      await run(() => list.loader({ request: browserRequest("/apps/app_other/flags", { session: owner }), params: { app: "app_other" }, context: h.context })),
      await flagLoader(owner, theirs, "app_other"),
      await run(() => configPage.loader({ request: browserRequest("/apps/app_other/config", { session: owner }), params: { app: "app_other" }, context: h.context })),
      await listAction(owner, { intent: "create", key: "intruder", name: "Intruder", kind: "boolean" }, "app_other"),
      await listAction(owner, { intent: "toggle", key: theirs, enabled: "false", version: "1" }, "app_other"),
      await flagAction(owner, theirs, { intent: "save", flag: JSON.stringify(booleanFlag(theirs, "Mine now")), version: "1" }, "app_other"),
      await flagAction(owner, theirs, { intent: "delete" }, "app_other"),
      await flagAction(owner, theirs, { intent: "test", userId: "u1" }, "app_other"),
      await configAction(owner, { intent: "save", config: "{}", schema: "", version: "0" }, "app_other"),
      // Someone of yet another organisation, on our app.
      await run(() => list.loader({ request: browserRequest("/apps/app_x/flags", { session: outsider }), params: { app: "app_x" }, context: h.context })),
      await configAction(outsider, { intent: "save", config: "{}", schema: "", version: "0" }),
    ];
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 404));
  });
});
