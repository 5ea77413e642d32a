import type { Grant } from "../../../workers/oauth/tokens";
import { readOrError } from "../queries/clickhouse.server";
import { apiError } from "./auth.server";

/**
 * Runs a view's reads and answers them as JSON, or 503 when ClickHouse did not answer. A read
 * that finds nothing (null) is a 404 with `missing` as its message.
 */
export async function answerView(grant: Grant, read: () => Promise<unknown>, about: Record<string, unknown>, missing = "not found"): Promise<Response> {
  const out = await readOrError(read);
  if (out.error !== null) return apiError(503, "unavailable", `${out.error} Try again in a moment.`, { "retry-after": "5" });
  if (out.data === null) return apiError(404, "not_found", missing);
  return new Response(JSON.stringify({ ...about, data: out.data }), { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "private, no-store", "x-client": grant.clientId } });
}
