import type { Core } from "../../core/client";
import type { RequestInfo } from "../../core/types";
import type { FetchFn, Xhr } from "../browser/dom";

/** Where network capture hooks in: a global object with `fetch` and maybe `XMLHttpRequest`. */
export interface NetworkGlobals {
  fetch?: FetchFn;
  XMLHttpRequest?: { prototype: Xhr };
}

const now = (): number => Date.now();

/**
 * Records `fetch` and `XMLHttpRequest` calls as network events: URLs without query string or
 * fragment (they carry tokens and personal data), never the SDK's own requests to `endpoint`,
 * each call sampled by `allows("network")`. `base` resolves relative URLs (the page's address).
 * `captureNetwork(client, globalThis, "https://edge.example.com", () => location.href)`
 */
export function captureNetwork(c: Core, g: NetworkGlobals, endpoint: string, base?: () => string): void {
  const clean = (url: string): string => {
    try {
      const u = new URL(url, base?.());
      return u.origin + u.pathname;
    } catch {
      return url.replace(/[?#].*$/, "");
    }
  };
  // Decided before the call: the SDK's own traffic and calls sampled out cost nothing more.
  const wanted = (url: string): boolean => !clean(url).startsWith(endpoint) && c.allows("network");
  const record = (method: string, url: string, started: number, status: number, responseBytes?: string | null, body?: unknown, error?: unknown): void => {
    const request: RequestInfo = { method: method.toUpperCase(), url: clean(url), status, duration: now() - started };
    if (typeof body === "string") request.requestBytes = body.length;
    if (responseBytes) request.responseBytes = Number(responseBytes) || 0;
    if (error !== undefined) request.error = String(error instanceof Error ? error.message : error).slice(0, 1024);
    c.network(request);
  };

  const original = g.fetch;
  if (original) {
    g.fetch = async (input, init) => {
      const r = input as { url?: string; method?: string };
      const url = typeof input === "string" ? input : (r.url ?? String(input));
      const method = init?.method ?? r.method ?? "GET";
      if (!wanted(url)) return original.call(g, input, init);
      const started = now();
      try {
        const res = await original.call(g, input, init);
        record(method, url, started, res.status, res.headers.get("content-length"), init?.body);
        return res;
      } catch (err) {
        record(method, url, started, 0, null, init?.body, err);
        throw err;
      }
    };
  }

  const proto = g.XMLHttpRequest?.prototype;
  if (!proto) return;
  const { open, send } = proto;
  const calls = new WeakMap<Xhr, [string, string]>();
  proto.open = function (this: Xhr, method: string, url: string | URL, ...rest: unknown[]) {
    calls.set(this, [method, String(url)]);
    open.call(this, method, url, ...rest);
  };
  proto.send = function (this: Xhr, body?: unknown) {
    const call = calls.get(this);
    if (call && wanted(call[1])) {
      const started = now();
      this.addEventListener("loadend", () => record(call[0], call[1], started, this.status, this.getResponseHeader("content-length"), body, this.status ? undefined : "network error"));
    }
    send.call(this, body);
  };
}
