// The script-tag build: one global, `Telemetry`. Calls made before `Telemetry.init` wait for it,
// and `<script src="telemetry.min.js" data-write-key="wk_…" data-endpoint="https://…">`
// initialises it without any code.
import type { Client } from "./core/client";
import type { Options } from "./core/types";
import { startSpan, timed, type Span, type SpanOptions } from "./core/spans";
import { init } from "./platforms/browser";

type Method = Exclude<keyof Client, "ready" | "configured" | "flagsReady" | "startSpan" | "span">;
const METHODS: Method[] = ["track", "page", "screen", "identify", "alias", "group", "captureError", "perf", "network", "register", "unregister", "reset", "flush", "optIn", "optOut", "isOptedOut", "attribution", "ids", "shutdown", "getFlag", "isEnabled", "getVariant", "getConfig", "flags", "reloadFlags", "onFlags"];

let client: Client | undefined;
const early: Array<[Method, unknown[]]> = [];
const call = (m: Method, args: unknown[]): unknown => (client?.[m] as ((...a: unknown[]) => unknown) | undefined)?.(...args);

/** The `Telemetry` global: `Telemetry.init({writeKey: "wk_…", endpoint: "https://edge.example.com"}); Telemetry.track("Signed Up")`. */
const Telemetry: Record<string, unknown> & { init(options: Options): Client } = {
  init(options) {
    // A second init (a snippet included twice) keeps the first client rather than doubling capture.
    client ??= init(options);
    for (const [m, args] of early.splice(0)) call(m, args);
    return client;
  },
};
for (const m of METHODS) Telemetry[m] = (...args: unknown[]) => (client ? call(m, args) : void early.push([m, args]));
// A span times what runs now: before init it runs all the same, on a span that reports to nobody.
Telemetry.startSpan = (name: string, options?: SpanOptions): Span => client?.startSpan(name, options) ?? startSpan(name, options);
Telemetry.span = <T>(name: string, fn: (span: Span) => T, options?: SpanOptions): T => (client ? client.span(name, fn, options) : timed(startSpan(name, options), fn));

const g = globalThis as unknown as { Telemetry?: typeof Telemetry; document?: { currentScript?: { getAttribute(n: string): string | null } | null } };
g.Telemetry = Telemetry;
const script = g.document?.currentScript;
const writeKey = script?.getAttribute("data-write-key");
const endpoint = script?.getAttribute("data-endpoint");
if (writeKey && endpoint) Telemetry.init({ writeKey, endpoint });
