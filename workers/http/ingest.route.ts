import { Hono } from "hono";
import { HttpError } from "../lib/errors";
import { readBody } from "../ingest/body";
import { arrivalOf, ingest } from "../ingest/ingest";
import { segmentRoute, translateSegment, type SegmentRoute } from "../intake/segment/segment";
import { writeKeyFromHeaders } from "./write-key";

async function handle(request: Request, env: Env, ctx: ExecutionContext, route: Exclude<SegmentRoute, { kind: "library_metrics" }>) {
  const arrival = arrivalOf(request);
  const headerKey = writeKeyFromHeaders(request.headers);
  const result = await ingest(
    { key: headerKey ? { key: headerKey, from: "header" } : null, read: async () => translateSegment(await readBody(request), route), arrival },
    { env, ctx },
  );
  // A single-event route answers its one event's rejection as the request's.
  if (route.kind === "single" && result.rejected[0]) {
    throw new HttpError(400, "invalid_body", result.rejected[0].message, {}, { rejected: result.rejected });
  }
  return result;
}

/**
 * Our wire contract, which is Segment's HTTP API: `POST /v1/batch` (also `/v1/b` and
 * `/v1/import`) and the single-event routes `POST /v1/{track,page,screen,identify,group,alias}`
 * with their short forms `/v1/{t,p,s,i,g,a}`; `/v1/m`, where Segment's browser library reports on
 * itself, is answered and dropped.
 */
export const ingestRoutes = new Hono<{ Bindings: Env }>().post("/:name", async (c) => {
  const name = c.req.param("name");
  const route = segmentRoute(name);
  if (!route) throw new HttpError(404, "not_found", `no route POST /v1/${name}`);
  if (route.kind === "library_metrics") return c.json({});
  return c.json(await handle(c.req.raw, c.env, c.executionCtx, route));
});
