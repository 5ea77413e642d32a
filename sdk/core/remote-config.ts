import type { CaptureSwitches, FlagSubject, Flags, Props, RemoteConfig, Transport } from "./types";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Keeps only the fields the SDK understands, of the right types: `sanitize({capture: {network: "no"}}) // {sampling: {}, capture: {}, config: {}, flags: {}}`. */
export function sanitize(value: unknown): RemoteConfig {
  const sampling: Record<string, number> = {};
  const capture: Record<string, boolean> = {};
  let flags: Flags = {};
  let config: Props = {};
  if (isObject(value)) {
    if (isObject(value.sampling)) {
      for (const [k, v] of Object.entries(value.sampling)) if (typeof v === "number" && v >= 0 && v <= 1) sampling[k] = v;
    }
    if (isObject(value.capture)) {
      for (const [k, v] of Object.entries(value.capture)) if (typeof v === "boolean") capture[k] = v;
    }
    // Read with `?.` everywhere: an odd entry reads as a flag without a value, never as a throw.
    if (isObject(value.flags)) flags = value.flags as Flags;
    if (isObject(value.config)) config = value.config;
  }
  return { sampling, capture: capture as CaptureSwitches, config, flags };
}

/**
 * The app's configuration and the flags' answers from `GET /v1/config` for the caller the query
 * describes (`&anonymousId=…&userId=…`), with the answer's ETag; `undefined` when the edge has
 * none, cannot be reached, or answers 304 to `etag`: the SDK then keeps what it has.
 * `await fetchRemoteConfig(transport, "https://edge.example.com", "wk_…", "&userId=u_42")`
 */
export async function fetchRemoteConfig(transport: Transport, endpoint: string, writeKey: string, query = "", etag?: string | null): Promise<(RemoteConfig & { etag?: string | null }) | undefined> {
  // The key travels in the query string so the request stays "simple": no CORS preflight.
  const res = await transport({ url: `${endpoint}/v1/config?writeKey=${encodeURIComponent(writeKey)}${query}`, method: "GET", headers: etag ? { "if-none-match": etag } : {} });
  return res.status === 200 && isObject(res.body) ? { ...sanitize(res.body), etag: res.etag } : undefined;
}

/**
 * Every flag's answer for one caller, from `POST /v1/flags`, or `undefined` when the edge cannot
 * answer. `await evaluateFlags(transport, "https://edge.example.com", "wk_…", {userId: "u_42"})`
 */
export async function evaluateFlags(transport: Transport, endpoint: string, writeKey: string, subject: FlagSubject): Promise<Flags | undefined> {
  const res = await transport({
    url: `${endpoint}/v1/flags`,
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${writeKey}:`)}`, "content-type": "application/json" },
    body: JSON.stringify(subject),
  });
  return res.status === 200 && isObject(res.body) ? sanitize(res.body).flags : undefined;
}
