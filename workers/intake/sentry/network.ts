import type { z } from "zod";
import type { NetworkEvent } from "../../../schemas";
import { num, obj, str, type Json } from "./values";

/** A `network` event's request in our wire shape, before validation. */
export type RequestInput = z.input<typeof NetworkEvent>["request"];

/** One measurement of a transaction or span as our perf metric. */
export interface Measured {
  name: string;
  value: number;
  unit: string;
}

// Sentry's measurement names for what our SDK sends as vitals and app starts; any other
// measurement stays in the transaction's properties.
const MEASURED: Readonly<Record<string, string>> = {
  lcp: "LCP",
  fcp: "FCP",
  ttfb: "TTFB",
  cls: "CLS",
  inp: "INP",
  app_start_cold: "app_start_cold",
  app_start_warm: "app_start_warm",
};

const TO_MS: Readonly<Record<string, number>> = { millisecond: 1, second: 1000, microsecond: 0.001, nanosecond: 0.000001 };

/**
 * The vitals and app starts among a transaction's (or span's) `measurements`, in ms (CLS as a
 * score): `{lcp: {value: 1.84, unit: "second"}}` → `[{name: "LCP", value: 1840, unit: "ms"}]`.
 */
export function measuredMetrics(v: unknown): Measured[] {
  const out: Measured[] = [];
  for (const [key, raw] of Object.entries(obj(v))) {
    const name = MEASURED[key.toLowerCase()];
    const m = obj(raw);
    const value = num(m.value);
    if (name === undefined || value === undefined) continue;
    if (name === "CLS") {
      out.push({ name, value, unit: "score" });
      continue;
    }
    const scale = TO_MS[str(m.unit, 32) ?? "millisecond"];
    // A time in a unit we cannot convert would be stored as the wrong number of ms.
    if (scale !== undefined) out.push({ name, value: value * scale, unit: "ms" });
  }
  return out;
}

const DESCRIBED = /^([A-Za-z]+) (\S+)/;

function statusCode(v: unknown): number | undefined {
  const n = typeof v === "string" && /^\d{1,3}$/.test(v) ? Number(v) : num(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 999 ? n : undefined;
}

function bytes(attrs: Json, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const raw = attrs[k];
    const n = typeof raw === "string" && /^\d{1,15}$/.test(raw) ? Number(raw) : num(raw);
    if (n !== undefined && Number.isSafeInteger(n) && n >= 0) return n;
  }
  return undefined;
}

/**
 * The call an `http.client` span (Sentry's fetch and XHR instrumentation) made, read from its
 * data as Sentry's span conventions name it (`http.request.method` or `http.method`, `url`
 * with `http.query`, `http.response.status_code`, `http.response_content_length`…) or, for
 * older SDKs, from its description (`GET https://api.example.com/a`); undefined for any other span.
 * A call that got no status is failed, or timed out when the span says its deadline passed.
 */
export function requestOfSpan(op: string | undefined, attrs: Json, description: string | undefined, spanStatus: string | undefined, durationMs: number): RequestInput | undefined {
  if (op !== "http.client") return undefined;
  const described = DESCRIBED.exec(description ?? "");
  const method = str(attrs["http.request.method"], 16) ?? str(attrs["http.method"], 16) ?? described?.[1];
  let url = str(attrs.url, 4096) ?? str(attrs["url.full"], 4096) ?? str(attrs["http.url"], 4096) ?? described?.[2];
  if (method === undefined || url === undefined) return undefined;
  const query = str(attrs["http.query"], 4096);
  if (query !== undefined && !url.includes("?")) url = `${url}${query.startsWith("?") ? "" : "?"}${query}`.slice(0, 4096);
  const status = statusCode(attrs["http.response.status_code"]) ?? statusCode(attrs["http.status_code"]) ?? statusCode(attrs.status_code);
  const failure = status === undefined && spanStatus !== undefined && spanStatus !== "ok" ? spanStatus.replace(/_/g, " ") : undefined;
  const out: RequestInput = { method: method.toUpperCase(), url, duration: durationMs };
  if (status !== undefined) out.status = status;
  if (failure !== undefined) out.error = failure;
  const requestBytes = bytes(attrs, ["http.request_content_length", "http.request.body.size", "http.request.header.content-length"]);
  const responseBytes = bytes(attrs, ["http.response_content_length", "http.response.body.size", "http.response.header.content-length"]);
  if (requestBytes !== undefined) out.requestBytes = requestBytes;
  if (responseBytes !== undefined) out.responseBytes = responseBytes;
  return out;
}
