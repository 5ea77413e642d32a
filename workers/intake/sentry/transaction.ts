import type { z } from "zod";
import type { NetworkEvent, PerfEvent } from "../../../schemas";
import { mergeDefined } from "../../lib/json";
import { basisOf } from "./context";
import { measuredMetrics, requestOfSpan } from "./network";
import { arr, compact, epochMs, num, obj, str, type Json } from "./values";

/** A `perf` event in our wire shape, before validation. */
export type PerfInput = z.input<typeof PerfEvent>;
/** A `network` event in our wire shape, before validation. */
export type NetworkInput = z.input<typeof NetworkEvent>;

/** The longest transaction name kept: a perf metric's name, which its spans must repeat exactly. */
export const MAX_TRANSACTION_NAME = 128;

const MAX_SPANS = 1000;

function durationMs(start: number | undefined, end: number | undefined): number | undefined {
  return start !== undefined && end !== undefined && end >= start ? end - start : undefined;
}

// Web vitals and other measurements, as `{lcp: {value: 1840, unit: "millisecond"}}` → `{lcp: 1840}`.
function measurementsOf(v: unknown): Json | undefined {
  const out: Json = {};
  for (const [k, m] of Object.entries(obj(v))) {
    const value = num(obj(m).value);
    if (value !== undefined) out[k.slice(0, 64)] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Translates a Sentry transaction into `perf` events: one for the transaction (its name, its
 * duration in ms), one per web vital or app start among its measurements, and one per finished
 * span (named by its `op`, with its description, and its transaction's name exactly as the
 * transaction's metric has it), so a breakdown by span op within a transaction can be queried.
 * An `http.client` span is also the `network` event of the call it made. Everything shares the
 * transaction's user, context and labels, and takes a message id derived from the event id
 * (`<event id>:<span id>`, `<event id>:m:LCP`) so a retried envelope is deduplicated piece by piece.
 * @example perfFromTransaction({event_id: "e1", transaction: "GET /", start_timestamp: 1, timestamp: 1.5}, {})[0]?.metric.value === 500
 */
export function perfFromTransaction(event: Json, envelopeSdk: Json): Array<PerfInput | NetworkInput> {
  const basis = basisOf(event, envelopeSdk);
  const trace = obj(obj(event.contexts).trace);
  const start = epochMs(event.start_timestamp);
  const end = epochMs(event.timestamp);
  const eventId = str(event.event_id, 200);
  const name = str(event.transaction, MAX_TRANSACTION_NAME) ?? str(trace.op, MAX_TRANSACTION_NAME) ?? "transaction";
  const spans = arr(event.spans).slice(0, MAX_SPANS).map(obj);
  const out: Array<PerfInput | NetworkInput> = [
    compact({
      type: "perf" as const,
      messageId: eventId,
      userId: basis.userId,
      anonymousId: basis.anonymousId,
      timestamp: start ?? end,
      context: basis.context,
      traits: basis.traits,
      properties: mergeDefined(basis.properties, {
        kind: "transaction",
        transaction: name,
        op: str(trace.op, 128),
        status: str(trace.status, 64),
        source: str(obj(event.transaction_info).source, 32),
        spans: spans.length,
        measurements: measurementsOf(event.measurements),
      }),
      metric: { name, value: durationMs(start, end) ?? 0, unit: "ms" },
    }),
  ];
  for (const m of measuredMetrics(event.measurements)) {
    out.push(
      compact({
        type: "perf" as const,
        messageId: eventId ? `${eventId}:m:${m.name}` : undefined,
        userId: basis.userId,
        anonymousId: basis.anonymousId,
        timestamp: start ?? end,
        context: basis.context,
        properties: mergeDefined(basis.properties, { transaction: name, op: str(trace.op, 128) }),
        metric: m,
      }),
    );
  }
  for (const span of spans) {
    const spanStart = epochMs(span.start_timestamp);
    const value = durationMs(spanStart, epochMs(span.timestamp));
    // An unfinished span has no duration to report.
    if (value === undefined) continue;
    const spanId = str(span.span_id, 64);
    out.push(
      compact({
        type: "perf" as const,
        messageId: eventId && spanId ? `${eventId}:${spanId}` : undefined,
        userId: basis.userId,
        anonymousId: basis.anonymousId,
        timestamp: spanStart,
        context: basis.context,
        properties: compact({
          environment: basis.properties.environment,
          release: basis.properties.release,
          kind: "span",
          transaction: name,
          op: str(span.op, 128),
          description: str(span.description, 1024),
          status: str(span.status, 64),
          origin: str(span.origin, 128),
          traceId: str(span.trace_id, 64) ?? basis.properties.traceId,
          spanId,
          parentSpanId: str(span.parent_span_id, 64),
        }),
        metric: { name: str(span.op, 128) ?? "span", value, unit: "ms" },
      }),
    );
    const request = requestOfSpan(str(span.op, 128), obj(span.data), str(span.description, 4096), str(span.status, 64), value);
    if (request)
      out.push(
        compact({
          type: "network" as const,
          messageId: eventId && spanId ? `${eventId}:${spanId}:net` : undefined,
          userId: basis.userId,
          anonymousId: basis.anonymousId,
          timestamp: spanStart,
          context: basis.context,
          properties: compact({ environment: basis.properties.environment, release: basis.properties.release, transaction: name, traceId: str(span.trace_id, 64) ?? basis.properties.traceId, spanId }),
          request,
        }),
      );
  }
  return out;
}
