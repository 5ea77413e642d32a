import { BatchRequest, type EventType } from "../../../schemas";
import { HttpError } from "../../lib/errors";
import { isRecord as isObject, without } from "../../lib/json";
import { zodMessage } from "../../lib/validate";
import type { DoorBatch, FoundKey } from "../../ingest/ingest";

/** The Segment event types that have a route of their own. */
export type SegmentType = Extract<EventType, "track" | "page" | "screen" | "identify" | "group" | "alias">;

/**
 * What a Segment path asks for: a batch, one event of a type, or the library's reports about
 * itself (`/v1/m`), which are answered and dropped so the library logs no failures.
 */
export type SegmentRoute = { kind: "batch" } | { kind: "single"; type: SegmentType } | { kind: "library_metrics" };

// Segment's HTTP API paths and the short forms its browser library posts to (`/v1/t`…, `/v1/b`);
// `import` is the older name of `batch`.
const SINGLE: Record<SegmentType, string> = { track: "t", page: "p", screen: "s", identify: "i", group: "g", alias: "a" };
const ROUTES = new Map<string, SegmentRoute>([
  ...["batch", "b", "import"].map((name): [string, SegmentRoute] => [name, { kind: "batch" }]),
  ["m", { kind: "library_metrics" }],
  ...Object.entries(SINGLE).flatMap(([type, short]) => {
    const route: SegmentRoute = { kind: "single", type: type as SegmentType };
    return [[type, route] as const, [short, route] as const];
  }),
]);

/** The route a `/v1/<name>` path names, or null: `segmentRoute("t")` is a single `track`. */
export function segmentRoute(name: string): SegmentRoute | null {
  return ROUTES.get(name) ?? null;
}

function parseJson(text: string): unknown {
  if (text.trim() === "") throw new HttpError(400, "empty_batch", "the body is empty");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
}

function keyOf(v: unknown): FoundKey | null {
  return isObject(v) && typeof v.writeKey === "string" && v.writeKey !== "" ? { key: v.writeKey, from: "body" } : null;
}

// Segment's libraries send `null` for a field they have no value for (analytics.js sends
// `userId: null` until identify); our events leave such a field out.
function withoutNulls(event: unknown): unknown {
  return isObject(event) ? without(event, null) : event;
}

/**
 * Translates a Segment HTTP API body (JSON text, already decompressed) into our events: a
 * single-event route's body is one event whose type the path decides; a batch is
 * `{batch, sentAt?, context?, writeKey?}`. The write key may ride in the body itself or, as
 * Segment's browser library sends batches, on the batch's events. Throws a 400 `HttpError`
 * for a body that is not a JSON object of that shape.
 * @example translateSegment('{"event":"Signed Up","userId":"u1","writeKey":"wk"}', { kind: "single", type: "track" })
 */
export function translateSegment(text: string, route: Exclude<SegmentRoute, { kind: "library_metrics" }>): DoorBatch {
  const body = parseJson(text);
  if (!isObject(body)) throw new HttpError(400, "invalid_body", "the body must be a JSON object");
  if (route.kind === "single") return { events: [{ ...(withoutNulls(body) as Record<string, unknown>), type: route.type }], envelope: {}, key: keyOf(body) };
  const parsed = BatchRequest.safeParse(body);
  if (!parsed.success) throw new HttpError(400, "invalid_body", zodMessage(parsed.error.issues));
  const { batch, sentAt, context } = parsed.data;
  return { events: batch.map(withoutNulls), envelope: { sentAt, context }, key: keyOf(body) ?? keyOf(batch[0]) };
}
