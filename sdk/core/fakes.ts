// Test doubles for the core's unit tests: an in-memory edge and a platform around it.
import { createClient, type Core } from "./client";
import { memoryStorage } from "./storage";
import type { HttpRequest, HttpResponse, Options, Storage, WireEvent } from "./types";

/** An in-memory edge: records each request and answers from a script, then 200 with everything accepted. */
export interface FakeEdge {
  requests: HttpRequest[];
  /** Events of every batch request, in order sent. */
  batches: WireEvent[][];
  /** Answers for the next requests, in order; a function answers from the request. */
  answers: Array<HttpResponse | ((req: HttpRequest) => HttpResponse)>;
  /** While true, every request fails as if the network were down (status 0). */
  down: boolean;
  /** The answer to `GET /v1/config`; a function answers from the request. */
  config: HttpResponse | ((req: HttpRequest) => HttpResponse);
  /** Every `GET /v1/config` request, in order. */
  configRequests: HttpRequest[];
  transport(req: HttpRequest): Promise<HttpResponse>;
}

/** A fresh fake edge: `const edge = fakeEdge(); edge.answers.push({status: 503, retryAfter: "2"})`. */
export function fakeEdge(): FakeEdge {
  const edge: FakeEdge = {
    requests: [],
    batches: [],
    answers: [],
    down: false,
    config: { status: 404 },
    configRequests: [],
    async transport(req) {
      if (req.method === "GET") {
        edge.configRequests.push(req);
        return edge.down ? { status: 0 } : typeof edge.config === "function" ? edge.config(req) : edge.config;
      }
      edge.requests.push(req);
      const batch = (JSON.parse(req.body ?? "{}") as { batch: WireEvent[] }).batch;
      edge.batches.push(batch);
      if (edge.down) return { status: 0 };
      const next = edge.answers.shift();
      if (next) return typeof next === "function" ? next(req) : next;
      return { status: 200, body: { accepted: batch.length, duplicates: 0, rejected: [] } };
    },
  };
  return edge;
}

/** Every event the fake edge received, flattened. */
export const received = (edge: FakeEdge): WireEvent[] => edge.batches.flat();

/** A core client on a fake platform: `const t = fakeClient(edge, {flushAt: 2})`. */
export function fakeClient(edge: FakeEdge, options: Partial<Options> = {}, storage: Storage = memoryStorage()): Core {
  return createClient(
    {
      storage,
      transport: (req) => edge.transport(req),
      library: { name: "test", version: "0" },
      context: () => ({ locale: "en-GB" }),
      capture: { errors: true, network: true, vitals: true },
    },
    { writeKey: "wk_test", endpoint: "https://edge.test/", remoteConfig: false, ...options },
  );
}
