// Every route × every role, against a real D1 and ClickHouse: who may read and who may change
// what, that apps of other organisations stay invisible, and what the overview shows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../app/auth/permissions";
import { createApp, createKey, listKeys } from "../app/db/apps.server";
import { createInvitation } from "../app/db/invitations.server";
import * as overview from "../app/routes/apps.$app._index";
import * as crashIssue from "../app/routes/apps.$app.crashes.$issue";
import * as crashList from "../app/routes/apps.$app.crashes._index";
import * as crashRules from "../app/routes/apps.$app.crashes.rules";
import * as crashesCsv from "../app/routes/apps.$app.crashes[.csv]";
import * as eventDetail from "../app/routes/apps.$app.events.$event";
import * as events from "../app/routes/apps.$app.events._index";
import * as eventsCsv from "../app/routes/apps.$app.events[.csv]";
import * as overviewCsv from "../app/routes/apps.$app.overview[.csv]";
import * as networkEndpoint from "../app/routes/apps.$app.network.$endpoint";
import * as networkList from "../app/routes/apps.$app.network._index";
import * as networkTemplates from "../app/routes/apps.$app.network.templates";
import * as networkCsv from "../app/routes/apps.$app.network[.csv]";
import * as perfMetric from "../app/routes/apps.$app.performance.$metric";
import * as perfOverview from "../app/routes/apps.$app.performance._index";
import * as perfCsv from "../app/routes/apps.$app.performance[.csv]";
import * as pipeline from "../app/routes/apps.$app.pipeline";
import * as pipelineCsv from "../app/routes/apps.$app.pipeline[.csv]";
import * as releases from "../app/routes/apps.$app.releases";
import * as releasesCsv from "../app/routes/apps.$app.releases[.csv]";
import * as sessionDetail from "../app/routes/apps.$app.sessions.$session";
import * as sessionEventsCsv from "../app/routes/apps.$app.sessions.$session.events[.csv]";
import * as sessionList from "../app/routes/apps.$app.sessions._index";
import * as sessionsCsv from "../app/routes/apps.$app.sessions[.csv]";
import * as settings from "../app/routes/apps.$app.settings";
import * as userPage from "../app/routes/apps.$app.users.$user";
import * as journeyCsv from "../app/routes/apps.$app.users.$user.journey[.csv]";
import * as userList from "../app/routes/apps.$app.users._index";
import * as usersCsv from "../app/routes/apps.$app.users[.csv]";
import * as apps from "../app/routes/apps._index";
import * as invitePage from "../app/routes/invite.$token";
import * as logout from "../app/routes/logout";
import * as membersPage from "../app/routes/org.members";
import * as orgNew from "../app/routes/org.new";
import * as orgSettings from "../app/routes/org.settings";
import * as orgSwitch from "../app/routes/org.switch";
import { encodeEndpoint } from "../app/queries/network-filters";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { roleMatrix, type Case } from "./matrix";
import { join, newMember, newOrg, type Person } from "./orgs";

let h: Harness;
let orgId = "";
let ownerId = "";
const people = new Map<Role, Person>();
const sessions = new Map<Role, string>();
let outsider = "";
let n = 0;
const fresh = (): string => `app_t${++n}`;

