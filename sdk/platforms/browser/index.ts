import { createClient, type Client } from "../../core/client";
import { fetchTransport } from "../../core/transport";
import type { CaptureSwitches, Options } from "../../core/types";
import { VERSION } from "../../core/version";
import { captureNetwork } from "../shared/network";
import { localStore, pageContext } from "./context";
import type { Win } from "./dom";
import { captureErrors } from "./errors";
import { captureInteractions } from "./interactions";
import { capturePageviews } from "./pageviews";
import { captureVitals } from "./vitals";

const DEFAULTS: CaptureSwitches = { pageviews: true, errors: true, network: true, vitals: true, interactions: true };

/**
 * Starts the SDK in a browser: events persist in `localStorage`, auto-capture is on (each
 * switch in `options.capture`), and the queue leaves with `sendBeacon` when the page is hidden.
 * `const t = init({writeKey: "wk_…", endpoint: "https://edge.example.com"}); t.track("Signed Up")`
 */
export function init(options: Options): Client {
  const w = globalThis as unknown as Win;
  // A navigation's page view waits a tick for the router's title, but an event recorded or a page
  // left within that tick must not go before it, or without it.
  let settle = (): void => undefined;
  const c = createClient(
    {
      storage: localStore(w),
      transport: fetchTransport(options.compress !== false),
      library: { name: "edge-telemetry-web", version: VERSION },
      context: () => {
        settle();
        return pageContext(w);
      },
      capture: DEFAULTS,
      inApp: (file) => file.startsWith(w.location.origin),
      name: "web",
      httpCache: true,
    },
    options,
  );
  const on = (kind: keyof CaptureSwitches): boolean => (options.capture?.[kind] ?? DEFAULTS[kind]) === true;
  if (on("errors")) captureErrors(c, w);
  if (on("network")) captureNetwork(c, w, c.endpoint, () => w.location.href);
  if (on("interactions")) captureInteractions(c, w);
  const vitals = on("vitals") ? captureVitals(c, w) : undefined;
  if (on("pageviews")) settle = capturePageviews(c, w);

  const leave = (): void => {
    settle();
    vitals?.();
    c.beacon((url, body) => {
      if (w.navigator.sendBeacon) return w.navigator.sendBeacon(url, body);
      void c.transport({ url, method: "POST", headers: { "content-type": "text/plain" }, body, keepalive: true });
      return true;
    });
  };
  // A tab coming back may have been away for hours: its flags are asked for again.
  w.document.addEventListener("visibilitychange", () => (w.document.visibilityState === "hidden" ? leave() : void c.reloadFlags()));
  w.addEventListener("pagehide", leave);
  w.addEventListener("online", () => c.retryNow());
  return c;
}

export type { Client } from "../../core/client";
export type * from "../../core/types";
export type { Span, SpanOptions } from "../../core/spans";
