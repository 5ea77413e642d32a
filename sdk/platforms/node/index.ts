import { createClient, type Client } from "../../core/client";
import { evaluateFlags } from "../../core/remote-config";
import { memoryStorage } from "../../core/storage";
import { fetchTransport } from "../../core/transport";
import type { CaptureSwitches, FlagSubject, Flags, Options } from "../../core/types";
import { VERSION } from "../../core/version";
import { captureNetwork, type NetworkGlobals } from "../shared/network";

// A server makes many calls of its own: network capture is opt-in here.
const DEFAULTS: CaptureSwitches = { errors: true, network: false };

/** The client `init` returns in Node: the SDK's, with flags evaluated for any user: `await t.evaluateFlags({userId: "u_42"})`. */
export interface NodeClient extends Client {
  /**
   * Every flag's answer for one user of many (a server rendering for them), from the edge; no
   * exposure is recorded, and `{}` comes back when the edge cannot answer, so each flag reads as unknown.
   * `const flags = await t.evaluateFlags({userId: "u_42", traits: {plan: "pro"}}); flags["new-checkout"]?.value`
   */
  evaluateFlags(subject: FlagSubject): Promise<Flags>;
}

/**
 * Starts the SDK in Node: events wait in memory and are sent when the process is about to exit
 * (`beforeExit`), or by `await client.shutdown()` from your own signal handler. With `errors`
 * on, an uncaught exception or unhandled rejection is recorded as a fatal crash and sent before
 * the process exits with code 1, as it would have without the SDK (unless the app listens too).
 * `const t = init({writeKey: "wk_…", endpoint: "https://edge.example.com"}); t.track("Job Done"); await t.shutdown()`
 */
export function init(options: Options): NodeClient {
  const c = createClient(
    {
      storage: memoryStorage(),
      transport: fetchTransport(options.compress !== false),
      library: { name: "edge-telemetry-node", version: VERSION },
      context: () => ({ os: { name: process.platform }, runtime: { name: "node", version: process.version } }),
      capture: DEFAULTS,
      name: "node",
    },
    options,
  );
  const on = (kind: keyof CaptureSwitches): boolean => (options.capture?.[kind] ?? DEFAULTS[kind]) === true;
  if (on("network")) captureNetwork(c, globalThis as unknown as NetworkGlobals, c.endpoint);

  let exiting = false;
  process.on("beforeExit", () => {
    // beforeExit fires again once the flush is done; one flush per exit is enough.
    if (exiting) return;
    exiting = true;
    void c.shutdown();
  });

  if (on("errors")) {
    const fatal = (event: "uncaughtException" | "unhandledRejection") => (error: unknown) => {
      if (c.allows("errors")) c.captureError(error, { fatal: true, handled: false });
      // Another listener means the app handles errors itself; without one on unhandledRejection,
      // Node would hand the rejection to uncaughtException listeners.
      const handled = process.listenerCount(event) > 1 || (event === "unhandledRejection" && process.listenerCount("uncaughtException") > 1);
      if (handled) return;
      exiting = true;
      void c.shutdown(2000).finally(() => {
        console.error(error);
        process.exit(1);
      });
    };
    process.on("uncaughtException", fatal("uncaughtException"));
    process.on("unhandledRejection", fatal("unhandledRejection"));
  }
  return Object.assign(c, {
    evaluateFlags: async (subject: FlagSubject): Promise<Flags> => {
      const flags = await evaluateFlags(c.transport, c.endpoint, options.writeKey, subject);
      if (!flags) console.warn("[telemetry] could not evaluate flags; every flag reads as unknown");
      return flags ?? {};
    },
  });
}

export type { Client } from "../../core/client";
export type * from "../../core/types";
export type { Span, SpanOptions } from "../../core/spans";
