// The platform-free core, for custom platforms and tests: bring a storage and a transport.
export { createClient, type Client, type Core } from "./client";
export { fetchTransport } from "./transport";
export { memoryStorage } from "./storage";
export { classify, backoff, parseRetryAfter, type Verdict } from "./retry";
export { parseStack, crashInfo } from "./stack";
export { MAX_CHILD_SPANS, type Span, type SpanOptions } from "./spans";
export type * from "./types";
