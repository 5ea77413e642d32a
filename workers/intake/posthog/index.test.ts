import { describe, expect, it } from "vitest";
import { Event } from "../../../schemas";
import { HttpError } from "../../lib/errors";
import { decodeCapture, fromPostHog, remoteConfigScript, translateCapture } from ".";

const NOW = Date.parse("2026-11-30T12:00:00.000Z");
const facts = { receivedAt: NOW };

// What posthog-js sends for a page view by a visitor who has not been identified.
const browserPageview = {
  uuid: "0190f6c1-7c1e-7000-8000-000000000001",
  event: "$pageview",
  properties: {
    $os: "Linux", $os_version: "6.1", $browser: "Chrome", $browser_version: 120, $device_type: "Desktop",
    $current_url: "http://shop.test/pricing?plan=pro", $host: "shop.test", $pathname: "/pricing", $referrer: "$direct",
    $screen_height: 1080, $screen_width: 1920, $lib: "web", $lib_version: "1.449.2", $browser_language: "en-GB", $timezone: "Europe/London",
    distinct_id: "anon-7", $device_id: "anon-7", $is_identified: false, $session_id: "sess-1", token: "wk_browser",
    title: "Pricing", utm_source: "newsletter", plan_shown: "pro",
  },
  timestamp: "2026-11-30T11:59:58.000Z",
};

function only(batch: { events: unknown[] }): Record<string, unknown> {
  expect(batch.events).toHaveLength(1);
  const e = batch.events[0];
  expect(Event.safeParse(e).success, JSON.stringify(e)).toBe(true);
  return e as Record<string, unknown>;
}

describe("decodeCapture", () => {
  const json = JSON.stringify({ api_key: "k", batch: [{ event: "é", distinct_id: "u" }] });
  const base64 = btoa(String.fromCharCode(...new TextEncoder().encode(json)));

  it("reads JSON, data= forms, base64 bodies and GET's ?data=", () => {
    const expected = JSON.parse(json) as unknown;
    expect(decodeCapture(json)).toEqual(expected);
    expect(decodeCapture(`data=${encodeURIComponent(base64)}`, { compression: "base64" })).toEqual(expected);
    expect(decodeCapture(`data=${encodeURIComponent(json)}`)).toEqual(expected);
    expect(decodeCapture(`compression=base64&data=${base64}`)).toEqual(expected);
    expect(decodeCapture(base64, { compression: "base64" })).toEqual(expected);
    expect(decodeCapture("", { data: base64 })).toEqual(expected);
  });

  it("refuses empty bodies, bad base64 and bad JSON with a 400", () => {
    for (const [body, query] of [["", {}], ["data=%%%", { compression: "base64" }], ["{not json", {}], [btoa("{nope"), { compression: "base64" }]] as const) {
      let thrown: unknown;
      try {
        decodeCapture(body, query);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, body).toBeInstanceOf(HttpError);
      expect((thrown as HttpError).status).toBe(400);
    }
  });
});

