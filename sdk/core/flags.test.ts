import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createClient } from "./client";
import { fakeClient, fakeEdge, received, type FakeEdge } from "./fakes";
import { memoryStorage } from "./storage";
import type { Flags, HttpRequest, HttpResponse, Options, Storage } from "./types";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-12-01T10:00:00Z"));
});
afterEach(() => vi.useRealTimers());

const CHECKOUT_ON = { "new-checkout": { variant: "on", value: true } };
const answer = (flags: Flags, config: Record<string, unknown> = {}, etag = '"v1"'): HttpResponse => ({ status: 200, etag, body: { sampling: {}, capture: {}, config, flags, version: 1 } });
const params = (req: HttpRequest | undefined): Record<string, string> => Object.fromEntries(new URL(req?.url ?? "https://x/").searchParams);
const withFlags = (edge: FakeEdge, options: Partial<Options> = {}, storage?: Storage) => fakeClient(edge, { remoteConfig: true, ...options }, storage);
const exposures = (edge: FakeEdge) => received(edge).filter((e) => e.event === "$feature_flag_called").map((e) => e.properties);

describe("feature flags", () => {
  it("loads the flags and configuration for the current ids and context at start", async () => {
    const edge = fakeEdge();
    edge.config = answer({ ...CHECKOUT_ON, "pricing-test": { variant: "b", value: { price: 12 } }, "banner-text": { variant: "empty", value: "" } }, { maxUploadMb: 25 });
    const t = withFlags(edge, { context: { app: { version: "1.2.3" } } });
    expect(t.getFlag("new-checkout")).toBeUndefined();
    await t.flagsReady;

    expect(params(edge.configRequests[0])).toEqual({ writeKey: "wk_test", anonymousId: t.ids().anonymousId, appVersion: "1.2.3", locale: "en-GB" });
    expect(t.getFlag("new-checkout")).toBe(true);
    expect(t.isEnabled("new-checkout")).toBe(true);
    expect(t.getVariant("pricing-test")).toBe("b");
    expect(t.getFlag("pricing-test")).toEqual({ price: 12 });
    expect(t.isEnabled("banner-text")).toBe(false);
    expect(t.getConfig("maxUploadMb", 10)).toBe(25);
    expect(t.getConfig()).toEqual({ maxUploadMb: 25 });
    expect(Object.keys(t.flags())).toEqual(["new-checkout", "pricing-test", "banner-text"]);
  });

  it("answers the fallback for a flag or setting the edge does not know, and records no exposure for it", async () => {
    const edge = fakeEdge();
    edge.config = answer(CHECKOUT_ON);
    const t = withFlags(edge);
    await t.flagsReady;
    expect(t.getFlag("no-such-flag", "classic")).toBe("classic");
    expect(t.getFlag("no-such-flag")).toBeUndefined();
    expect(t.isEnabled("no-such-flag")).toBe(false);
    expect(t.getVariant("no-such-flag")).toBeUndefined();
    expect(t.getConfig("theme", "light")).toBe("light");
    await t.flush();
    expect(exposures(edge)).toEqual([]);
  });

  it("serves the stored flags on a start without network, and the edge's once it is back", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    edge.config = answer(CHECKOUT_ON, { theme: "dark" });
    await withFlags(edge, {}, storage).flagsReady;

    edge.down = true;
    const offline = withFlags(edge, {}, storage);
    // A synchronous storage serves them before anything is awaited.
    expect(offline.isEnabled("new-checkout")).toBe(true);
    await offline.flagsReady;
    expect(offline.isEnabled("new-checkout")).toBe(true);
    expect(offline.getConfig("theme")).toBe("dark");

    edge.down = false;
    edge.config = answer({ "new-checkout": { variant: "off", value: false } }, {}, '"v2"');
    await offline.reloadFlags();
    expect(offline.isEnabled("new-checkout")).toBe(false);
  });

  it("serves stored flags from an asynchronous storage (AsyncStorage) once ready, and tells listeners", async () => {
    const edge = fakeEdge();
    const map = memoryStorage();
    const storage: Storage = { get: async (k) => map.get(k), set: async (k, v) => map.set(k, v), remove: async (k) => map.remove(k) };
    edge.config = answer(CHECKOUT_ON);
    await withFlags(edge, {}, storage).flagsReady;

    edge.down = true;
    const t = withFlags(edge, {}, storage);
    const heard: Flags[] = [];
    t.onFlags((f) => heard.push(f));
    await t.ready;
    expect(t.getVariant("new-checkout")).toBe("on");
    expect(heard).toEqual([CHECKOUT_ON]);
  });

  it("sends If-None-Match with the stored ETag and keeps its flags on 304", async () => {
    const edge = fakeEdge();
    edge.config = answer(CHECKOUT_ON, {}, '"v7"');
    const t = withFlags(edge);
    await t.flagsReady;
    expect(edge.configRequests[0]?.headers).toEqual({});

    edge.config = (req) => (req.headers["if-none-match"] === '"v7"' ? { status: 304 } : answer({}));
    await t.reloadFlags();
    expect(edge.configRequests[1]?.headers["if-none-match"]).toBe('"v7"');
    expect(t.isEnabled("new-checkout")).toBe(true);
  });

  it("leaves revalidation to a browser's own HTTP cache: no If-None-Match, which would cost a CORS preflight", async () => {
    const edge = fakeEdge();
    edge.config = answer(CHECKOUT_ON, {}, '"v7"');
    const platform = { storage: memoryStorage(), transport: edge.transport, library: { name: "test", version: "0" }, context: () => ({}), capture: {}, name: "web", httpCache: true };
    const t = createClient(platform, { writeKey: "wk_test", endpoint: "https://edge.test" });
    await t.flagsReady;
    await t.reloadFlags();
    expect(edge.configRequests.map((r) => r.headers)).toEqual([{}, {}]);
    expect(params(edge.configRequests[0]).platform).toBe("web");
  });

  it("asks again when identify or reset change who the user is, and tells listeners what changed", async () => {
    const edge = fakeEdge();
    edge.config = (req) => answer(params(req).userId === "u_42" ? CHECKOUT_ON : { "new-checkout": { variant: "off", value: false } });
    const t = withFlags(edge);
    const heard: Flags[] = [];
    const off = t.onFlags((f) => heard.push(f));
    await t.flagsReady;
    expect(t.isEnabled("new-checkout")).toBe(false);

    t.identify("u_42", { plan: "pro" });
    await vi.advanceTimersByTimeAsync(0);
    expect(params(edge.configRequests[1])).toMatchObject({ userId: "u_42", traits: '{"plan":"pro"}' });
    expect(t.isEnabled("new-checkout")).toBe(true);
    expect(heard.map((f) => f["new-checkout"]?.variant)).toEqual(["off", "on"]);

    // The same user again is no new question.
    t.identify("u_42");
    await vi.advanceTimersByTimeAsync(0);
    expect(edge.configRequests).toHaveLength(2);

    off();
    t.reset();
    await vi.advanceTimersByTimeAsync(0);
    expect(edge.configRequests).toHaveLength(3);
    expect(params(edge.configRequests[2]).userId).toBeUndefined();
    expect(params(edge.configRequests[2]).anonymousId).toBe(t.ids().anonymousId);
    expect(t.isEnabled("new-checkout")).toBe(false);
    expect(heard).toHaveLength(2);
  });

  it("refreshes every refreshIntervalMs (60 s by default), or never with 0", async () => {
    const edge = fakeEdge();
    edge.config = answer({});
    const t = withFlags(edge);
    await t.flagsReady;
    await vi.advanceTimersByTimeAsync(59_000);
    expect(edge.configRequests).toHaveLength(1);
    edge.config = answer(CHECKOUT_ON);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(edge.configRequests).toHaveLength(2);
    expect(t.isEnabled("new-checkout")).toBe(true);
    await t.shutdown();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(edge.configRequests).toHaveLength(2);

    const never = fakeEdge();
    never.config = answer({});
    await withFlags(never, { flags: { refreshIntervalMs: 0 } }).flagsReady;
    await vi.advanceTimersByTimeAsync(600_000);
    expect(never.configRequests).toHaveLength(1);
  });

  it("records $feature_flag_called at the first read of each flag in a session, again in a new session or for another variant", async () => {
    const edge = fakeEdge();
    edge.config = answer({ ...CHECKOUT_ON, "pricing-test": { variant: "b", value: 12 } });
    const t = withFlags(edge, { flags: { refreshIntervalMs: 0 } });
    await t.flagsReady;
    t.isEnabled("new-checkout");
    t.getFlag("new-checkout");
    t.getVariant("pricing-test");
    t.getVariant("pricing-test");
    t.flags();
    t.getConfig();
    await t.flush();
    expect(exposures(edge)).toEqual([
      { $feature_flag: "new-checkout", $feature_flag_response: "on", $feature_flag_value: true },
      { $feature_flag: "pricing-test", $feature_flag_response: "b", $feature_flag_value: 12 },
    ]);
    const session = t.ids().sessionId;

    // Another variant within the session is another exposure.
    edge.config = answer({ ...CHECKOUT_ON, "pricing-test": { variant: "a", value: 10 } });
    await t.reloadFlags();
    t.getFlag("pricing-test");
    t.getFlag("new-checkout");
    await t.flush();
    expect(exposures(edge).slice(2)).toEqual([{ $feature_flag: "pricing-test", $feature_flag_response: "a", $feature_flag_value: 10 }]);

    // 31 minutes without events: a new session, and the flags read in it are exposures again.
    await vi.advanceTimersByTimeAsync(31 * 60_000);
    t.isEnabled("new-checkout");
    t.isEnabled("new-checkout");
    await t.flush();
    const last = received(edge).at(-1);
    expect(exposures(edge).slice(3)).toEqual([{ $feature_flag: "new-checkout", $feature_flag_response: "on", $feature_flag_value: true }]);
    expect(last?.context.sessionId).not.toBe(session);
  });

  it("remembers the session's exposures across restarts (page loads), and sends none with sendExposures: false", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    edge.config = answer(CHECKOUT_ON);
    const first = withFlags(edge, {}, storage);
    await first.flagsReady;
    first.isEnabled("new-checkout");
    await first.flush();
    const reloaded = withFlags(edge, {}, storage);
    await reloaded.flagsReady;
    reloaded.isEnabled("new-checkout");
    await reloaded.flush();
    expect(exposures(edge)).toHaveLength(1);

    const quiet = fakeEdge();
    quiet.config = answer(CHECKOUT_ON);
    const t = withFlags(quiet, { flags: { sendExposures: false } });
    await t.flagsReady;
    expect(t.isEnabled("new-checkout")).toBe(true);
    await t.flush();
    expect(exposures(quiet)).toEqual([]);
  });

  it("asks nothing with remoteConfig: false, and every flag reads as unknown", async () => {
    const edge = fakeEdge();
    edge.config = answer(CHECKOUT_ON);
    const t = fakeClient(edge);
    await t.flagsReady;
    await t.reloadFlags();
    expect(edge.configRequests).toEqual([]);
    expect(t.getFlag("new-checkout", false)).toBe(false);
    expect(t.flags()).toEqual({});
  });
});
