// Two organisations, made through the product, and one app id: what one organisation deletes
// never comes back, not to another organisation under the same id, not to itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as overview from "../app/routes/apps.$app._index";
import * as events from "../app/routes/apps.$app.events._index";
import * as eventsCsv from "../app/routes/apps.$app.events[.csv]";
import * as settings from "../app/routes/apps.$app.settings";
import * as userList from "../app/routes/apps.$app.users._index";
import * as apps from "../app/routes/apps._index";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { bodyOf, newMember, newOrg } from "./orgs";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => h?.close());

const createApp = (session: string, id: string) =>
  run(() => apps.action({ request: browserRequest("/apps", { session, form: { id, name: "Temporary" } }), params: {}, context: h.context }));
const deleteApp = (session: string, id: string) =>
  run(() => settings.action({ request: browserRequest(`/apps/${id}/settings`, { session, form: { intent: "delete", confirm: id } }), params: { app: id }, context: h.context }));

async function rowsOf(appId: string): Promise<number> {
  const url = new URL(h.clickhouseUrl);
  url.searchParams.set("query", "SELECT count() AS n FROM events WHERE app_id = {app:String} FORMAT JSONEachRow");
  url.searchParams.set("param_app", appId);
  const res = await fetch(url, { method: "POST", headers: { "x-clickhouse-user": h.clickhouseWriter.username, "x-clickhouse-key": h.clickhouseWriter.password } });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return Number((JSON.parse(text) as { n: string }).n);
}

async function sendEvents(appId: string, n: number): Promise<void> {
  const now = new Date().toISOString();
  await h.insertEvents(
    Array.from({ length: n }, (_, i) => ({ app_id: appId, type: "track", event: "Secret", message_id: `${appId}-${i}`, anonymous_id: `u-${i}`, session_id: "s", timestamp: now, received_at: now })),
  );
}

describe("a deleted app", () => {
  it("keeps its id from another organisation and from its own, with one answer for both, and its events are gone", async () => {
    const a = await newOrg(h, "A");
    const b = await newOrg(h, "B");
    const id = "app_tmp";
    expect((await createApp(a.owner.session, id)).status).toBe(302);
    await sendEvents(id, 7);
    expect(await rowsOf(id)).toBe(7);

    expect((await deleteApp(a.owner.session, id)).status).toBe(302);
    expect(await rowsOf(id)).toBe(0);

    const byB = await createApp(b.owner.session, id);
    expect(byB.status).toBe(409);
    const byA = await createApp(a.owner.session, id);
    expect(byA.status).toBe(409);
    const answerB = await bodyOf<{ error: string }>(byB);
    expect(answerB).toEqual(await bodyOf<{ error: string }>(byA));
    expect(answerB.error).not.toContain(id);

    // Nothing of it reaches B's views or exports, nor A's.
    for (const session of [a.owner.session, b.owner.session]) {
      for (const call of [
        () => overview.loader({ request: browserRequest(`/apps/${id}?range=24h`, { session }), params: { app: id }, context: h.context }),
        () => events.loader({ request: browserRequest(`/apps/${id}/events?range=24h`, { session }), params: { app: id }, context: h.context }),
        () => eventsCsv.loader({ request: browserRequest(`/apps/${id}/events.csv?range=24h`, { session }), params: { app: id }, context: h.context }),
        () => userList.loader({ request: browserRequest(`/apps/${id}/users?range=24h`, { session }), params: { app: id }, context: h.context }),
      ]) {
        expect((await run(call)).status).toBe(404);
      }
      const list = await bodyOf<{ apps: Array<{ id: string }> }>(await run(() => apps.loader({ request: browserRequest("/apps", { session }), params: {}, context: h.context })));
      expect(list.apps.map((x) => x.id)).not.toContain(id);
    }
  });

  it("answers an id taken by a live app of another organisation as it answers one's own", async () => {
    const a = await newOrg(h, "Holder");
    const b = await newOrg(h, "Asker");
    const developer = await newMember(h, b.orgId, "developer");
    expect((await createApp(a.owner.session, "app_held")).status).toBe(302);
    expect((await createApp(developer.session, "app_mine")).status).toBe(302);
    const elsewhere = await bodyOf<{ error: string }>(await createApp(developer.session, "app_held"));
    const own = await bodyOf<{ error: string }>(await createApp(developer.session, "app_mine"));
    expect(elsewhere).toEqual(own);
    expect(elsewhere.error).toMatch(/not available/);
  });
});
