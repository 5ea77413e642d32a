import { LIMITS, type BatchResponse } from "../../schemas";
import { authenticate, type AppAuth } from "../apps/auth";
import { archiveBucket } from "../apps/location";
import { HttpError } from "../lib/errors";
import { createRedactor } from "../lib/redact";
import { dropSuppressed, suppressedIds, withSuppressed } from "../privacy/suppression";
import { countRejections, dispatch, recordRefusals } from "./dispatch";
import type { RequestFacts } from "./normalize";
import { checkStoredSize, prepareBatch, type PreparedBatch } from "./pipeline";
import { parseTime } from "./skew";
import { loadSymbolicator } from "./symbolicate";

/** Where a door found a write key: it says which place to fix in a 401. */
export type KeySource = "header" | "query" | "body";

/** A write key as a door found it. */
export interface FoundKey {
  key: string;
  from: KeySource;
}

/** What a door translated a request body into: our raw events and their envelope. */
export interface DoorBatch {
  /** Events in our wire shape, unvalidated: each is checked alone, and a bad one is rejected alone. */
  events: unknown[];
  /** `sentAt` drives clock-skew correction; `context` is merged under each event's own. */
  envelope: { sentAt?: string | number; context?: Record<string, unknown> };
  /** A key the body carried (Segment's `writeKey`, PostHog's `api_key`), used when no earlier one was found. */
  key?: FoundKey | null;
}

/** What the edge knows about a request before reading its body. */
export interface Arrival {
  receivedAt: number;
  ip: string;
  userAgent: string;
  geo: { country: string; region: string; city: string };
}

/** The request facts every door passes on: receive time, `CF-Connecting-IP`, user agent, `request.cf` geo. */
export function arrivalOf(request: Request, receivedAt: number = Date.now()): Arrival {
  const cf = (request as { cf?: IncomingRequestCfProperties }).cf;
  return {
    receivedAt,
    ip: request.headers.get("cf-connecting-ip") ?? "",
    userAgent: request.headers.get("user-agent") ?? "",
    geo: { country: cf?.country ?? "", region: cf?.region ?? "", city: cf?.city ?? "" },
  };
}

/** One request at a door, handed to `ingest`. */
export interface IngestRequest {
  /**
   * A key found outside the body (Basic auth, `X-Write-Key`, `?sentry_key=`…), or null. A wrong
   * one is refused before the body is read; it wins over a key in the body.
   */
  key: FoundKey | null;
  /**
   * Reads and translates the body. Called once, after the early key check. It throws
   * `HttpError` for a body the protocol cannot read (400/413/415); such a refusal is counted in
   * the app's pipeline counters when the app is already known.
   */
  read: () => Promise<DoorBatch>;
  arrival: Arrival;
}

/** The bindings and execution context `ingest` needs. */
export interface IngestEnv {
  env: Pick<Env, "DB" | "APP_BATCHER" | "ARCHIVE" | "ARCHIVE_EU">;
  ctx: Pick<ExecutionContext, "waitUntil">;
}

/**
 * The one ingest use case behind every intake door (our wire contract, Segment, PostHog,
 * Sentry): authenticates once, applies the batch limits, validates, redacts, enriches and
 * corrects clock skew per event (`prepareBatch`), hands the events to the app's batchers
 * (dedup, exactly-once) and counts refusals in the app's pipeline counters.
 *
 * Returns `{accepted, duplicates, rejected}`: one bad event is rejected alone with its index.
 * Throws `HttpError` for a refusal of the whole request, which a door renders in its
 * protocol's shape, passing on `err.headers`:
 * - 400 `empty_batch` / `invalid_body` (empty batch, bad batch context),
 * - 401 `unauthorized` (no key, unknown or revoked key, deleted app),
 * - 413 `batch_too_large` (more than 2,500 events, or too large as stored),
 * - 429 `rate_limited` and 503 `buffer_full` / `unavailable`, both with `Retry-After` (seconds),
 * - and whatever `read` throws.
 *
 * @example
 * const result = await ingest(
 *   { key: headerKey ? { key: headerKey, from: "header" } : null, read: async () => translate(await readBody(request)), arrival: arrivalOf(request) },
 *   { env: c.env, ctx: c.executionCtx },
 * );
 */
