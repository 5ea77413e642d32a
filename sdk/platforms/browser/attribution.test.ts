// First and last touches of a session in a browser: the page's context as the browser build reads
// it, the core's sessions, and storage shared by the page's loads as localStorage is.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createClient, type Core } from "../../core/client";
import { fakeEdge, received, type FakeEdge } from "../../core/fakes";
import { memoryStorage } from "../../core/storage";
import type { CaptureSwitches, Storage } from "../../core/types";
import { pageContext } from "./context";
import type { Win } from "./dom";
import { capturePageviews } from "./pageviews";

const SITE = "https://shop.example";
const LANDING = `${SITE}/?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday&gclid=abc123`;
const MAIL = "https://mail.example.com/";

/** A page at `url`, reached from `referrer`, whose SPA navigations change its location. */
function fakePage(url: string, referrer = "") {
  const location = { href: "", pathname: "", search: "", origin: SITE };
  const go = (to: string): void => {
    const u = new URL(to, location.href || SITE);
    Object.assign(location, { href: u.href, pathname: u.pathname, search: u.search });
  };
  go(url);
  const navigate = (_state: unknown, _title: unknown, to: unknown): void => go(String(to));
  const win = {
    location,
    history: { pushState: navigate, replaceState: navigate },
    document: { title: "Shop", referrer, visibilityState: "visible", readyState: "complete", addEventListener: () => undefined },
    navigator: { userAgent: "test", language: "en-GB" },
    addEventListener: () => undefined,
  } satisfies Win;
  return win;
}

/** Loads the page as the browser build does: its context, and page views unless switched off. */
function load(edge: FakeEdge, storage: Storage, win: Win, capture: CaptureSwitches = { pageviews: true }): Core {
  const c = createClient(
    { storage, transport: (req) => edge.transport(req), library: { name: "test", version: "0" }, context: () => pageContext(win), capture },
    { writeKey: "wk_test", endpoint: SITE, remoteConfig: false, flushInterval: 60_000 },
  );
  if (capture.pageviews) capturePageviews(c, win);
  return c;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-11-27T09:00:00Z"));
});
afterEach(() => vi.useRealTimers());

const landed = Date.parse("2026-11-27T09:00:00Z");
const blackFriday = { source: "newsletter", medium: "email", name: "black-friday", gclid: "abc123" };

describe("touches", () => {
  it("a landing with campaign parameters is the session's first and last touch, carried by its events after an SPA navigation", async () => {
    const edge = fakeEdge();
    const page = fakePage(LANDING, MAIL);
    const t = load(edge, memoryStorage(), page);
    await t.ready;
    expect(t.attribution()).toEqual({ first: { ...blackFriday, at: landed, referrer: MAIL }, last: { ...blackFriday, at: landed, referrer: MAIL } });

    await vi.advanceTimersByTimeAsync(20_000);
    page.history.pushState({}, "", "/checkout");
    await vi.advanceTimersByTimeAsync(0);
    t.track("Order Completed", { total: 30 });
    await t.flush();
    const [view, checkout, order] = received(edge);
    expect(view?.context.page?.url).toBe(LANDING);
    expect(view?.context.campaign).toEqual(blackFriday);
    expect(checkout?.context.page?.path).toBe("/checkout");
    expect(checkout?.context.campaign).toEqual(blackFriday);
    expect(order).toMatchObject({ event: "Order Completed", context: { campaign: blackFriday, page: { path: "/checkout", search: "" } } });
    // Still the landing's touch, not a new one at the navigation.
    expect(t.attribution()?.last.at).toBe(landed);
  });

  it("a later campaign in the session is its last touch; the first stays; a referrer from the site itself is not kept", async () => {
    const edge = fakeEdge();
    const page = fakePage(LANDING, MAIL);
    const t = load(edge, memoryStorage(), page);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    page.history.pushState({}, "", "/sale?utm_source=google&utm_medium=cpc&gclid=xyz");
    page.document.referrer = `${SITE}/`;
    await vi.advanceTimersByTimeAsync(0);
    expect(t.attribution()).toEqual({
      first: { ...blackFriday, at: landed, referrer: MAIL },
      last: { source: "google", medium: "cpc", gclid: "xyz", at: landed + 5 * 60_000 },
    });
    page.history.pushState({}, "", "/cart");
    await vi.advanceTimersByTimeAsync(0);
    await t.flush();
    expect(received(edge).map((e) => [e.context.page?.path, e.context.campaign?.source])).toEqual([
      ["/", "newsletter"],
      ["/sale", "google"],
      ["/cart", "google"],
    ]);
  });

  it("survives reloads within the session, and starts afresh with the next session", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    const first = load(edge, storage, fakePage(LANDING, MAIL));
    await first.flush();
    const session = first.ids().sessionId;

    // Reloads of the landing page itself are not new touches.
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    const reloaded = load(edge, storage, fakePage(LANDING, MAIL));
    await reloaded.ready;
    expect(reloaded.attribution()?.last.at).toBe(landed);
    const elsewhere = load(edge, storage, fakePage(`${SITE}/account`, `${SITE}/`));
    elsewhere.track("Subscribed");
    await elsewhere.flush();
    expect(received(edge).at(-1)).toMatchObject({ event: "Subscribed", context: { sessionId: session, campaign: blackFriday } });
    expect(elsewhere.attribution()?.first).toEqual({ ...blackFriday, at: landed, referrer: MAIL });

    // 31 minutes without events: the session, and its touches, are over.
    await vi.advanceTimersByTimeAsync(31 * 60_000);
    expect(elsewhere.attribution()).toBeNull();
    const later = load(edge, storage, fakePage(`${SITE}/account`));
    later.track("Plan Changed");
    await later.flush();
    const changed = received(edge).at(-1);
    expect(changed?.context.sessionId).not.toBe(session);
    expect(changed?.context.campaign).toBeUndefined();
    expect(later.attribution()).toBeNull();

    const back = load(edge, storage, fakePage(`${SITE}/?utm_source=google&fbclid=fb1`, "https://www.google.com/"));
    await back.ready;
    const touch = { source: "google", fbclid: "fb1", at: Date.now(), referrer: "https://www.google.com/" };
    expect(back.attribution()).toEqual({ first: touch, last: touch });
  });

  it("a landing is a touch even when nothing is recorded before the app navigates on (page views off)", async () => {
    const edge = fakeEdge();
    const page = fakePage(LANDING, MAIL);
    const t = load(edge, memoryStorage(), page, { pageviews: false });
    await t.ready;
    page.history.pushState({}, "", "/checkout");
    await vi.advanceTimersByTimeAsync(1000);
    t.track("Order Completed");
    await t.flush();
    expect(received(edge)).toHaveLength(1);
    expect(received(edge)[0]?.context.campaign).toEqual(blackFriday);
    expect(t.attribution()?.first.at).toBe(landed);
  });

  it("reset and opting out forget the touches", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    const t = load(edge, storage, fakePage(LANDING));
    await t.ready;
    expect(t.attribution()?.last.source).toBe("newsletter");
    t.reset();
    expect(t.attribution()).toBeNull();
    const again = load(edge, storage, fakePage(LANDING));
    await again.ready;
    again.optOut();
    expect(again.attribution()).toBeNull();
    expect(await storage.get("et:s")).not.toContain("newsletter");
  });
});
