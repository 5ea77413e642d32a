import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeEdge, received } from "../../core/fakes";
import { memoryStorage } from "../../core/storage";
import type { Storage } from "../../core/types";
import { init } from "./index";

const base = { writeKey: "wk_test", endpoint: "https://edge.test", remoteConfig: false, capture: { network: false, vitals: false, errors: false } };
const NOW = Date.parse("2026-11-27T09:00:00Z");

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
});
afterEach(() => vi.useRealTimers());

describe("deepLinkOpened", () => {
  it("records Deep Link Opened with the URL, the referring app and the link's campaign, a touch later events carry", async () => {
    const edge = fakeEdge();
    const t = init({ ...base, transport: edge.transport });
    t.deepLinkOpened("shop://product/42?utm_source=instagram&utm_medium=social&utm_campaign=spring&fbclid=fb1", { referringApplication: "com.instagram.android" });
    t.track("Product Added");
    await t.flush();
    const [opened, added] = received(edge);
    const spring = { source: "instagram", medium: "social", name: "spring", fbclid: "fb1" };
    expect(opened).toMatchObject({ type: "track", event: "Deep Link Opened", context: { campaign: spring } });
    expect(opened?.properties).toEqual({ url: "shop://product/42?utm_source=instagram&utm_medium=social&utm_campaign=spring&fbclid=fb1", referring_application: "com.instagram.android" });
    expect(added?.context.campaign).toEqual(spring);
    expect(t.attribution()?.last).toEqual({ ...spring, at: NOW });
  });

  it("records a link without campaign parameters with no campaign of its own", async () => {
    const edge = fakeEdge();
    const t = init({ ...base, transport: edge.transport });
    t.deepLinkOpened("https://shop.example/orders/7", { provider: "Branch" });
    await t.flush();
    expect(received(edge)[0]?.properties).toEqual({ url: "https://shop.example/orders/7", provider: "Branch" });
    expect(received(edge)[0]?.context.campaign).toBeUndefined();
    expect(t.attribution()).toBeNull();
  });
});

describe("installAttributed", () => {
  it("records Install Attributed as Segment's mobile spec has it, with the campaign and click ids in context", async () => {
    const edge = fakeEdge();
    const t = init({ ...base, transport: edge.transport });
    t.installAttributed({ provider: "AppsFlyer", source: "facebook", medium: "cpc", campaign: "spring-sale", content: "video", adGroup: "lookalike-1", adCreative: "red-shoes", gclid: "g1", af_sub1: "ignored" });
    await vi.waitFor(() => expect(t.attribution()).not.toBeNull());
    await t.flush();
    const [installed] = received(edge);
    expect(installed).toMatchObject({ event: "Install Attributed", timestamp: new Date(NOW).toISOString() });
    expect(installed?.properties).toEqual({
      provider: "AppsFlyer",
      campaign: { source: "facebook", name: "spring-sale", medium: "cpc", content: "video", ad_group: "lookalike-1", ad_creative: "red-shoes" },
    });
    expect(installed?.context.campaign).toEqual({ source: "facebook", medium: "cpc", name: "spring-sale", content: "video", gclid: "g1" });
  });

  it("reads Google Play's install referrer, given alone or beside fields that win over it", async () => {
    const edge = fakeEdge();
    const alone = init({ ...base, transport: edge.transport });
    alone.installAttributed("utm_source=google-play&utm_medium=organic&gclid=g2");
    const beside = init({ ...base, transport: edge.transport });
    beside.installAttributed({ provider: "Google Play", referrer: "utm_source=google-play&utm_medium=organic&utm_campaign=x", campaign: "launch" });
    await vi.waitFor(() => expect(alone.attribution() && beside.attribution()).not.toBeNull());
    await alone.flush();
    await beside.flush();
    const [a, b] = received(edge);
    expect(a?.properties).toEqual({ campaign: { source: "google-play", medium: "organic" } });
    expect(a?.context.campaign).toEqual({ source: "google-play", medium: "organic", gclid: "g2" });
    expect(b?.properties).toEqual({ provider: "Google Play", campaign: { source: "google-play", name: "launch", medium: "organic" } });
  });

  it("is sent once per install, across restarts, even when every start calls it", async () => {
    const edge = fakeEdge();
    const store = memoryStorage();
    const asyncStorage = { getItem: async (k: string) => store.get(k), setItem: async (k: string, v: string) => store.set(k, v), removeItem: async (k: string) => store.remove(k) };
    for (let start = 0; start < 3; start++) {
      const t = init({ ...base, transport: edge.transport, asyncStorage });
      t.installAttributed({ provider: "AppsFlyer", source: "tiktok" });
      t.track("Started");
      // AsyncStorage answers in promises: let every pending one settle before looking.
      await new Promise((done) => setTimeout(done, 0));
      await t.flush();
    }
    expect(received(edge).map((e) => e.event)).toEqual(["Started", "Install Attributed", "Started", "Started"]);
  });

  it("is sent all the same when the install mark cannot be read", async () => {
    const edge = fakeEdge();
    const broken: Storage = { ...memoryStorage(), get: (k) => (k.endsWith("installed") ? Promise.reject(new Error("disk")) : null) };
    const t = init({ ...base, transport: edge.transport, storage: broken });
    t.installAttributed({ source: "google" });
    await vi.waitFor(() => expect(t.attribution()?.last.source).toBe("google"));
    await t.flush();
    expect(received(edge).map((e) => e.event)).toEqual(["Install Attributed"]);
  });
});