// Acme has one member of each role, and Other an owner of its own: both made through the
// product (organisation form, invitations), as are the organisations the cases below join.
beforeAll(async () => {
  h = await startHarness();
  const acme = await newOrg(h, "Acme");
  orgId = acme.orgId;
  ownerId = acme.owner.id;
  people.set("owner", acme.owner);
  for (const role of ROLES.filter((r) => r !== "owner")) people.set(role, await newMember(h, orgId, role, `${role}@example.com`));
  for (const [role, person] of people) sessions.set(role, person.session);
  const other = await newOrg(h, "Other");
  outsider = other.owner.session;
  await createApp(h.db, other.orgId, { id: "app_other", name: "Other's app" });
  await createApp(h.db, orgId, { id: "app_x", name: "X" });
  const now = new Date().toISOString();
  await h.insertEvents([
    { app_id: "app_other", type: "track", event: "Secret", message_id: "m1", anonymous_id: "z", timestamp: now, received_at: now },
    { app_id: "app_x", type: "page", path: "/", message_id: "mx", anonymous_id: "u-x", session_id: "s-x", timestamp: now, received_at: now },
    { app_id: "app_x", type: "crash", crash_type: "TypeError", crash_message: "x", crash_fingerprint: "fp-x", message_id: "cx", anonymous_id: "u-x", session_id: "s-x", timestamp: now, received_at: now },
    { app_id: "app_other", type: "crash", crash_type: "Error", crash_message: "secret", crash_fingerprint: "fp-other", message_id: "co", anonymous_id: "z", timestamp: now, received_at: now },
    { app_id: "app_x", type: "perf", event: "LCP", perf_metric: "LCP", perf_value: 1800, perf_unit: "ms", path: "/", message_id: "px", anonymous_id: "u-x", timestamp: now, received_at: now },
    { app_id: "app_other", type: "perf", event: "Secret metric", perf_metric: "Secret metric", perf_value: 1, perf_unit: "ms", message_id: "po", anonymous_id: "z", timestamp: now, received_at: now },
    { app_id: "app_x", type: "network", event: "GET", net_method: "GET", net_host: "api.x.test", net_path: "/a/1", net_template: "/a/:id", net_status: 500, net_outcome: "server_error", duration_ms: 90, message_id: "nx", anonymous_id: "u-x", timestamp: now, received_at: now },
    { app_id: "app_other", type: "network", event: "GET", net_method: "GET", net_host: "secret.test", net_path: "/s", net_template: "/s", net_status: 200, net_outcome: "ok", duration_ms: 9, message_id: "no", anonymous_id: "z", timestamp: now, received_at: now },
  ]);
}, 180_000);

afterAll(async () => h?.close());


const ALL = ROLES;
const WRITERS: readonly Role[] = ["owner", "admin", "developer"];

async function settingsAction(session: string, form: Record<string, string>, app?: string): Promise<Response> {
  const id = app ?? fresh();
  if (!app) await createApp(h.db, orgId, { id, name: "Matrix" });
  return run(() => settings.action({ request: browserRequest(`/apps/${id}/settings`, { session, form }), params: { app: id }, context: h.context }));
}

const MANAGERS: readonly Role[] = ["owner", "admin"];

const membersAction = (session: string, form: Record<string, string>) =>
  run(() => membersPage.action({ request: browserRequest("/org/members", { session, form }), params: {}, context: h.context }));

/** A new viewer in Acme, for a role change or removal to act on. */
const target = async (): Promise<string> => (await newMember(h, orgId, "viewer")).id;

const personOf = (session: string): Person => {
  const found = [...people.values()].find((p) => p.session === session);
  if (!found) throw new Error("no such person");
  return found;
};

/** A new organisation with another owner, which the session's user joins by invitation. */
async function secondOrg(session: string): Promise<string> {
  const second = await newOrg(h, `Second ${++n}`);
  await join(h, second.orgId, personOf(session), "viewer");
  return second.orgId;
}

type Loader = (args: { request: Request; params: Record<string, string>; context: typeof h.context }) => Promise<unknown>;

/** A GET of an app-scoped view or export of app_x, or of a user or session the app has. */
function read(name: string, loader: Loader, path: string, params: Record<string, string>, allowed: readonly Role[], okStatus = 200): Case {
  return { name, allowed, okStatus, call: (s) => run(() => loader({ request: browserRequest(path, { session: s }), params: { app: "app_x", ...params }, context: h.context })) };
}

const EXPORTERS: readonly Role[] = ["owner", "admin", "developer", "analyst"];
const xEndpoint = encodeEndpoint({ method: "GET", host: "api.x.test", template: "/a/:id" });

