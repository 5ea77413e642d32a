// The minute cron against the real local ClickHouse and D1: resolved issues regress only on the
// crashes their resolution says they should, ignores end after their count or date, nothing
// changes when nothing happened, a second run changes nothing more, and one app's failure leaves
// the others checked; and end to end, crashes sent through the intake regress an issue or not.
import type { ClickHouseClient } from "@clickhouse/client-web";
import { createScheduledController, env, runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { chHeaders, chQuery, createTestApp, post } from "../../test/seed";
import { config } from "../../schemas";
import { createApp, OPERATOR } from "../apps/store";
import worker from "../index";
import { clickhouseClient } from "../lib/clickhouse";
import { compareVersions, isLaterRelease, updateCrashStates } from "./crash-states.cron";
import { MINUTE_CRON } from "./index";

const NOW = Date.now();
const MIN = 60_000;
const at = (offsetMin: number): number => NOW + offsetMin * MIN;
const iso = (ms: number): string => new Date(ms).toISOString();
let seq = 0;

async function insert(rows: Array<Record<string, string | number>>): Promise<void> {
  const url = new URL(env.CLICKHOUSE_DIRECT_URL);
  url.searchParams.set("query", "INSERT INTO events FORMAT JSONEachRow");
  url.searchParams.set("date_time_input_format", "best_effort");
  const res = await fetch(url, { method: "POST", headers: chHeaders(), body: rows.map((r) => JSON.stringify(r)).join("\n") });
  if (!res.ok) throw new Error(await res.text());
}

const crash = (app: string, fingerprint: string, release: string, ms: number) => ({
  app_id: app,
  type: "crash",
  message_id: `c${++seq}`,
  anonymous_id: "u1",
  timestamp: iso(ms),
  received_at: iso(ms),
  crash_type: "Error",
  crash_message: "boom",
  crash_fingerprint: fingerprint,
  crash_fatal: 1,
  app_version: release,
});
const seen = (app: string, release: string, ms: number) => ({ app_id: app, type: "track", event: "Opened", message_id: `t${++seq}`, anonymous_id: "u1", timestamp: iso(ms), received_at: iso(ms), app_version: release });

interface StateInput {
  status: "resolved" | "ignored";
  resolvedIn?: string;
  next?: boolean;
  count?: number;
  base?: number;
  until?: number;
  changedAt: number;
}

async function setState(app: string, fingerprint: string, s: StateInput): Promise<void> {
  await env.DB.prepare(
    `INSERT OR REPLACE INTO crash_issue_states (app_id, fingerprint, status, resolved_in, resolved_next, ignore_count, ignore_base, ignore_until, changed_at, changed_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'dev@example.com')`,
  )
    .bind(app, fingerprint, s.status, s.resolvedIn ?? "", s.next ? 1 : 0, s.count ?? null, s.base ?? null, s.until ?? null, s.changedAt)
    .run();
}

async function states(app: string): Promise<Record<string, string>> {
  const rs = await env.DB.prepare("SELECT fingerprint, status FROM crash_issue_states WHERE app_id = ?").bind(app).all<{ fingerprint: string; status: string }>();
  return Object.fromEntries(rs.results.map((r) => [r.fingerprint, r.status]));
}

async function history(app: string): Promise<Array<{ fingerprint: string; status: string; detail: string; by: string }>> {
  const rs = await env.DB.prepare("SELECT fingerprint, status, detail, by FROM crash_issue_history WHERE app_id = ? ORDER BY fingerprint, id").bind(app).all<{ fingerprint: string; status: string; detail: string; by: string }>();
  return rs.results;
}

async function newApp(): Promise<string> {
  const id = `app_cs_${crypto.randomUUID().slice(0, 8)}`;
  expect(await createApp(env.DB, OPERATOR, { id, name: id, rateLimit: 0, shardCount: 1 })).not.toBe("unavailable");
  return id;
}

const client = (): ClickHouseClient => clickhouseClient({ ...config(env).clickhouse, url: env.CLICKHOUSE_DIRECT_URL });

describe("release order", () => {
  it("compares versions semver-aware and falls back to when a release was first seen", () => {
    expect(compareVersions("2.10.0", "2.9.1")).toBe(1);
    expect(compareVersions("v1.2", "1.2.0")).toBe(0);
    expect(compareVersions("2.0.0-beta.2", "2.0.0")).toBe(-1);
    expect(compareVersions("2.0.0-beta.10", "2.0.0-beta.2")).toBe(1);
    expect(compareVersions("shop@2.0.0", "shop@1.9.9")).toBe(1);
    expect(compareVersions("2.1.0 (345)", "2.1.0 (344)")).toBe(1);
    expect(compareVersions("shop@2.0.0", "admin@1.0.0")).toBeNull();
    expect(compareVersions("spring", "1.0.0")).toBeNull();
    const firstSeen = new Map([
      ["winter", 1000],
      ["spring", 2000],
      ["summer", 3000],
    ]);
    expect(isLaterRelease("summer", "spring", firstSeen, 2500)).toBe(true);
    expect(isLaterRelease("winter", "spring", firstSeen, 2500)).toBe(false);
    // A fix release not seen yet: only releases that appeared after the resolve are later.
    expect(isLaterRelease("summer", "autumn", firstSeen, 2500)).toBe(true);
    expect(isLaterRelease("spring", "autumn", firstSeen, 2500)).toBe(false);
  });
});

describe("the crash states cron", () => {
  let app = "";

  beforeAll(async () => {
    app = await newApp();
    await insert([
      // Releases the app had before the issues were resolved an hour ago.
      seen(app, "1.0.0", at(-300)),
      seen(app, "winter", at(-2 * 24 * 60)),
      seen(app, "spring", at(-120)),
      crash(app, "fp_plain", "1.0.0", at(-30)),
      crash(app, "fp_quiet", "1.0.0", at(-90)),
      crash(app, "fp_in", "1.9.0", at(-30)),
      crash(app, "fp_in", "2.0.0", at(-20)),
      crash(app, "fp_in_later", "2.0.0", at(-25)),
      crash(app, "fp_in_later", "2.1.0", at(-20)),
      crash(app, "fp_named", "winter", at(-30)),
      crash(app, "fp_named_later", "summer", at(-20)),
      crash(app, "fp_next", "1.0.0", at(-30)),
      crash(app, "fp_next_new", "1.0.0", at(-30)),
      crash(app, "fp_next_new", "3.0.0", at(-10)),
      crash(app, "fp_count", "1.0.0", at(-90)),
      crash(app, "fp_count", "1.0.0", at(-30)),
      crash(app, "fp_count", "1.0.0", at(-20)),
      crash(app, "fp_forever", "1.0.0", at(-20)),
    ]);
    const resolvedAt = at(-60);
    await setState(app, "fp_plain", { status: "resolved", changedAt: resolvedAt });
    await setState(app, "fp_quiet", { status: "resolved", changedAt: resolvedAt });
    await setState(app, "fp_in", { status: "resolved", resolvedIn: "2.0.0", changedAt: resolvedAt });
    await setState(app, "fp_in_later", { status: "resolved", resolvedIn: "2.0.0", changedAt: resolvedAt });
    await setState(app, "fp_named", { status: "resolved", resolvedIn: "spring", changedAt: resolvedAt });
    await setState(app, "fp_named_later", { status: "resolved", resolvedIn: "spring", changedAt: resolvedAt });
    await setState(app, "fp_next", { status: "resolved", next: true, changedAt: resolvedAt });
    await setState(app, "fp_next_new", { status: "resolved", next: true, changedAt: resolvedAt });
    await setState(app, "fp_count", { status: "ignored", count: 3, base: 1, changedAt: resolvedAt });
    await setState(app, "fp_date", { status: "ignored", until: at(-1), changedAt: resolvedAt });
    await setState(app, "fp_date_later", { status: "ignored", until: at(24 * 60), changedAt: resolvedAt });
    await setState(app, "fp_forever", { status: "ignored", changedAt: resolvedAt });
  });

  it("regresses, ends ignores, and leaves alone exactly what the states say", async () => {
    const ch = client();
    const run = await updateCrashStates({ db: env.DB, client: ch }, NOW);
    await ch.close();
    expect(run.failed).toBe(0);
    expect(await states(app)).toEqual({
      fp_plain: "regressed", // any crash after a plain resolve
      fp_quiet: "resolved", // its only crash came before the resolve
      fp_in: "resolved", // crashes from 1.9.0 and 2.0.0 are not later than the fix in 2.0.0
      fp_in_later: "regressed", // 2.1.0 is
      fp_named: "resolved", // "winter" was first seen before "spring"
      fp_named_later: "regressed", // "summer" after it
      fp_next: "resolved", // 1.0.0 existed before the resolve
      fp_next_new: "regressed", // 3.0.0 did not
      fp_count: "ignored", // 2 more crashes of the 3 that end the ignore
      fp_date: "unresolved", // its date passed
      fp_date_later: "ignored",
      fp_forever: "ignored",
    });
    expect(run.changed).toBe(5);
    expect((await history(app)).filter((e) => e.by === "system")).toEqual([
      { fingerprint: "fp_date", status: "unresolved", detail: expect.stringMatching(/^ignore ended: .* passed$/), by: "system" },
      { fingerprint: "fp_in_later", status: "regressed", detail: "seen again in 2.1.0", by: "system" },
      { fingerprint: "fp_named_later", status: "regressed", detail: "seen again in summer", by: "system" },
      { fingerprint: "fp_next_new", status: "regressed", detail: "seen again in 3.0.0", by: "system" },
      { fingerprint: "fp_plain", status: "regressed", detail: "seen again in 1.0.0", by: "system" },
    ]);
  });

  it("changes nothing more when run again with nothing new", async () => {
    const before = await history(app);
    const ch = client();
    const run = await updateCrashStates({ db: env.DB, client: ch }, NOW + MIN);
    await ch.close();
    expect(run).toMatchObject({ changed: 0, failed: 0 });
    expect(await history(app)).toEqual(before);
  });

  it("ends an ignore once its count of new crashes arrives, through the minute Cron Trigger", async () => {
    await insert([crash(app, "fp_count", "1.0.0", at(-5))]);
    await worker.scheduled(createScheduledController({ cron: MINUTE_CRON, scheduledTime: NOW + 2 * MIN }), env);
    expect((await states(app)).fp_count).toBe("unresolved");
    const last = (await history(app)).filter((e) => e.fingerprint === "fp_count").at(-1);
    expect(last).toEqual({ fingerprint: "fp_count", status: "unresolved", detail: "ignore ended: 3 more events since it was ignored (until 3)", by: "system" });
  });

  it("leaves a state someone changed in the meantime as they set it", async () => {
    const other = await newApp();
    await insert([crash(other, "fp_x", "1.0.0", at(-10))]);
    await setState(other, "fp_x", { status: "resolved", changedAt: at(-60) });
    // The person resolves it again after the crash, between the cron's read and its write.
    const ch = client();
    const racing: ClickHouseClient = new Proxy(ch, {
      get(target, prop, receiver) {
        if (prop !== "query") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<ClickHouseClient["query"]>) => {
          const result = await target.query(...args);
          await setState(other, "fp_x", { status: "resolved", changedAt: at(-1) });
          return result;
        };
      },
    });
    await updateCrashStates({ db: env.DB, client: racing }, NOW);
    await ch.close();
    expect((await states(other)).fp_x).toBe("resolved");
    expect(await history(other)).toEqual([]);
  });

  it("checks the other apps when one app's check fails", async () => {
    const broken = await newApp();
    const fine = await newApp();
    await insert([crash(broken, "fp_b", "1.0.0", at(-10)), crash(fine, "fp_f", "1.0.0", at(-10))]);
    await setState(broken, "fp_b", { status: "resolved", changedAt: at(-60) });
    await setState(fine, "fp_f", { status: "resolved", changedAt: at(-60) });
    const ch = client();
    const failing: ClickHouseClient = new Proxy(ch, {
      get(target, prop, receiver) {
        if (prop !== "query") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<ClickHouseClient["query"]>) => {
          if (args[0].query_params?.app === broken) throw new Error("connection reset");
          return target.query(...args);
        };
      },
    });
    const run = await updateCrashStates({ db: env.DB, client: failing }, NOW);
    await ch.close();
    expect(run.failed).toBe(1);
    expect((await states(broken)).fp_b).toBe("resolved");
    expect((await states(fine)).fp_f).toBe("regressed");
  });
});

