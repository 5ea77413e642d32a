// The retention job against the real local ClickHouse and D1: data aged past an app's
// retention is gone (raw events and the sessions, profiles, identity links and active hours of those people),
// what is younger stays, each app by its own setting; a second run finds nothing and sends no
// mutation; the daily Cron Trigger runs it; a run ClickHouse fails is logged and made good by
// the next.
import { createScheduledController, env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { chInsert, chQuery, setClickHouse } from "../../test/seed";
import { config } from "../../schemas";
import { lastRetentionRun } from "../apps/retention";
import { createApp, OPERATOR } from "../apps/store";
import worker from "../index";
import { clickhouseClient } from "../lib/clickhouse";
import { ARCHIVE_CRON } from "./index";
import { enforceRetention } from "./retention.cron";

const DAY = 86_400_000;
const NOW = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();

async function newApp(retentionDays: number): Promise<string> {
  const id = `app_ret_${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;
  if ((await createApp(env.DB, OPERATOR, { id, name: `retention ${retentionDays}`, retentionDays })) === "unavailable") throw new Error(`${id} taken`);
  return id;
}

// One person per age, identified (user id and anonymous id), in a session of their own.
const visit = (app: string, ageDays: number) => ({
  app_id: app,
  type: "track",
  event: "Opened",
  message_id: `${app}-${ageDays}`,
  user_id: `user-${ageDays}`,
  anonymous_id: `anon-${ageDays}`,
  session_id: `session-${ageDays}`,
  timestamp: iso(NOW - ageDays * DAY),
  received_at: iso(NOW - ageDays * DAY),
});

async function kept(app: string): Promise<{ events: string[]; sessions: string[]; profiles: string[]; identities: string[]; hours: string[] }> {
  const list = async (query: string): Promise<string[]> => (await chQuery<{ v: string }>(query, { app })).map((r) => r.v);
  return {
    events: await list("SELECT DISTINCT user_id AS v FROM events WHERE app_id = {app:String} ORDER BY v"),
    sessions: await list("SELECT DISTINCT session_id AS v FROM sessions WHERE app_id = {app:String} ORDER BY v"),
    profiles: await list("SELECT DISTINCT user_key AS v FROM user_profiles WHERE app_id = {app:String} ORDER BY v"),
    identities: await list("SELECT DISTINCT anonymous_id AS v FROM person_identities WHERE app_id = {app:String} ORDER BY v"),
    hours: await list("SELECT DISTINCT user_id AS v FROM people_hourly WHERE app_id = {app:String} ORDER BY v"),
  };
}

async function mutationsOn(table: string): Promise<number> {
  const [r] = await chQuery<{ n: string }>("SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND table = {t:String}", { t: table });
  return Number(r?.n ?? 0);
}

afterEach(async () => {
  await setClickHouse("up");
});

describe("retention job", () => {
  it("keeps each app's events and people for its own retention, and a second run deletes nothing more", async () => {
    const week = await newApp(7);
    const month = await newApp(30);
    await chInsert("events", [3, 10, 40].flatMap((age) => [visit(week, age), visit(month, age)]));
    expect((await kept(week)).events).toEqual(["user-10", "user-3", "user-40"]);

    const client = clickhouseClient(config(env).clickhouse);
    try {
      const first = await enforceRetention({ db: env.DB, client }, NOW);
      expect(first.failed).toEqual([]);

      expect(await kept(week)).toEqual({ events: ["user-3"], sessions: ["session-3"], profiles: ["user-3"], identities: ["anon-3"], hours: ["user-3"] });
      expect(await kept(month)).toEqual({
        events: ["user-10", "user-3"],
        sessions: ["session-10", "session-3"],
        profiles: ["user-10", "user-3"],
        identities: ["anon-10", "anon-3"],
        hours: ["user-10", "user-3"],
      });
      // The settings page reads what the last run did.
      expect(await lastRetentionRun(env.DB, OPERATOR, week)).toEqual({ appId: week, ranAt: NOW, cutoff: NOW - 7 * DAY, eventsDeleted: 2, personRowsDeleted: 8, error: null });
      expect(await lastRetentionRun(env.DB, OPERATOR, month)).toMatchObject({ cutoff: NOW - 30 * DAY, eventsDeleted: 1, personRowsDeleted: 4 });

      const mutations = await mutationsOn("events");
      const again = await enforceRetention({ db: env.DB, client }, NOW + 60_000);
      expect(again).toMatchObject({ eventsDeleted: 0, personRowsDeleted: 0, failed: [] });
      expect(await mutationsOn("events")).toBe(mutations);
      expect(await lastRetentionRun(env.DB, OPERATOR, week)).toMatchObject({ ranAt: NOW + 60_000, eventsDeleted: 0, personRowsDeleted: 0 });
      expect((await kept(month)).events).toEqual(["user-10", "user-3"]);
    } finally {
      await client.close();
    }
  });

  it("runs with the daily Cron Trigger, and a shorter setting takes effect at the next run", async () => {
    const app = await newApp(30);
    await chInsert("events", [2, 20].map((age) => visit(app, age)));
    const run = (at: number): Promise<void> => worker.scheduled(createScheduledController({ cron: ARCHIVE_CRON, scheduledTime: at }), env);
    await run(NOW);
    expect((await kept(app)).events).toEqual(["user-2", "user-20"]);
    await env.DB.prepare("UPDATE apps SET retention_days = 1 WHERE id = ?").bind(app).run();
    await run(NOW + DAY);
    expect(await kept(app)).toEqual({ events: [], sessions: [], profiles: [], identities: [], hours: [] });
  });

  it("logs a run ClickHouse failed on each app it concerned, and the next run deletes what was due", async () => {
    const app = await newApp(7);
    await chInsert("events", [3, 10].map((age) => visit(app, age)));
    // Through the fault proxy in front of ClickHouse, as the cron's own client goes.
    const client = clickhouseClient(config(env).clickhouse);
    try {
      await setClickHouse("error");
      const failed = await enforceRetention({ db: env.DB, client }, NOW);
      expect(failed.failed).toEqual(["events", "people_hourly", "sessions", "user_profiles", "person_identities"]);
      expect((await lastRetentionRun(env.DB, OPERATOR, app))?.error).toContain("events:");
      expect((await kept(app)).events).toEqual(["user-10", "user-3"]);

      await setClickHouse("up");
      const next = await enforceRetention({ db: env.DB, client }, NOW + 60_000);
      expect(next.failed).toEqual([]);
      expect(await lastRetentionRun(env.DB, OPERATOR, app)).toMatchObject({ eventsDeleted: 1, error: null });
      expect((await kept(app)).events).toEqual(["user-3"]);
    } finally {
      await client.close();
    }
  });
});