const CASES: Case[] = [
  { name: "GET /apps", allowed: ALL, okStatus: 200, call: (s) => run(() => apps.loader({ request: browserRequest("/apps", { session: s }), params: {}, context: h.context })) },
  {
    name: "POST /apps (create app)",
    allowed: WRITERS,
    okStatus: 302,
    call: (s) => run(() => apps.action({ request: browserRequest("/apps", { session: s, form: { id: fresh(), name: "New" } }), params: {}, context: h.context })),
  },
  {
    name: "GET /apps/:app (overview)",
    allowed: ALL,
    okStatus: 200,
    call: (s) => run(() => overview.loader({ request: browserRequest("/apps/app_x?range=24h", { session: s }), params: { app: "app_x" }, context: h.context })),
  },
  {
    name: "GET /apps/:app/events",
    allowed: ALL,
    okStatus: 200,
    call: (s) => run(() => events.loader({ request: browserRequest("/apps/app_x/events?range=24h&prop=plan:pro", { session: s }), params: { app: "app_x" }, context: h.context })),
  },
  {
    // The event exists only in another organisation's app: 404 for whoever may read.
    name: "GET /apps/:app/events/:event (absent)",
    allowed: ALL,
    okStatus: 404,
    call: (s) => run(() => eventDetail.loader({ request: browserRequest("/apps/app_x/events/m1", { session: s }), params: { app: "app_x", event: "m1" }, context: h.context })),
  },
  {
    name: "GET /apps/:app/events.csv",
    allowed: ["owner", "admin", "developer", "analyst"],
    okStatus: 200,
    call: (s) => run(() => eventsCsv.loader({ request: browserRequest("/apps/app_x/events.csv?range=24h", { session: s }), params: { app: "app_x" }, context: h.context })),
  },
  read("GET /apps/:app/overview.csv", overviewCsv.loader, "/apps/app_x/overview.csv?range=24h", {}, EXPORTERS),
  read("GET /apps/:app/users", userList.loader, "/apps/app_x/users?range=24h&q=x", {}, ALL),
  read("GET /apps/:app/users/:user", userPage.loader, "/apps/app_x/users/u-x?range=24h", { user: "u-x" }, ALL),
  read("GET /apps/:app/users.csv", usersCsv.loader, "/apps/app_x/users.csv?range=24h", {}, EXPORTERS),
  read("GET /apps/:app/users/:user/journey.csv", journeyCsv.loader, "/apps/app_x/users/u-x/journey.csv", { user: "u-x" }, EXPORTERS),
  read("GET /apps/:app/sessions", sessionList.loader, "/apps/app_x/sessions?range=24h&bounced=1", {}, ALL),
  read("GET /apps/:app/sessions/:session", sessionDetail.loader, "/apps/app_x/sessions/s-x", { session: "s-x" }, ALL),
  read("GET /apps/:app/sessions.csv", sessionsCsv.loader, "/apps/app_x/sessions.csv?range=24h", {}, EXPORTERS),
  read("GET /apps/:app/sessions/:session/events.csv", sessionEventsCsv.loader, "/apps/app_x/sessions/s-x/events.csv", { session: "s-x" }, EXPORTERS),
  read("GET /apps/:app/crashes", crashList.loader, "/apps/app_x/crashes?range=24h&sort=users&status=all&q=x", {}, ALL),
  read("GET /apps/:app/crashes.csv", crashesCsv.loader, "/apps/app_x/crashes.csv?range=24h", {}, EXPORTERS),
  read("GET /apps/:app/crashes/:issue", crashIssue.loader, "/apps/app_x/crashes/fp-x?range=24h", { issue: "fp-x" }, ALL),
  // Another organisation's issue: 404 for whoever may read.
  read("GET /apps/:app/crashes/:issue (absent)", crashIssue.loader, "/apps/app_x/crashes/fp-other", { issue: "fp-other" }, ALL, 404),
  {
    name: "change a crash issue's state",
    allowed: WRITERS,
    okStatus: 200,
    call: (s) =>
      run(() =>
        crashIssue.action({ request: browserRequest("/apps/app_x/crashes/fp-x", { session: s, form: { intent: "resolve" } }), params: { app: "app_x", issue: "fp-x" }, context: h.context }),
      ),
  },
  read("GET /apps/:app/crashes/rules", crashRules.loader, "/apps/app_x/crashes/rules", {}, ALL),
  {
    name: "add a crash grouping rule",
    allowed: WRITERS,
    okStatus: 200,
    call: (s) =>
      run(() =>
        crashRules.action({
          request: browserRequest("/apps/app_x/crashes/rules", { session: s, form: { intent: "add", action: "merge", type: `E${++n}`, message: "", module: "", label: "" } }),
          params: { app: "app_x" },
          context: h.context,
        }),
      ),
  },
  read("GET /apps/:app/performance", perfOverview.loader, "/apps/app_x/performance?range=24h", {}, ALL),
  read("GET /apps/:app/performance/:metric", perfMetric.loader, "/apps/app_x/performance/LCP?range=24h", { metric: "LCP" }, ALL),
  read("GET /apps/:app/performance/:metric (another app's)", perfMetric.loader, "/apps/app_x/performance/Secret%20metric?range=24h", { metric: "Secret metric" }, ALL, 404),
  read("GET /apps/:app/performance.csv", perfCsv.loader, "/apps/app_x/performance.csv?range=24h", {}, EXPORTERS),
  read("GET /apps/:app/network", networkList.loader, "/apps/app_x/network?range=24h", {}, ALL),
  read("GET /apps/:app/network.csv", networkCsv.loader, "/apps/app_x/network.csv?range=24h", {}, EXPORTERS),
  read("GET /apps/:app/network/:endpoint", networkEndpoint.loader, `/apps/app_x/network/${xEndpoint}?range=24h`, { endpoint: xEndpoint }, ALL),
  read("GET /apps/:app/network/templates", networkTemplates.loader, "/apps/app_x/network/templates", {}, ALL),
  {
    name: "save the app's URL templates",
    allowed: WRITERS,
    okStatus: 200,
    call: (s) =>
      run(() =>
        networkTemplates.action({
          request: browserRequest("/apps/app_x/network/templates", { session: s, form: { intent: "save", templates: `/a/:id\n/b/${++n}/**` } }),
          params: { app: "app_x" },
          context: h.context,
        }),
      ),
  },
  read("GET /apps/:app/releases", releases.loader, "/apps/app_x/releases?range=24h", {}, ALL),
  read("GET /apps/:app/releases.csv", releasesCsv.loader, "/apps/app_x/releases.csv?range=24h", {}, EXPORTERS),
  read("GET /apps/:app/pipeline", pipeline.loader, "/apps/app_x/pipeline?range=24h", {}, ALL),
  read("GET /apps/:app/pipeline.csv", pipelineCsv.loader, "/apps/app_x/pipeline.csv?range=24h", {}, EXPORTERS),
  {
    name: "GET /apps/:app/settings",
    allowed: ALL,
    okStatus: 200,
    call: (s) => run(() => settings.loader({ request: browserRequest("/apps/app_x/settings", { session: s }), params: { app: "app_x" }, context: h.context })),
  },
  { name: "rename app", allowed: WRITERS, okStatus: 200, call: (s) => settingsAction(s, { intent: "rename", name: "Renamed" }) },
  {
    name: "save settings",
    allowed: WRITERS,
    okStatus: 200,
    call: (s) => settingsAction(s, { intent: "settings", rateLimit: "100", shardCount: "2", retentionDays: "30", redactionPolicy: '{"action":"hash","ip":"drop"}' }),
  },
  { name: "create key", allowed: WRITERS, okStatus: 200, call: (s) => settingsAction(s, { intent: "create-key", name: "web" }) },
  {
    name: "revoke key",
    allowed: WRITERS,
    okStatus: 200,
    call: async (s) => {
      const key = await createKey(h.db, orgId, "app_x", "to revoke");
      return settingsAction(s, { intent: "revoke-key", keyId: key?.id ?? "" }, "app_x");
    },
  },
  {
    name: "delete app",
    allowed: ["owner", "admin"],
    okStatus: 302,
    call: async (s) => {
      const id = fresh();
      await createApp(h.db, orgId, { id, name: "Doomed" });
      return settingsAction(s, { intent: "delete", confirm: id }, id);
    },
  },
  { name: "GET /org/members", allowed: ALL, okStatus: 200, call: (s) => run(() => membersPage.loader({ request: browserRequest("/org/members", { session: s }), params: {}, context: h.context })) },
  { name: "invite a member", allowed: MANAGERS, okStatus: 200, call: (s) => membersAction(s, { intent: "invite", email: `invitee${++n}@example.com`, role: "viewer" }) },
  {
    name: "revoke an invitation",
    allowed: MANAGERS,
    okStatus: 200,
    call: async (s) => {
      const email = `revoked${++n}@example.com`;
      await createInvitation(h.db, orgId, { email, role: "viewer", invitedBy: ownerId });
      const row = await h.db.prepare("SELECT id FROM invitations WHERE org_id = ? AND email = ?").bind(orgId, email).first<{ id: string }>();
      return membersAction(s, { intent: "revoke-invitation", invitationId: row?.id ?? "" });
    },
  },
  { name: "change a member's role", allowed: MANAGERS, okStatus: 200, call: async (s) => membersAction(s, { intent: "role", userId: await target(), role: "analyst" }) },
  { name: "remove a member", allowed: MANAGERS, okStatus: 200, call: async (s) => membersAction(s, { intent: "remove", userId: await target() }) },
  { name: "GET /org/settings", allowed: ALL, okStatus: 200, call: (s) => run(() => orgSettings.loader({ request: browserRequest("/org/settings", { session: s }), params: {}, context: h.context })) },
  {
    name: "rename the organisation",
    allowed: ["owner"],
    okStatus: 200,
    call: (s) => run(() => orgSettings.action({ request: browserRequest("/org/settings", { session: s, form: { intent: "rename", name: "Acme" } }), params: {}, context: h.context })),
  },
  {
    // In a second organisation, chosen by the org cookie, so the role stays in Acme.
    name: "leave an organisation",
    allowed: ALL,
    okStatus: 302,
    call: async (s) => {
      const second = await secondOrg(s);
      return run(() =>
        orgSettings.action({ request: browserRequest("/org/settings", { session: s, cookie: `__org=${second}`, form: { intent: "leave" } }), params: {}, context: h.context }),
      );
    },
  },
  {
    // Anyone signed in may start an organisation; the new one does not change their role here.
    name: "POST /org/new (create an organisation)",
    allowed: ALL,
    okStatus: 302,
    call: (s) => run(() => orgNew.action({ request: browserRequest("/org/new", { session: s, form: { name: `Own ${++n}` } }), params: {}, context: h.context })),
  },
  {
    name: "POST /org/switch",
    allowed: ALL,
    okStatus: 302,
    call: (s) => run(() => orgSwitch.action({ request: browserRequest("/org/switch", { session: s, form: { org: orgId } }), params: {}, context: h.context })),
  },
  {
    // Anyone holding a link may open it; here it is someone else's.
    name: "GET /invite/:token",
    allowed: ALL,
    okStatus: 200,
    call: async (s) => {
      const { token } = await createInvitation(h.db, orgId, { email: `someone${++n}@example.com`, role: "viewer", invitedBy: ownerId });
      return run(() => invitePage.loader({ request: browserRequest(`/invite/${token}`, { session: s }), params: { token }, context: h.context }));
    },
  },
  {
    name: "accept an invitation",
    allowed: ALL,
    okStatus: 302,
    call: async (s) => {
      const inviting = await newOrg(h, `Inviting ${++n}`);
      const { token } = await createInvitation(h.db, inviting.orgId, { email: personOf(s).email, role: "viewer", invitedBy: inviting.owner.id });
      return run(() => invitePage.action({ request: browserRequest(`/invite/${token}`, { session: s, form: { intent: "join" } }), params: { token }, context: h.context }));
    },
  },
  // Last: signing out voids the role's session.
  {
    name: "POST /logout",
    allowed: ALL,
    okStatus: 302,
    call: (s) => run(() => logout.action({ request: browserRequest("/logout", { session: s, form: {} }), params: {}, context: h.context })),
  },
];

