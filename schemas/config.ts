import { z } from "zod";
// The published local defaults, so a deployment can refuse them; this puts dev/local.ts in the
// Worker's and the dashboard's bundles, so it must stay free of Node imports.
import { LOCAL_ADMIN_TOKEN, LOCAL_DASHBOARD_URL, LOCAL_OAUTH_KEY_SECRET, LOCAL_SESSION_SECRET } from "../dev/local";

const intSetting = (fallback: number, valid: z.ZodNumber) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? fallback : Number(v)))
    .pipe(valid);
const positiveInt = (fallback: number) => intSetting(fallback, z.number().int().positive());
// For limits that 0 switches off.
const nonNegativeInt = (fallback: number) => intSetting(fallback, z.number().int().nonnegative());

/** When a shard is busy, unless the deployment sets otherwise (decision records 0035, 0038, 0039). */
export const DEFAULT_HOT_SHARD = { eventsPerSecond: 10_000, deviceCallsPerSecond: 500, windowMs: 60_000 } as const;
/** How long a shard call that comes close behind another waits for more, and the most calls stored together (decision record 0040). */
export const DEFAULT_CALL_GROUP = { windowMs: 4, maxCalls: 32 } as const;

const ConfigSchema = z.object({
  ENVIRONMENT: z.string().optional(),
  CLICKHOUSE_URL: z.url(),
  CLICKHOUSE_DATABASE: z.string().min(1).default("default"),
  CLICKHOUSE_USER: z.string().optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  ADMIN_TOKEN: z.string().optional(),
  // Seals the OAuth signing keys kept in D1 (workers/oauth/signing-keys.ts); unset, /oauth/token is off.
  OAUTH_KEY_SECRET: z.string().min(32, "OAUTH_KEY_SECRET must be at least 32 characters").optional(),
  // Alert webhooks link back to the dashboard's pages.
  DASHBOARD_URL: z.url({ error: "DASHBOARD_URL must be the dashboard's address, e.g. https://telemetry.example.com" }).optional(),
  FLUSH_MAX_ROWS: positiveInt(2000),
  FLUSH_MAX_BYTES: positiveInt(1024 * 1024),
  FLUSH_MAX_AGE_MS: positiveInt(1000),
  BUFFER_MAX_ROWS: positiveInt(500_000),
  BUFFER_MAX_BYTES: positiveInt(256 * 1024 * 1024),
  BUFFER_STALE_MS: positiveInt(5 * 60 * 1000),
  // A device in a crash loop sends the same crash as fast as it restarts, often several a
  // second: 60 a minute still shows the issue's shape over time (one a second) while keeping a
  // loop from costing more than a busy issue. 1,000 a minute for the whole app leaves room for
  // about 16 issues at their cap at once, far more than a healthy app sees, and bounds what a
  // bad release can write: at most 1.44 million crash rows a day per app.
  CRASH_ISSUE_CAP_PER_MINUTE: nonNegativeInt(60),
  CRASH_APP_CAP_PER_MINUTE: nonNegativeInt(1000),
  // Confirmed ids wait this long in a shard's exact tier before they move to its dedup filters
  // in one go: each move rewrites the filter pages it touches, so fewer, larger moves write less.
  DEDUP_MERGE_AFTER_MS: nonNegativeInt(60_000),
  // A shard busier than this on average over the window raises its app's shard count, for apps
  // that leave automatic sharding on (decision record 0035). Dedup's filters are sized for
  // 10,000 events/s a shard (bench:dedup): half that leaves room for the day a new count stays.
  SHARD_HOT_EVENTS_PER_S: nonNegativeInt(DEFAULT_HOT_SHARD.eventsPerSecond),
  // Or busier than this in calls that each carry one device's events (decision record 0039):
  // half the ~1,000 requests/s a Durable Object takes, for apps whose requests hold few events.
  SHARD_HOT_CALLS_PER_S: nonNegativeInt(DEFAULT_HOT_SHARD.deviceCallsPerSecond),
  SHARD_HOT_WINDOW_MS: positiveInt(DEFAULT_HOT_SHARD.windowMs),
  // A shard call that comes within this many ms of the one before waits up to as long for
  // others, and they are stored in one transaction and one chunk row (decision record 0040);
  // 0 stores each call on its own. A group is stored at once when it holds CALL_GROUP_MAX_CALLS.
  CALL_GROUP_MS: nonNegativeInt(DEFAULT_CALL_GROUP.windowMs),
  CALL_GROUP_MAX_CALLS: positiveInt(DEFAULT_CALL_GROUP.maxCalls),
  // Event queues apps are spread over (bindings EVENTS_QUEUE, EVENTS_QUEUE_1, …): workers/queue/route.ts.
  EVENTS_QUEUES: positiveInt(1),
  // How long an isolate serves an app's flags and configuration before it checks for a change
  // (workers/flags/serve.ts): the most a change takes to reach devices' next request.
  FLAGS_RECHECK_MS: positiveInt(5000),
});

