// The dashboard's bindings, parsed once per isolate and failing loudly when one is missing or,
// in a deployed environment, when it is one that only works on a developer's machine.
import { z } from "zod";
import { deployedConfigProblems, isDevelopment } from "../../schemas";
import { patientD1 } from "../../schemas/local-d1";

const Vars = z.object({
  SESSION_SECRET: z.string().min(32, "SESSION_SECRET must be at least 32 characters (wrangler pages secret put SESSION_SECRET)"),
  CLICKHOUSE_URL: z.url(),
  CLICKHOUSE_DATABASE: z.string().min(1).default("default"),
  CLICKHOUSE_USER: z.string().optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  // Empty means unset; a short one could be guessed before the owner signs up.
  SETUP_TOKEN: z.union([z.literal(""), z.string().min(16, "SETUP_TOKEN must be at least 16 characters")]).optional(),
});

/** What loaders and actions use: the D1 database and the parsed variables. */
export interface DashboardEnv {
  db: D1Database;
  sessionSecret: string;
  clickhouse: { url: string; database: string; username?: string; password?: string };
  /** `ENVIRONMENT=development`: `npm start` and the tests. */
  development: boolean;
  /** The one-time secret the first sign-up must present when deployed; null when none is set. */
  setupToken: string | null;
}

/** The raw bindings as Pages passes them (see worker-configuration.d.ts). */
export interface RawEnv {
  DB: D1Database;
  [name: string]: unknown;
}

const cache = new WeakMap<object, DashboardEnv>();

export function dashboardEnv(raw: RawEnv): DashboardEnv {
  const hit = cache.get(raw);
  if (hit) return hit;
  const parsed = Vars.safeParse(raw);
  const development = isDevelopment(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  if (!development) problems.push(...deployedConfigProblems(raw));
  if (!parsed.success || problems.length > 0) throw new Error(`dashboard configuration: ${problems.join("; ")}`);
  const v = parsed.data;
  const env: DashboardEnv = {
    db: development ? patientD1(raw.DB) : raw.DB,
    sessionSecret: v.SESSION_SECRET,
    clickhouse: { url: v.CLICKHOUSE_URL, database: v.CLICKHOUSE_DATABASE, username: v.CLICKHOUSE_USER || undefined, password: v.CLICKHOUSE_PASSWORD || undefined },
    development,
    setupToken: v.SETUP_TOKEN || null,
  };
  cache.set(raw, env);
  return env;
}
