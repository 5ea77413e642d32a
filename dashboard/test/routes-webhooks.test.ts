// Every webhook route × every role, against a real D1: only the roles that manage alerts
// (owner, admin, developer) see the organisation's endpoints (their URLs can be credentials) or
// change, test or resend anything; another organisation's endpoint is 404 for them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, recordAttempt, recordDelivery } from "../../workers/alerts/webhooks/store";
import { ROLES, type Role } from "../app/auth/permissions";
import { createApp } from "../app/db/apps.server";
import * as endpointPage from "../app/routes/org.webhooks.$endpoint";
import * as listPage from "../app/routes/org.webhooks._index";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { roleMatrix, type Case } from "./matrix";
import { newMember, newOrg } from "./orgs";

let h: Harness;
let orgId = "";
let otherEndpoint = "";
const sessions = new Map<Role, string>();
let n = 0;

beforeAll(async () => {
  h = await startHarness();
  const acme = await newOrg(h, "Acme");
  orgId = acme.orgId;
  sessions.set("owner", acme.owner.session);
  for (const role of ROLES.filter((r) => r !== "owner")) sessions.set(role, (await newMember(h, orgId, role, `${role}@example.com`)).session);
  await createApp(h.db, orgId, { id: "app_x", name: "X" });
  const other = await newOrg(h, "Other");
  await createApp(h.db, other.orgId, { id: "app_other", name: "Other's app" });
  otherEndpoint = await endpointIn(other.orgId);
}, 180_000);

afterAll(async () => h?.close());


const MANAGERS: readonly Role[] = ["owner", "admin", "developer"];

/** A new endpoint of `org` on this machine (the harness runs in development). */
async function endpointIn(org: string): Promise<string> {
  const made = await createEndpoint(h.db, org, { url: `http://127.0.0.1:9/hook-${++n}`, description: "matrix", format: "standard" }, { localMode: true });
  if (!made.ok) throw new Error(made.reason);
  return made.endpoint.id;
}

/** A failed delivery in a new endpoint of Acme's log. */
async function failedDelivery(): Promise<{ endpoint: string; delivery: string }> {
  const endpoint = await endpointIn(orgId);
  const delivery = `msg_matrix_${++n}`;
  await recordDelivery(h.db, orgId, { id: delivery, endpointId: endpoint, appId: "app_x", ruleId: null, eventType: "alert.test", payload: "{}" });
  await recordAttempt(h.db, orgId, delivery, { ok: false, status: 500, error: null, latencyMs: 5, excerpt: "" }, null);
  return { endpoint, delivery };
}

const show = (session: string, id: string, query = "") =>
  run(() => endpointPage.loader({ request: browserRequest(`/org/webhooks/${id}${query}`, { session }), params: { endpoint: id }, context: h.context }));
const act = (session: string, id: string, form: Record<string, string>) =>
  run(() => endpointPage.action({ request: browserRequest(`/org/webhooks/${id}`, { session, form }), params: { endpoint: id }, context: h.context }));
/** An intent posted to a new endpoint of Acme. */
const onFresh = (form: Record<string, string>) => async (session: string) => act(session, await endpointIn(orgId), form);

const CASES: Case[] = [
  { name: "GET /org/webhooks", allowed: MANAGERS, okStatus: 200, call: (s) => run(() => listPage.loader({ request: browserRequest("/org/webhooks", { session: s }), params: {}, context: h.context })) },
  {
    name: "create an endpoint",
    allowed: MANAGERS,
    okStatus: 200,
    call: (s) =>
      run(() =>
        listPage.action({
          request: browserRequest("/org/webhooks", { session: s, form: { intent: "create", url: `http://127.0.0.1:9/new-${++n}`, description: "", format: "standard" } }),
          params: {},
          context: h.context,
        }),
      ),
  },
  { name: "GET /org/webhooks/:endpoint", allowed: MANAGERS, okStatus: 200, call: async (s) => show(s, await endpointIn(orgId)) },
  { name: "GET /org/webhooks/:endpoint?app&before", allowed: MANAGERS, okStatus: 200, call: async (s) => show(s, await endpointIn(orgId), "?app=app_x&before=1_msg_x") },
  // Another organisation's endpoint: 404 for whoever may manage endpoints.
  { name: "GET /org/webhooks/:endpoint (another organisation's)", allowed: MANAGERS, okStatus: 404, call: (s) => show(s, otherEndpoint) },
  { name: "edit an endpoint", allowed: MANAGERS, okStatus: 200, call: onFresh({ intent: "update", url: "http://127.0.0.1:9/edited", description: "edited", format: "slack" }) },
  { name: "turn an endpoint off", allowed: MANAGERS, okStatus: 200, call: onFresh({ intent: "disable" }) },
  {
    name: "turn an endpoint on",
    allowed: MANAGERS,
    okStatus: 200,
    call: async (s) => {
      const id = await endpointIn(orgId);
      await act(sessions.get("owner") ?? "", id, { intent: "disable" });
      return act(s, id, { intent: "enable" });
    },
  },
  { name: "rotate an endpoint's secret", allowed: MANAGERS, okStatus: 200, call: onFresh({ intent: "rotate" }) },
  { name: "send a test", allowed: MANAGERS, okStatus: 200, call: onFresh({ intent: "test" }) },
  {
    name: "resend a delivery",
    allowed: MANAGERS,
    okStatus: 200,
    call: async (s) => {
      const { endpoint, delivery } = await failedDelivery();
      return act(s, endpoint, { intent: "resend", deliveryId: delivery });
    },
  },
  { name: "delete an endpoint", allowed: MANAGERS, okStatus: 302, call: onFresh({ intent: "delete" }) },
  ...(["update", "disable", "rotate", "test", "resend", "delete"] as const).map(
    (intent): Case => ({
      name: `${intent} another organisation's endpoint`,
      allowed: MANAGERS,
      okStatus: 404,
      call: (s) => act(s, otherEndpoint, { intent, url: "https://hooks.example.com/x", description: "", format: "standard", deliveryId: "msg_x" }),
    }),
  ),
];

describe("webhook route × role matrix", () => {
  roleMatrix(CASES, sessions);

  it("sends signed-out visitors to sign in", async () => {
    const res = await run(() => listPage.loader({ request: browserRequest("/org/webhooks"), params: {}, context: h.context }));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login?next=%2Forg%2Fwebhooks");
  });
});