export async function ingest(req: IngestRequest, { env, ctx }: IngestEnv): Promise<BatchResponse> {
  // A wrong key outside the body is refused before the body is read.
  const early = req.key ? await authenticateFound(env.DB, req.key) : null;
  // A request refused whole once its app is known still counts in that app's pipeline
  // counters, off the answer's path; the events of an oversized batch count as rejected.
  const refused = (app: AppAuth, err: HttpError, events: number): void => {
    ctx.waitUntil(recordRefusals(env, app, { refused: err.code, ...(events > 0 ? { rejected: { [err.code]: events } } : {}) }));
  };
  let batch: DoorBatch;
  try {
    batch = await req.read();
  } catch (err) {
    if (early && err instanceof HttpError) refused(early, err, 0);
    throw err;
  }
  const { events, envelope } = batch;
  const app = early ?? (await authenticateFound(env.DB, batch.key ?? null));
  const sizeError = batchSizeError(events);
  if (sizeError) {
    refused(app, sizeError, events.length);
    throw sizeError;
  }

  const { arrival } = req;
  const facts: RequestFacts = {
    appId: app.appId,
    receivedAt: arrival.receivedAt,
    sentAt: parseTime(envelope.sentAt),
    context: envelope.context,
    ip: arrival.ip,
    userAgent: arrival.userAgent,
    geo: arrival.geo,
    ipMode: app.policy.ip,
    redactor: createRedactor(app.policy, app.salt),
    crashRules: app.crashRules,
    urlTemplates: app.urlTemplates,
    // Before normalization: crashes are grouped by their source-mapped frames.
    symbolicate: await loadSymbolicator(archiveBucket(env, app.location), app.appId, events, envelope.context),
  };
  let prepared: PreparedBatch;
  try {
    prepared = prepareBatch(events, facts);
  } catch (err) {
    if (err instanceof HttpError) refused(app, err, events.length);
    throw err;
  }
  const storedError = checkStoredSize(prepared);
  if (storedError) {
    refused(app, storedError, events.length);
    throw storedError;
  }
  // A deleted person's events are answered as accepted, then dropped and counted (workers/privacy).
  const sent = prepared.events.length;
  const suppressed = dropSuppressed(await suppressedIds(env.DB, app.appId), prepared.events);
  prepared = { ...prepared, events: suppressed.kept };
  const rejections = withSuppressed(countRejections(prepared.rejected), suppressed.dropped);
  let duplicates = 0;
  if (prepared.events.length > 0) ({ duplicates } = await dispatch(env, app, prepared.events, rejections));
  else if (rejections) ctx.waitUntil(recordRefusals(env, app, rejections));
  return { accepted: sent, duplicates, rejected: prepared.rejected };
}

const PLACES: Record<KeySource, string> = { header: "in a header", query: "in the query string", body: "in the body" };

// The 401 names where the refused key was found, so a client configured in two places learns which one is wrong.
async function authenticateFound(db: D1Database, found: FoundKey | null): Promise<AppAuth> {
  try {
    return await authenticate(db, found?.key);
  } catch (err) {
    if (found && err instanceof HttpError && err.status === 401) throw new HttpError(401, err.code, `${err.message} (${PLACES[found.from]})`, err.headers);
    throw err;
  }
}

function batchSizeError(events: readonly unknown[]): HttpError | null {
  if (events.length === 0) return new HttpError(400, "empty_batch", "the batch holds no events");
  if (events.length > LIMITS.maxBatchEvents) return new HttpError(413, "batch_too_large", `a batch holds at most ${LIMITS.maxBatchEvents} events`);
  return null;
}
