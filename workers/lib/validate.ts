import type { z } from "zod";
import { HttpError } from "./errors";

/** The first zod issue as one line: `batch: expected array, received string`. */
export function zodMessage(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const first = issues[0];
  if (!first) return "invalid body";
  return first.path.length > 0 ? `${first.path.map(String).join(".")}: ${first.message}` : first.message;
}

/** Reads a small JSON request body and validates it, answering 400 in the API's error shape. */
export async function jsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await request.json();
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, "invalid_body", zodMessage(parsed.error.issues));
  return parsed.data;
}
