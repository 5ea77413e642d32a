import { Hono } from "hono";
import { BatchRequest, EVENT_TYPES, LIMITS, type BatchResponse, type EventType } from "../../schemas";
import { createRedactor } from "../lib/redact";
import { HttpError } from "../lib/errors";
import { zodMessage } from "../lib/validate";
import { readBody } from "../ingest/body";
import { checkStoredSize, prepareBatch, type PreparedBatch } from "../ingest/pipeline";
import { countRejections, dispatch, recordRefusals } from "../ingest/dispatch";
import { parseTime } from "../ingest/skew";
import type { RequestFacts } from "../ingest/normalize";
import { authenticate, writeKeyFromHeaders, type AppAuth } from "./write-key";

function parseJson(text: string): unknown {
  if (text.trim() === "") throw new HttpError(400, "empty_batch", "the body is empty");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

interface ParsedRequest {
  events: unknown[];
  envelope: { sentAt?: string | number; context?: BatchRequest["context"]; writeKey?: string };
}

async function parseRequest(request: Request, routeType: EventType | null): Promise<ParsedRequest> {
  const body = parseJson(await readBody(request));
  if (!isObject(body)) throw new HttpError(400, "invalid_body", "the body must be a JSON object");
  if (routeType !== null) return { events: [{ ...body, type: routeType }], envelope: { writeKey: typeof body.writeKey === "string" ? body.writeKey : undefined } };
  const parsed = BatchRequest.safeParse(body);
  if (!parsed.success) throw new HttpError(400, "invalid_body", zodMessage(parsed.error.issues));
  return { events: parsed.data.batch, envelope: parsed.data };
}

function batchSizeError(events: readonly unknown[]): HttpError | null {
  if (events.length === 0) return new HttpError(400, "empty_batch", "the batch holds no events");
  if (events.length > LIMITS.maxBatchEvents) return new HttpError(413, "batch_too_large", `a batch holds at most ${LIMITS.maxBatchEvents} events`);
  return null;
}

async function ingest(request: Request, env: Env, ctx: ExecutionContext, routeType: EventType | null): Promise<BatchResponse> {
  const receivedAt = Date.now();
  const headerKey = writeKeyFromHeaders(request.headers);
  // A wrong key in a header is refused before the body is read.
  const early = headerKey ? await authenticate(env.DB, headerKey) : null;
  // A request refused whole once its app is known still counts in that app's pipeline
  // counters, off the answer's path; the events of an oversized batch count as rejected.
  const refused = (app: AppAuth, err: HttpError, events: number): void => {
    ctx.waitUntil(recordRefusals(env.APP_BATCHER, app, { refused: err.code, ...(events > 0 ? { rejected: { [err.code]: events } } : {}) }));
  };
  let parsed: ParsedRequest;
  try {
    parsed = await parseRequest(request, routeType);
  } catch (err) {
    if (early && err instanceof HttpError) refused(early, err, 0);
    throw err;
  }
  const { events, envelope } = parsed;
  const app = early ?? (await authenticate(env.DB, envelope.writeKey));
  const sizeError = batchSizeError(events);
  if (sizeError) {
    refused(app, sizeError, events.length);
    throw sizeError;
  }

  const cf = (request as { cf?: IncomingRequestCfProperties }).cf;
  const facts: RequestFacts = {
    appId: app.appId,
    receivedAt,
    sentAt: parseTime(envelope.sentAt),
    context: envelope.context,
    ip: request.headers.get("cf-connecting-ip") ?? "",
    userAgent: request.headers.get("user-agent") ?? "",
    geo: { country: cf?.country ?? "", region: cf?.region ?? "", city: cf?.city ?? "" },
    ipMode: app.policy.ip,
    redactor: createRedactor(app.policy, app.salt),
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
  const rejections = countRejections(prepared.rejected);
  let duplicates = 0;
  if (prepared.events.length > 0) ({ duplicates } = await dispatch(env.APP_BATCHER, app, prepared.events, rejections));
  else if (rejections) ctx.waitUntil(recordRefusals(env.APP_BATCHER, app, rejections));
  if (routeType !== null && prepared.rejected[0]) {
    const r = prepared.rejected[0];
    throw new HttpError(400, "invalid_body", r.message, {}, { rejected: prepared.rejected });
  }
  return { accepted: prepared.events.length, duplicates, rejected: prepared.rejected };
}

/** `POST /v1/batch` and the single-event routes `POST /v1/{track,page,screen,…}`. */
export const ingestRoutes = new Hono<{ Bindings: Env }>()
  .post("/batch", async (c) => c.json(await ingest(c.req.raw, c.env, c.executionCtx, null)))
  .post("/:type", async (c) => {
    const type = c.req.param("type");
    const known = (EVENT_TYPES as readonly string[]).includes(type);
    if (!known) throw new HttpError(404, "not_found", `no route POST /v1/${type}`);
    return c.json(await ingest(c.req.raw, c.env, c.executionCtx, type as EventType));
  });