/** The Worker's and AppBatcher's settings, e.g. `config(env).flush.maxAgeMs === 1000`. */
export interface Config {
  clickhouse: { url: string; database: string; username: string; password: string };
  adminToken: string;
  /** What seals the OAuth signing keys; "" when OAuth is off. On a developer's machine, the published local one unless set. */
  oauthKeySecret: string;
  /** Where the dashboard is, without a trailing slash: webhooks link to its pages. */
  dashboardUrl: string;
  flush: { maxRows: number; maxBytes: number; maxAgeMs: number };
  /** `staleMs`: a shard whose oldest buffered event is older is reported unhealthy. */
  buffer: { maxRows: number; maxBytes: number; staleMs: number };
  /** Crashes kept per minute, per fingerprint (`perIssue`) and for the whole app (`perApp`); 0 means no cap. */
  crashCaps: { perIssue: number; perApp: number };
  /** `mergeAfterMs`: how long confirmed ids wait in a shard's exact tier before they move to its filters (decision record 0021). */
  dedup: { mergeAfterMs: number };
  /** When a shard is busy enough to raise its app's shard count (workers/apps/shards.ts); a mark of 0 is off. */
  hotShard: { eventsPerSecond: number; deviceCallsPerSecond: number; windowMs: number };
  /** How a busy shard stores calls that come together (durable-objects/call-group.ts); a window of 0 is off. */
  callGroup: { windowMs: number; maxCalls: number; maxRows: number };
  /** How many event queues apps are spread over (one carries at most 5,000 messages/s). */
  eventQueues: number;
  /** How long an isolate serves an app's flags before checking D1 for a change (decision record 0023). */
  flagsRecheckMs: number;
}

/** A configuration the Worker or the dashboard must not run with; its message names every problem. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * `ENVIRONMENT=development` marks a developer's machine (`npm start`, the tests); unset or any
 * other value is a deployed environment, so a forgotten variable errs on the strict side.
 */
export const isDevelopment = (env: object): boolean => "ENVIRONMENT" in env && env.ENVIRONMENT === "development";

const LOOPBACK_V6 = /^(?:\[(?:::1?|::ffff:(?:7f[0-9a-f]{2}:[0-9a-f]{1,4}|0:0))\])$/;

/** True for a URL whose host is this machine: 127.0.0.0/8, 0.0.0.0, ::1, localhost and *.localhost. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, "");
  } catch {
    return false;
  }
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === "0.0.0.0" || host === "localhost" || host.endsWith(".localhost") || LOOPBACK_V6.test(host);
}

/** Secrets whose local development value is published in this repository. */
const LOCAL_DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ["ADMIN_TOKEN", LOCAL_ADMIN_TOKEN],
  ["SESSION_SECRET", LOCAL_SESSION_SECRET],
  ["OAUTH_KEY_SECRET", LOCAL_OAUTH_KEY_SECRET],
];

/**
 * What a deployed Worker or dashboard must not run with: a ClickHouse on loopback (nothing
 * listens there on Cloudflare, so every insert would fail and retry for hours), no ClickHouse
 * credentials, or a secret left at the repository's local default. Empty when all is well.
 */
export function deployedConfigProblems(env: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const url = env.CLICKHOUSE_URL;
  if (typeof url === "string" && isLoopbackUrl(url)) {
    problems.push("CLICKHOUSE_URL points at loopback, where no ClickHouse runs once deployed: set it to your ClickHouse's https endpoint");
  }
  for (const name of ["CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD"]) {
    if (typeof env[name] !== "string" || env[name] === "") problems.push(`${name} is not set: add it as a secret`);
  }
  for (const [name, local] of LOCAL_DEFAULTS) {
    if (env[name] === local) problems.push(`${name} is the local development default published in this repository: set a secret of your own`);
  }
  return problems;
}

const cache = new WeakMap<object, Config>();

/**
 * Parses the Worker's bindings once per isolate. A wrong setting, or one a deployed Worker must
 * not run with, throws a ConfigError naming every problem, so each request, queue batch and cron
 * run fails with that message instead of retrying against a ClickHouse that is not there.
 */
export function config(env: object): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  const problems = parsed.success ? [] : z.prettifyError(parsed.error).split("\n");
  const vars = env as Readonly<Record<string, unknown>>;
  if (!isDevelopment(vars)) {
    problems.push(...deployedConfigProblems(vars));
    if (typeof vars.DASHBOARD_URL !== "string" || vars.DASHBOARD_URL === "") problems.push("DASHBOARD_URL is not set: alert webhooks link to the dashboard, so set it to the dashboard's https address");
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(`invalid Worker configuration: ${problems.join("; ")}`);
  const e = parsed.data;
  const result: Config = {
    clickhouse: { url: e.CLICKHOUSE_URL, database: e.CLICKHOUSE_DATABASE, username: e.CLICKHOUSE_USER || "default", password: e.CLICKHOUSE_PASSWORD ?? "" },
    adminToken: e.ADMIN_TOKEN ?? "",
    oauthKeySecret: e.OAUTH_KEY_SECRET ?? (isDevelopment(vars) ? LOCAL_OAUTH_KEY_SECRET : ""),
    dashboardUrl: (e.DASHBOARD_URL ?? LOCAL_DASHBOARD_URL).replace(/\/+$/, ""),
    flush: { maxRows: e.FLUSH_MAX_ROWS, maxBytes: e.FLUSH_MAX_BYTES, maxAgeMs: e.FLUSH_MAX_AGE_MS },
    buffer: { maxRows: e.BUFFER_MAX_ROWS, maxBytes: e.BUFFER_MAX_BYTES, staleMs: e.BUFFER_STALE_MS },
    crashCaps: { perIssue: e.CRASH_ISSUE_CAP_PER_MINUTE, perApp: e.CRASH_APP_CAP_PER_MINUTE },
    dedup: { mergeAfterMs: e.DEDUP_MERGE_AFTER_MS },
    hotShard: { eventsPerSecond: e.SHARD_HOT_EVENTS_PER_S, deviceCallsPerSecond: e.SHARD_HOT_CALLS_PER_S, windowMs: e.SHARD_HOT_WINDOW_MS },
    callGroup: { windowMs: e.CALL_GROUP_MS, maxCalls: e.CALL_GROUP_MAX_CALLS, maxRows: e.FLUSH_MAX_ROWS },
    eventQueues: e.EVENTS_QUEUES,
    flagsRecheckMs: e.FLAGS_RECHECK_MS,
  };
  cache.set(env, result);
  return result;
}
