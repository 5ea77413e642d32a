// The browser build as a page starts it: its globals are this test's fake window.
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { fakeEdge, received, type FakeEdge } from "../../core/fakes";
import type { WireEvent } from "../../core/types";
import { init } from "./index";

const SITE = "https://shop.example";

/** Stubs the globals a page has at `url`; `leave()` fires `pagehide` and returns what the beacon carried. */
function openPage(url: string) {
  const location = { href: "", pathname: "", search: "", hash: "", origin: SITE };
  const go = (to: unknown): void => {
    const u = new URL(String(to), location.href || SITE);
    Object.assign(location, { href: u.href, pathname: u.pathname, search: u.search });
  };
  go(url);
  const listeners = new Map<string, Array<() => void>>();
  const on = (type: string, fn: () => void): void => void listeners.set(type, [...(listeners.get(type) ?? []), fn]);
  const beacons: WireEvent[] = [];
  const storage = new Map<string, string>();
  vi.stubGlobal("location", location);
  const history = { pushState: (_s: unknown, _t: unknown, to: unknown) => go(to), replaceState: (_s: unknown, _t: unknown, to: unknown) => go(to) };
  const document = { title: "Shop", referrer: "", visibilityState: "visible", readyState: "complete", addEventListener: on };
  vi.stubGlobal("history", history);
  vi.stubGlobal("document", document);
  vi.stubGlobal("navigator", {
    userAgent: "test",
    language: "en-GB",
    sendBeacon: (_url: string, body: string) => {
      beacons.push(...(JSON.parse(body) as { batch: WireEvent[] }).batch);
      return true;
    },
  });
  vi.stubGlobal("localStorage", { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => storage.set(k, v), removeItem: (k: string) => storage.delete(k) });
  vi.stubGlobal("addEventListener", on);
  return {
    history,
    document,
    leave: (): WireEvent[] => {
      for (const fn of listeners.get("pagehide") ?? []) fn();
      return beacons;
    },
  };
}

const start = (edge: FakeEdge) =>
  init({ writeKey: "wk_test", endpoint: SITE, remoteConfig: false, flushInterval: 60_000, transport: (req) => edge.transport(req), capture: { pageviews: true, errors: false, network: false, vitals: false, interactions: false } });

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const paths = (events: WireEvent[]): Array<[string, string | undefined]> => events.map((e) => [e.type === "page" ? "page" : String(e.event), e.context.page?.path]);

it("records a navigation's page view before an event the app records in the same tick", async () => {
  const { history } = openPage(`${SITE}/`);
  const edge = fakeEdge();
  const t = start(edge);
  await t.ready;
  history.pushState({}, "", "/checkout");
  t.track("Order Completed");
  await t.flush();
  expect(paths(received(edge))).toEqual([
    ["page", "/"],
    ["page", "/checkout"],
    ["Order Completed", "/checkout"],
  ]);
});

it("sends a navigation's page view with the beacon when the page is left before it was recorded", async () => {
  const page = openPage(`${SITE}/`);
  const t = start(fakeEdge());
  await t.ready;
  page.history.pushState({}, "", "/checkout");
  expect(paths(page.leave())).toEqual([
    ["page", "/"],
    ["page", "/checkout"],
  ]);
});

it("records a navigation once, after the router has set the new title", async () => {
  const { history, document } = openPage(`${SITE}/`);
  const edge = fakeEdge();
  const t = start(edge);
  await t.ready;
  history.pushState({}, "", "/cart");
  document.title = "Cart";
  history.replaceState({}, "", "/cart");
  await vi.advanceTimersByTimeAsync(0);
  await t.flush();
  expect(received(edge).map((e) => [e.context.page?.path, e.context.page?.title])).toEqual([
    ["/", "Shop"],
    ["/cart", "Cart"],
  ]);
});