describe("translateCapture", () => {
  it("maps a posthog-js page view to a page with its context, keeping the rest in properties", () => {
    const batch = translateCapture({ api_key: "wk_browser", batch: [browserPageview], sent_at: "2026-11-30T12:00:00.000Z" }, facts);
    expect(batch.key).toEqual({ key: "wk_browser", from: "body" });
    expect(batch.envelope).toEqual({ sentAt: "2026-11-30T12:00:00.000Z" });
    const e = only(batch);
    expect(e).toMatchObject({ type: "page", name: "Pricing", messageId: browserPageview.uuid, anonymousId: "anon-7", timestamp: browserPageview.timestamp });
    expect(e.userId).toBeUndefined();
    expect(e.context).toEqual({
      page: { url: "http://shop.test/pricing?plan=pro", path: "/pricing", host: "shop.test", title: "Pricing" },
      library: { name: "web", version: "1.449.2" },
      os: { name: "Linux", version: "6.1" },
      browser: { name: "Chrome", version: "120" },
      device: { id: "anon-7", type: "Desktop" },
      screen: { width: 1920, height: 1080 },
      campaign: { source: "newsletter" },
      locale: "en-GB",
      timezone: "Europe/London",
      sessionId: "sess-1",
    });
    expect(e.properties).toEqual({ plan_shown: "pro" });
  });

  it("takes the key from each event's properties.token when the batch has none", () => {
    const batch = translateCapture([browserPageview], facts);
    expect(batch.key).toEqual({ key: "wk_browser", from: "body" });
    expect(translateCapture({ ...browserPageview, properties: {}, token: "wk_single" }, facts).key).toEqual({ key: "wk_single", from: "body" });
    expect(translateCapture({ event: "x", distinct_id: "u" }, { ...facts, queryKey: "wk_q" }).key).toEqual({ key: "wk_q", from: "query" });
    expect(translateCapture({ event: "x", distinct_id: "u" }, facts).key).toBeNull();
  });

  it("maps identify, $set, groups, aliases and custom events, with users told from anonymous visitors", () => {
    const batch = translateCapture(
      {
        api_key: "wk_1",
        batch: [
          { event: "$identify", distinct_id: "user-1", properties: { $anon_distinct_id: "anon-7", $device_id: "anon-7", $is_identified: true }, $set: { plan: "pro" }, $set_once: { first_seen: "2026-01-01", plan: "free" } },
          { event: "$set", distinct_id: "user-1", properties: { $set: { seats: 3 } } },
          { event: "$groupidentify", distinct_id: "user-1", properties: { $group_type: "company", $group_key: "acme", $group_set: { size: 40 } } },
          { event: "$create_alias", distinct_id: "user-1", properties: { alias: "anon-7" } },
          { event: "$autocapture", distinct_id: "user-1", properties: { $event_type: "click", $elements_chain: "button.buy" } },
          { event: "order completed", distinct_id: "user-1", properties: { total: 30 }, $set: { last_order: 30 } },
        ],
      },
      facts,
    );
    for (const e of batch.events) expect(Event.safeParse(e).success, JSON.stringify(e)).toBe(true);
    const [identify, set, group, alias, auto, custom] = batch.events as Record<string, unknown>[];
    expect(identify).toMatchObject({ type: "identify", userId: "user-1", anonymousId: "anon-7", traits: { plan: "pro", first_seen: "2026-01-01" } });
    expect(set).toMatchObject({ type: "identify", userId: "user-1", traits: { seats: 3 } });
    expect(group).toMatchObject({ type: "group", groupId: "acme", traits: { size: 40 }, properties: { groupType: "company" } });
    expect(alias).toMatchObject({ type: "alias", userId: "user-1", previousId: "anon-7" });
    expect(auto).toMatchObject({ type: "track", event: "$autocapture", properties: { $event_type: "click", $elements_chain: "button.buy" } });
    expect(custom).toMatchObject({ type: "track", event: "order completed", properties: { total: 30 }, traits: { last_order: 30 } });
  });

  it("maps $screen and $exception, with frames from the crash site out", () => {
    const batch = translateCapture(
      {
        api_key: "wk_1",
        batch: [
          { event: "$screen", distinct_id: "u", properties: { $screen_name: "Checkout", $app_version: "2.1.0", $app_build: 210, $os: "iOS" } },
          {
            event: "$exception",
            distinct_id: "u",
            properties: {
              $exception_level: "fatal",
              $exception_list: [
                {
                  type: "TypeError",
                  value: "x is undefined",
                  mechanism: { handled: false, type: "onerror" },
                  stacktrace: { type: "raw", frames: [{ filename: "main.js", function: "main", lineno: 1, colno: 2, in_app: true }, { filename: "cart.js", function: "total", lineno: 10, colno: 4, in_app: true, module: "cart" }] },
                },
              ],
            },
          },
        ],
      },
      facts,
    );
    for (const e of batch.events) expect(Event.safeParse(e).success, JSON.stringify(e)).toBe(true);
    const [screen, crash] = batch.events as Record<string, unknown>[];
    expect(screen).toMatchObject({ type: "screen", name: "Checkout", context: { app: { version: "2.1.0", build: "210" }, os: { name: "iOS" } } });
    expect(crash).toMatchObject({
      type: "crash",
      error: {
        type: "TypeError",
        message: "x is undefined",
        fatal: true,
        handled: false,
        frames: [
          { function: "total", file: "cart.js", line: 10, column: 4, inApp: true },
          { function: "main", file: "main.js", line: 1, column: 2, inApp: true },
        ],
      },
    });
  });

  it("places an event that gives only an offset before sent_at, or before its arrival", () => {
    const [a] = translateCapture({ api_key: "k", sent_at: NOW - 1000, batch: [{ event: "x", distinct_id: "u", offset: 500 }] }, facts).events as Record<string, unknown>[];
    expect(a?.timestamp).toBe(NOW - 1500);
    const [b] = translateCapture({ api_key: "k", batch: [{ event: "x", distinct_id: "u", offset: 500 }] }, facts).events as Record<string, unknown>[];
    expect(b?.timestamp).toBe(NOW - 500);
  });

  it("passes bad events on to be rejected alone, and refuses a payload that is no capture", () => {
    const batch = translateCapture({ api_key: "k", batch: [{ event: "ok", distinct_id: "u" }, 42, { event: "no one" }, { distinct_id: "u" }] }, facts);
    expect(batch.events.map((e) => Event.safeParse(e).success)).toEqual([true, false, false, false]);
    expect(() => translateCapture({ api_key: "k" }, facts)).toThrow(HttpError);
    expect(() => translateCapture("text", facts)).toThrow(HttpError);
  });
});

describe("fromPostHog and the start-up answers", () => {
  it("decodes and translates in one step", () => {
    const e = only(fromPostHog(`data=${encodeURIComponent(JSON.stringify([browserPageview]))}`, {}, facts));
    expect(e.type).toBe("page");
  });

  it("serves a config script that registers the config under the token", () => {
    const window: { _POSTHOG_REMOTE_CONFIG?: Record<string, { config: { hasFeatureFlags: boolean } }> } = {};
    new Function("window", remoteConfigScript('wk_"quoted"'))(window);
    expect(window._POSTHOG_REMOTE_CONFIG?.['wk_"quoted"']?.config.hasFeatureFlags).toBe(false);
  });
});
