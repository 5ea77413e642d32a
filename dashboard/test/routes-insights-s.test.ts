// Saved insights and dashboards × every role, against a real D1 and ClickHouse: everyone reads
// and refreshes, owners, admins, developers and analysts save insights and change dashboards,
// and another organisation's dashboards and insights are 404 to all.
import { afterAll, beforeAll, describe } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import { createDashboard, createSavedInsight } from "../app/db/insights.server";
import * as listPage from "../app/routes/dashboards._index";
import * as dashPage from "../app/routes/dashboards.$id";
import * as insightPage from "../app/routes/dashboards.insights.$id";
import * as save from "../app/routes/insights.save";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { matrixWorld, roleMatrix, type Case } from "./matrix";

let h: Harness;
let orgId = "";
let board = "";
let kept = "";
let theirBoard = "";
let theirInsight = "";
const sessions = new Map<Role, string>();
let n = 0;

const ALL = ROLES;
const EDITORS: readonly Role[] = ["owner", "admin", "developer", "analyst"];

async function newInsight(org = orgId, app = "app_x"): Promise<string> {
  const made = await createSavedInsight(h.db, org, { type: "trends", appId: app, name: `Insight ${++n}`, description: "", query: "range=7d" }, "test");
  if (!made.ok) throw new Error(made.reason);
  return made.value.id;
}
async function newDashboard(org = orgId): Promise<string> {
  const made = await createDashboard(h.db, org, { name: `Board ${++n}`, description: "" }, "test");
  if (!made.ok) throw new Error(made.reason);
  return made.value.id;
}

beforeAll(async () => {
  h = await startHarness();
  const world = await matrixWorld(h);
  orgId = world.orgId;
  for (const [role, session] of world.sessions) sessions.set(role, session);
  board = await newDashboard();
  kept = await newInsight();
  theirBoard = await newDashboard(world.otherOrgId);
  theirInsight = await newInsight(world.otherOrgId, "app_other");
}, 180_000);

afterAll(async () => h?.close());

const get = (mod: typeof dashPage | typeof insightPage, path: string, id: string) => (s: string) =>
  run(() => mod.loader({ request: browserRequest(path, { session: s }), params: { id }, context: h.context }));
const onBoard = (s: string, id: string, form: Record<string, string>) =>
  run(() => dashPage.action({ request: browserRequest(`/dashboards/${id}`, { session: s, form }), params: { id }, context: h.context }));
const onInsight = (s: string, id: string, form: Record<string, string>) =>
  run(() => insightPage.action({ request: browserRequest(`/dashboards/insights/${id}`, { session: s, form }), params: { id }, context: h.context }));

const CASES: Case[] = [
  { name: "GET /dashboards", allowed: ALL, okStatus: 200, call: (s) => run(() => listPage.loader({ request: browserRequest("/dashboards", { session: s }), params: {}, context: h.context })) },
  {
    name: "POST /dashboards (create)",
    allowed: EDITORS,
    okStatus: 302,
    call: (s) => run(() => listPage.action({ request: browserRequest("/dashboards", { session: s, form: { intent: "create", name: `New ${++n}`, description: "" } }), params: {}, context: h.context })),
  },
  { name: "GET /dashboards/:id", allowed: ALL, okStatus: 200, call: (s) => get(dashPage, `/dashboards/${board}`, board)(s) },
  { name: "GET /dashboards/:id (another organisation's)", allowed: ALL, okStatus: 404, call: (s) => get(dashPage, `/dashboards/${theirBoard}`, theirBoard)(s) },
  { name: "POST /dashboards/:id (refresh)", allowed: ALL, okStatus: 302, call: (s) => onBoard(s, board, { intent: "refresh" }) },
  { name: "POST /dashboards/:id (add a card)", allowed: EDITORS, okStatus: 302, call: async (s) => onBoard(s, board, { intent: "add", insightId: await newInsight() }) },
  { name: "POST /dashboards/:id (rename)", allowed: EDITORS, okStatus: 302, call: (s) => onBoard(s, board, { intent: "rename", name: `Renamed ${++n}`, description: "" }) },
  { name: "POST /dashboards/:id (keep range and filters)", allowed: EDITORS, okStatus: 302, call: (s) => onBoard(s, board, { intent: "save-scope" }) },
  { name: "POST /dashboards/:id (delete)", allowed: EDITORS, okStatus: 302, call: async (s) => onBoard(s, await newDashboard(), { intent: "delete" }) },
  { name: "POST /dashboards/:id (another organisation's, delete)", allowed: EDITORS, okStatus: 404, call: (s) => onBoard(s, theirBoard, { intent: "delete" }) },
  { name: "GET /dashboards/insights/:id", allowed: ALL, okStatus: 200, call: (s) => get(insightPage, `/dashboards/insights/${kept}`, kept)(s) },
  { name: "GET /dashboards/insights/:id (another organisation's)", allowed: ALL, okStatus: 404, call: (s) => get(insightPage, `/dashboards/insights/${theirInsight}`, theirInsight)(s) },
  { name: "POST /dashboards/insights/:id (rename)", allowed: EDITORS, okStatus: 200, call: (s) => onInsight(s, kept, { intent: "update", name: `Kept ${++n}`, description: "" }) },
  { name: "POST /dashboards/insights/:id (delete)", allowed: EDITORS, okStatus: 302, call: async (s) => onInsight(s, await newInsight(), { intent: "delete" }) },
  {
    name: "POST /insights/save (update in place)",
    allowed: EDITORS,
    okStatus: 200,
    call: async (s) => {
      const id = await newInsight();
      return run(() =>
        save.action({
          request: browserRequest("/insights/save", { session: s, form: { intent: "replace", insightId: id, type: "trends", appId: "app_x", query: "range=30d" } }),
          params: {},
          context: h.context,
        }),
      );
    },
  },
  {
    name: "POST /insights/save",
    allowed: EDITORS,
    okStatus: 200,
    call: (s) =>
      run(() =>
        save.action({
          request: browserRequest("/insights/save", { session: s, form: { intent: "save", type: "trends", appId: "app_x", name: `Saved ${++n}`, description: "", query: "range=24h" } }),
          params: {},
          context: h.context,
        }),
      ),
  },
];

describe("saved insight and dashboard routes × role matrix", () => {
  roleMatrix(CASES, sessions);
});