describe("route × role matrix", () => {
  roleMatrix(CASES, sessions);

  it("signed-out sessions and strangers are sent to sign in", async () => {
    for (const session of [sessions.get("viewer"), undefined]) {
      const res = await run(() => apps.loader({ request: browserRequest("/apps", { session }), params: {}, context: h.context }));
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe("/login?next=%2Fapps");
    }
  });
});

describe("organisation boundaries", () => {
  it("hides other organisations' apps: 404 on read and on write, absent from the list", async () => {
    const read = await run(() => overview.loader({ request: browserRequest("/apps/app_x", { session: outsider }), params: { app: "app_x" }, context: h.context }));
    expect(read.status).toBe(404);
    for (const call of [
      () => events.loader({ request: browserRequest("/apps/app_x/events", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => eventsCsv.loader({ request: browserRequest("/apps/app_x/events.csv", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => userList.loader({ request: browserRequest("/apps/app_x/users", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => userPage.loader({ request: browserRequest("/apps/app_x/users/u-x", { session: outsider }), params: { app: "app_x", user: "u-x" }, context: h.context }),
      () => sessionList.loader({ request: browserRequest("/apps/app_x/sessions", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => sessionDetail.loader({ request: browserRequest("/apps/app_x/sessions/s-x", { session: outsider }), params: { app: "app_x", session: "s-x" }, context: h.context }),
      () => sessionsCsv.loader({ request: browserRequest("/apps/app_x/sessions.csv", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => pipeline.loader({ request: browserRequest("/apps/app_x/pipeline", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => pipelineCsv.loader({ request: browserRequest("/apps/app_x/pipeline.csv", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => crashList.loader({ request: browserRequest("/apps/app_x/crashes", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => crashesCsv.loader({ request: browserRequest("/apps/app_x/crashes.csv", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => crashIssue.loader({ request: browserRequest("/apps/app_x/crashes/fp-x", { session: outsider }), params: { app: "app_x", issue: "fp-x" }, context: h.context }),
      () => crashRules.loader({ request: browserRequest("/apps/app_x/crashes/rules", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => releases.loader({ request: browserRequest("/apps/app_x/releases", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => releasesCsv.loader({ request: browserRequest("/apps/app_x/releases.csv", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => perfOverview.loader({ request: browserRequest("/apps/app_x/performance", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => perfMetric.loader({ request: browserRequest("/apps/app_x/performance/LCP", { session: outsider }), params: { app: "app_x", metric: "LCP" }, context: h.context }),
      () => perfCsv.loader({ request: browserRequest("/apps/app_x/performance.csv", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => networkList.loader({ request: browserRequest("/apps/app_x/network", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => networkCsv.loader({ request: browserRequest("/apps/app_x/network.csv", { session: outsider }), params: { app: "app_x" }, context: h.context }),
      () => networkEndpoint.loader({ request: browserRequest(`/apps/app_x/network/${xEndpoint}`, { session: outsider }), params: { app: "app_x", endpoint: xEndpoint }, context: h.context }),
      () => networkTemplates.loader({ request: browserRequest("/apps/app_x/network/templates", { session: outsider }), params: { app: "app_x" }, context: h.context }),
    ]) {
      expect((await run(call)).status).toBe(404);
    }
    const write = await run(() =>
      settings.action({
        request: browserRequest("/apps/app_x/settings", { session: outsider, form: { intent: "create-key", name: "steal" } }),
        params: { app: "app_x" },
        context: h.context,
      }),
    );
    expect(write.status).toBe(404);
    const resolve = await run(() =>
      crashIssue.action({
        request: browserRequest("/apps/app_x/crashes/fp-x", { session: outsider, form: { intent: "resolve" } }),
        params: { app: "app_x", issue: "fp-x" },
        context: h.context,
      }),
    );
    expect(resolve.status).toBe(404);
    const list = (await (await run(() => apps.loader({ request: browserRequest("/apps", { session: outsider }), params: {}, context: h.context }))).json()) as {
      apps: Array<{ id: string }>;
    };
    expect(list.apps.map((a) => a.id)).toEqual(["app_other"]);
  });

  it("refuses a write without the CSRF token even from an allowed role", async () => {
    // Acme's members signed out at the end of the matrix: an organisation of its own.
    const { orgId: own, owner } = await newOrg(h, "Guarded");
    await createApp(h.db, own, { id: "app_guarded", name: "Guarded" });
    const req = new Request("http://127.0.0.1:8788/apps/app_guarded/settings", {
      method: "POST",
      headers: { cookie: `__session=${owner.session}`, origin: "http://127.0.0.1:8788" },
      body: new URLSearchParams({ intent: "create-key", name: "csrf" }),
    });
    expect((await run(() => settings.action({ request: req, params: { app: "app_guarded" }, context: h.context }))).status).toBe(403);
    expect(await listKeys(h.db, own, "app_guarded")).toEqual([]);
  });
});
