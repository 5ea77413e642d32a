import { z } from "zod";

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? fallback : Number(v)))
    .pipe(z.number().int().positive());

const ConfigSchema = z.object({
  CLICKHOUSE_URL: z.url(),
  CLICKHOUSE_DATABASE: z.string().min(1).default("default"),
  CLICKHOUSE_USER: z.string().optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  ADMIN_TOKEN: z.string().optional(),
  FLUSH_MAX_ROWS: positiveInt(2000),
  FLUSH_MAX_BYTES: positiveInt(1024 * 1024),
  FLUSH_MAX_AGE_MS: positiveInt(1000),
  BUFFER_MAX_ROWS: positiveInt(500_000),
  BUFFER_MAX_BYTES: positiveInt(256 * 1024 * 1024),
});

/** The Worker's and AppBatcher's settings, e.g. `config(env).flush.maxAgeMs === 1000`. */
export interface Config {
  clickhouse: { url: string; database: string; username: string; password: string };
  adminToken: string;
  flush: { maxRows: number; maxBytes: number; maxAgeMs: number };
  buffer: { maxRows: number; maxBytes: number };
}

const cache = new WeakMap<object, Config>();

/** Parses the Worker's bindings once per isolate; a wrong setting fails loudly with every problem named. */
export function config(env: object): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid Worker configuration: ${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  const result: Config = {
    clickhouse: { url: e.CLICKHOUSE_URL, database: e.CLICKHOUSE_DATABASE, username: e.CLICKHOUSE_USER || "default", password: e.CLICKHOUSE_PASSWORD ?? "" },
    adminToken: e.ADMIN_TOKEN ?? "",
    flush: { maxRows: e.FLUSH_MAX_ROWS, maxBytes: e.FLUSH_MAX_BYTES, maxAgeMs: e.FLUSH_MAX_AGE_MS },
    buffer: { maxRows: e.BUFFER_MAX_ROWS, maxBytes: e.BUFFER_MAX_BYTES },
  };
  cache.set(env, result);
  return result;
}
