// The network views' filters, sort and endpoint keys as they appear in URLs
// (`?platform=ios&release=1.2.0&host=api.example.com&method=GET&sort=p95`), shared by the loaders
// and the pages, so this module stays free of server code.

export const ENDPOINT_SORTS = { calls: "Calls", errors: "Error rate", p95: "p95 latency" } as const;
export type EndpointSort = keyof typeof ENDPOINT_SORTS;

/**
 * Calls an endpoint needs in the range to enter a "worst endpoints" list: below this, one failed
 * or slow call would put a rarely used endpoint on top.
 */
export const WORST_MIN_CALLS = 20;
/** Endpoints the page lists; the CSV has up to ENDPOINT_EXPORT_CAP. */
export const ENDPOINTS_SHOWN = 100;
export const ENDPOINT_EXPORT_CAP = 10_000;
/** Endpoints in each "worst" panel. */
export const WORST_SHOWN = 5;
/** Failing calls an endpoint's page lists at most. */
export const FAILING_CALLS_SHOWN = 50;

export interface NetworkFilters {
  platform: string;
  release: string;
  host: string;
  method: string;
  sort: EndpointSort;
}

export const NETWORK_FILTER_NAMES = ["platform", "release", "host", "method"] as const;

export function parseNetworkFilters(url: URL): NetworkFilters {
  const get = (name: string, max = 128): string => (url.searchParams.get(name) ?? "").trim().slice(0, max);
  const sort = url.searchParams.get("sort");
  return {
    platform: get("platform"),
    release: get("release"),
    host: get("host", 256),
    method: get("method", 16).toUpperCase(),
    sort: sort !== null && Object.hasOwn(ENDPOINT_SORTS, sort) ? (sort as EndpointSort) : "calls",
  };
}

export const isFiltered = (f: NetworkFilters): boolean => NETWORK_FILTER_NAMES.some((k) => f[k] !== "");

/** One endpoint: the calls of one method to one host and path template. */
export interface EndpointKey {
  method: string;
  host: string;
  template: string;
}

const toBase64Url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/**
 * The endpoint as one URL path segment. Templates may hold any character (`/`, `%`, `?`, spaces,
 * non-Latin text), and a segment of base64url survives every decoding on the way to the loader.
 */
export function encodeEndpoint(e: EndpointKey): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([e.method, e.host, e.template])));
}

/** The endpoint a URL segment names, or null when it names none. */
export function decodeEndpoint(segment: string): EndpointKey | null {
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(segment)) return null;
  try {
    const binary = atob(segment.replace(/-/g, "+").replace(/_/g, "/"));
    const parsed: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((p): p is string => typeof p === "string")) return null;
    const [method, host, template] = parsed as [string, string, string];
    return { method, host, template };
  } catch {
    return null;
  }
}

/** `GET api.example.com/orders/:id`, how the views name an endpoint. */
export const endpointLabel = (e: EndpointKey): string => `${e.method || "?"} ${e.host}${e.template.startsWith("/") || e.template === "" ? "" : " "}${e.template}`;

/** Outcomes as the views name them. */
export const OUTCOME_LABELS = { ok: "ok", client_error: "4xx", server_error: "5xx", failed: "failed", timeout: "timeout" } as const;

/** The path the edge templates: a full URL's, or what was typed without its query or fragment. */
export function pathOf(input: string): string {
  const text = input.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      return new URL(text).pathname;
    } catch {
      return "";
    }
  }
  const path = text.split(/[?#]/, 1)[0] ?? "";
  return path.startsWith("/") ? path : `/${path}`;
}
