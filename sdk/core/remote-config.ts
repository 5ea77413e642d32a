import type { CaptureSwitches, RemoteConfig, Transport } from "./types";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Keeps only the fields the SDK understands, of the right types: `sanitize({capture: {network: "no"}}) // {sampling: {}, capture: {}}`. */
export function sanitize(value: unknown): RemoteConfig {
  const sampling: Record<string, number> = {};
  const capture: Record<string, boolean> = {};
  if (isObject(value)) {
    if (isObject(value.sampling)) {
      for (const [k, v] of Object.entries(value.sampling)) if (typeof v === "number" && v >= 0 && v <= 1) sampling[k] = v;
    }
    if (isObject(value.capture)) {
      for (const [k, v] of Object.entries(value.capture)) if (typeof v === "boolean") capture[k] = v;
    }
  }
  return { sampling, capture: capture as CaptureSwitches };
}

/**
 * The app's configuration from `GET /v1/config`, or `undefined` when the edge has none or
 * cannot be reached: the SDK then keeps its local settings.
 * `await fetchRemoteConfig(transport, "https://edge.example.com", "wk_…")`
 */
export async function fetchRemoteConfig(transport: Transport, endpoint: string, writeKey: string): Promise<RemoteConfig | undefined> {
  // The key travels in the query string so the request stays "simple": no CORS preflight.
  const res = await transport({ url: `${endpoint}/v1/config?writeKey=${encodeURIComponent(writeKey)}`, method: "GET", headers: {} });
  return res.status === 200 && isObject(res.body) ? sanitize(res.body) : undefined;
}