describe("end to end through the intake", () => {
  it("keeps an issue resolved in 2.0.0 through an older release's crash and regresses it on 2.1.0's", async () => {
    const app = await createTestApp();
    const send = async (id: string, release: string) => {
      const event = {
        type: "crash",
        messageId: id,
        anonymousId: "device-1",
        context: { app: { version: release } },
        error: { type: "TypeError", message: "total is undefined", fatal: true, frames: [{ function: "applyDiscount", file: "src/checkout.ts", line: 14, column: 3, inApp: true }] },
      };
      expect((await post("/v1/batch", { batch: [event] }, { "x-write-key": app.key })).status).toBe(200);
      const stub = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:0`));
      const landed = () => chQuery<{ fp: string }>("SELECT crash_fingerprint AS fp FROM events WHERE app_id = {app:String} AND message_id = {id:String}", { app: app.appId, id });
      await vi.waitUntil(
        async () => {
          await runDurableObjectAlarm(stub);
          return (await landed()).length > 0;
        },
        { timeout: 30_000, interval: 300 },
      );
      return (await landed())[0]?.fp ?? "";
    };
    const fingerprint = await send("e2e-1", "1.9.0");
    expect(fingerprint).not.toBe("");
    // Resolved just before the next crashes, as a person would from the issue page.
    await setState(app.appId, fingerprint, { status: "resolved", resolvedIn: "2.0.0", changedAt: Date.now() - 1000 });
    const cron = (ms: number) => worker.scheduled(createScheduledController({ cron: MINUTE_CRON, scheduledTime: ms }), env);

    expect(await send("e2e-2", "1.9.0")).toBe(fingerprint);
    await cron(Date.now());
    expect((await states(app.appId))[fingerprint]).toBe("resolved");

    expect(await send("e2e-3", "2.1.0")).toBe(fingerprint);
    await cron(Date.now());
    expect((await states(app.appId))[fingerprint]).toBe("regressed");
    expect((await history(app.appId)).map((e) => [e.status, e.detail, e.by])).toEqual([["regressed", "seen again in 2.1.0", "system"]]);
  });
});
