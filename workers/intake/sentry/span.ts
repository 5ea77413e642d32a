import { contentHash } from "./hash";
import { measuredMetrics, requestOfSpan } from "./network";
import { MAX_TRANSACTION_NAME, type NetworkInput, type PerfInput } from "./transaction";
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
 * shape as a transaction item's; measured vitals (a standalone INP span's) and `http.client`
 * calls become perf and network events of their own, as from a transaction.
 * @example perfFromSpans({version: 2, items: [{name: "GET /", is_segment: true, start_timestamp: 1, end_timestamp: 2}]}, {})[0]?.metric.value === 1000
 */
export function perfFromSpans(payload: Json, envelopeSdk: Json): Array<PerfInput | NetworkInput> {
  const spans = Array.isArray(payload.items) ? arr(payload.items) : [payload];
  const out: Array<PerfInput | NetworkInput> = [];
  for (const raw of spans) {
    const span = obj(raw);
    const attrs = { ...attributesOf(span.data), ...attributesOf(span.attributes) };
    const start = epochMs(span.start_timestamp);
    const end = epochMs(span.end_timestamp ?? span.timestamp);
    if (start === undefined || end === undefined || end < start) continue;
    const segment = span.is_segment === true;
    const op = str(attrs["sentry.op"], 128) ?? str(span.op, 128);
    const name = str(span.name, 1024) ?? str(span.description, 1024);
    // Cut as the segment's own metric name is, so its spans join it by that name.
    const transaction = str(attrs["sentry.segment.name"], MAX_TRANSACTION_NAME) ?? (segment ? str(name, MAX_TRANSACTION_NAME) : undefined);
    const traceId = str(span.trace_id, 64);
    const spanId = str(span.span_id, 64);
    const release = str(attrs["sentry.release"], 256);
    const messageId = traceId && spanId ? `${traceId}:${spanId}` : `span:${contentHash(JSON.stringify(span))}`;
    const userId = str(attrs["user.id"], 256);
    const anonymousId = traceId ?? "sentry";
    const library = compact({ name: str(attrs["sentry.sdk.name"], 128) ?? str(envelopeSdk.name, 128), version: str(attrs["sentry.sdk.version"], 64) ?? str(envelopeSdk.version, 64) });
    const context = compact({ library: Object.keys(library).length > 0 ? library : undefined, app: release ? { version: release } : undefined });
    const environment = str(attrs["sentry.environment"], 256);
    out.push(
      compact({
        type: "perf" as const,
        messageId,
        userId,
        anonymousId,
        timestamp: start,
        context,
        traits: attrs["user.email"] || attrs["user.name"] ? compact({ email: str(attrs["user.email"], 256), username: str(attrs["user.name"], 256) }) : undefined,
        properties: compact({
          kind: segment ? "transaction" : "span",
          transaction,
          op,
          description: segment ? undefined : name,
          status: str(span.status, 64),
          origin: str(attrs["sentry.origin"], 128),
          environment,
          release,
          traceId,
          spanId,
          parentSpanId: str(span.parent_span_id, 64),
          attributes: ownAttributes(attrs),
        }),
        metric: { name: (segment ? transaction : op) ?? "span", value: end - start, unit: "ms" },
      }),
    );
    for (const m of measuredMetrics(span.measurements)) {
      out.push(compact({ type: "perf" as const, messageId: `${messageId}:m:${m.name}`, userId, anonymousId, timestamp: start, context, properties: compact({ transaction, op, environment, release, traceId, spanId }), metric: m }));
    }
    const request = requestOfSpan(op, attrs, name, str(span.status, 64), end - start);
    if (request) {
      out.push(compact({ type: "network" as const, messageId: `${messageId}:net`, userId, anonymousId, timestamp: start, context, properties: compact({ transaction, environment, release, traceId, spanId }), request }));
    }
  }
  return out;
}
