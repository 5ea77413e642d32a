import { Hono } from "hono";
import { BatchRequest, EVENT_TYPES, type EventType } from "../../schemas";
import { HttpError } from "../lib/errors";
import { zodMessage } from "../lib/validate";
import { readBody } from "../ingest/body";
import { arrivalOf, ingest, type DoorBatch } from "../ingest/ingest";
import { writeKeyFromHeaders } from "./write-key";

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

function bodyKey(body: Record<string, unknown>): DoorBatch["key"] {
  return typeof body.writeKey === "string" ? { key: body.writeKey, from: "body" } : null;
}

async function parseRequest(request: Request, routeType: EventType | null): Promise<DoorBatch> {
  const body = parseJson(await readBody(request));
  if (!isObject(body)) throw new HttpError(400, "invalid_body", "the body must be a JSON object");
  if (routeType !== null) return { events: [{ ...body, type: routeType }], envelope: {}, key: bodyKey(body) };
  const parsed = BatchRequest.safeParse(body);
  if (!parsed.success) throw new HttpError(400, "invalid_body", zodMessage(parsed.error.issues));
  return { events: parsed.data.batch, envelope: parsed.data, key: bodyKey(body) };
}

async function handle(request: Request, env: Env, ctx: ExecutionContext, routeType: EventType | null) {
  const arrival = arrivalOf(request);
  const headerKey = writeKeyFromHeaders(request.headers);
  const result = await ingest(
    { key: headerKey ? { key: headerKey, from: "header" } : null, read: () => parseRequest(request, routeType), arrival },
    { env, ctx },
  );
  // A single-event route answers its one event's rejection as the request's.
  if (routeType !== null && result.rejected[0]) {
    throw new HttpError(400, "invalid_body", result.rejected[0].message, {}, { rejected: result.rejected });
  }
  return result;
}

/** `POST /v1/batch` and the single-event routes `POST /v1/{track,page,screen,…}`. */
export const ingestRoutes = new Hono<{ Bindings: Env }>()
  .post("/batch", async (c) => c.json(await handle(c.req.raw, c.env, c.executionCtx, null)))
  .post("/:type", async (c) => {
    const type = c.req.param("type");
    const known = (EVENT_TYPES as readonly string[]).includes(type);
    if (!known) throw new HttpError(404, "not_found", `no route POST /v1/${type}`);
    return c.json(await handle(c.req.raw, c.env, c.executionCtx, type as EventType));
  });
