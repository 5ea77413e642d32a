import { contentHash } from "./hash";
import type { PerfInput } from "./transaction";
import { arr, compact, epochMs, obj, str, type Json } from "./values";

const MAX_ATTRIBUTES = 40;

// Streamed span attributes arrive as `{key: {value, type}}`; older span items as plain values.
function attributesOf(v: unknown): Json {
  const out: Json = {};
  for (const [k, raw] of Object.entries(obj(v))) {
    const inner = raw !== null && typeof raw === "object" && !Array.isArray(raw) && "value" in raw ? (raw as Json).value : raw;
    out[k] = inner;
  }
  return out;
}

// What a span says about itself beyond Sentry's own bookkeeping (URLs, HTTP status, db system…).
function ownAttributes(attrs: Json): Json | undefined {
  const out: Json = {};
  let n = 0;
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("sentry.") || k.startsWith("user.") || n >= MAX_ATTRIBUTES) continue;
    if (typeof v === "string") out[k.slice(0, 128)] = v.slice(0, 512);
    else if (typeof v === "number" || typeof v === "boolean") out[k.slice(0, 128)] = v;
    else continue;
    n++;
  }
  return n > 0 ? out : undefined;
}

/**
 * Translates a `span` item, as SDKs that stream spans send it (`{version: 2, items: [span…]}`,
 * or one span of the older kind), into `perf` events: a segment span (the root, what a
 * transaction was) is named by its name with `kind: "transaction"`, every other span by its op
 * with `kind: "span"`, its name as description and its segment's name as transaction, the same
 * shape as a transaction item's.
 * @example perfFromSpans({version: 2, items: [{name: "GET /", is_segment: true, start_timestamp: 1, end_timestamp: 2}]}, {})[0]?.metric.value === 1000
 */
export function perfFromSpans(payload: Json, envelopeSdk: Json): PerfInput[] {
  const spans = Array.isArray(payload.items) ? arr(payload.items) : [payload];
  const out: PerfInput[] = [];
  for (const raw of spans) {
    const span = obj(raw);
    const attrs = { ...attributesOf(span.data), ...attributesOf(span.attributes) };
    const start = epochMs(span.start_timestamp);
    const end = epochMs(span.end_timestamp ?? span.timestamp);
    if (start === undefined || end === undefined || end < start) continue;
    const segment = span.is_segment === true;
    const op = str(attrs["sentry.op"], 128) ?? str(span.op, 128);
    const name = str(span.name, 1024) ?? str(span.description, 1024);
    const traceId = str(span.trace_id, 64);
    const spanId = str(span.span_id, 64);
    const release = str(attrs["sentry.release"], 256);
    const library = compact({ name: str(attrs["sentry.sdk.name"], 128) ?? str(envelopeSdk.name, 128), version: str(attrs["sentry.sdk.version"], 64) ?? str(envelopeSdk.version, 64) });
    out.push(
      compact({
        type: "perf" as const,
        messageId: traceId && spanId ? `${traceId}:${spanId}` : `span:${contentHash(JSON.stringify(span))}`,
        userId: str(attrs["user.id"], 256),
        anonymousId: traceId ?? "sentry",
        timestamp: start,
        context: compact({ library: Object.keys(library).length > 0 ? library : undefined, app: release ? { version: release } : undefined }),
        traits: attrs["user.email"] || attrs["user.name"] ? compact({ email: str(attrs["user.email"], 256), username: str(attrs["user.name"], 256) }) : undefined,
        properties: compact({
          kind: segment ? "transaction" : "span",
          transaction: str(attrs["sentry.segment.name"], 1024) ?? (segment ? name : undefined),
          op,
          description: segment ? undefined : name,
          status: str(span.status, 64),
          origin: str(attrs["sentry.origin"], 128),
          environment: str(attrs["sentry.environment"], 256),
          release,
          traceId,
          spanId,
          parentSpanId: str(span.parent_span_id, 64),
          attributes: ownAttributes(attrs),
        }),
        metric: { name: (segment ? str(name, 128) : op) ?? "span", value: end - start, unit: "ms" },
      }),
    );
  }
  return out;
}
