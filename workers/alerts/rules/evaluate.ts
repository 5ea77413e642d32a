import type { ClickHouseClient } from "@clickhouse/client-web";
import type { AlertFilter, AlertMetric } from "../../../schemas";
import type { Measurement, RuleRef } from "./state";

// Reads each rule's metric for its window, which ends one settled minute before the evaluated
// minute `now` ([now - 1m - window, now - 1m)), and, for change rules, the window
// it is compared with. Reads are grouped by where they come from, so an app's rules cost one
// query per source however many there are: minute rollups for unfiltered counts and the
// pipeline, the hourly release-health rollup for crash-free rates (whole hours, the same
// numbers as the releases page), raw events (bounded by the app and the windows, the table's
// key) for users, network and perf percentiles and release or property filters, D1 for regressions
// (docs/decisions/0013-alert-evaluation.md).

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WEEK = 7 * 24 * 60 * MINUTE;
/** How long a minute is left to settle before it is read: events reach ClickHouse seconds after they happen, and a minute read too early would never be read again. */
export const SETTLE_MS = MINUTE;
const QUANTILE_INDEX = { p50: 1, p95: 2, p99: 3 } as const;

type Source = "minutely" | "raw" | "pipeline" | "lag" | "health" | "new_issue" | "regressed_issue";

interface Read {
  from: number;
  to: number;
  metric: AlertMetric;
  filter: AlertFilter;
}

/** Where a metric is read from, given its filter. */
export function sourceOf(metric: AlertMetric, filter: AlertFilter): Source {
  switch (metric.kind) {
    case "events":
    case "crashes":
      return filter.release !== undefined || filter.property !== undefined ? "raw" : "minutely";
    case "pipeline":
      return metric.counter === "lag_p95" ? "lag" : "pipeline";
    case "new_issue":
    case "regressed_issue":
      return metric.kind;
    case "crash_free_users":
    case "crash_free_sessions":
      return "health";
    default:
      return "raw";
  }
}

/** The windows a rule reads at minute `now`: its own, then the one a change is measured against. */
export function windowsOf(ref: RuleRef, now: number): Array<{ from: number; to: number }> {
  const w = ref.rule.window * MINUTE;
  const settled = now - SETTLE_MS;
  const to = sourceOf(ref.rule.metric, ref.rule.filter) === "health" ? settled - (settled % HOUR) : settled;
  const current = { from: to - w, to };
  const c = ref.rule.condition;
  if (c.type === "threshold") return [current];
  const shift = c.against === "previous" ? w : WEEK;
  return [current, { from: current.from - shift, to: current.to - shift }];
}

/** A query's SQL fragments and their parameters; values only ever go through `params`. */
class Sql {
  readonly params: Record<string, unknown> = {};
  private n = 0;
  param(type: string, value: unknown): string {
    const name = `p${this.n++}`;
    this.params[name] = value;
    return `{${name}:${type}}`;
  }
  range(column: string, r: { from: number; to: number }): string {
    return `(${column} >= fromUnixTimestamp64Milli(${this.param("Int64", r.from)}, 'UTC') AND ${column} < fromUnixTimestamp64Milli(${this.param("Int64", r.to)}, 'UTC'))`;
  }
}

function filterSql(sql: Sql, f: AlertFilter, minutely: boolean): string[] {
  const out: string[] = [];
  if (f.platform !== undefined) out.push(`platform = ${sql.param("String", f.platform)}`);
  if (f.country !== undefined) out.push(`country = ${sql.param("String", f.country)}`);
  if (f.event !== undefined) out.push(`event = ${sql.param("String", f.event)}`);
  if (minutely) return out;
  if (f.release !== undefined) out.push(`app_version = ${sql.param("String", f.release)}`);
  if (f.property !== undefined) {
    const key = sql.param("String", f.property.key);
    const value = sql.param("String", f.property.value);
    // Numbers and booleans compare by their JSON text, strings by their value.
    out.push(`(JSONExtractString(properties, ${key}) = ${value} OR JSONExtractRaw(properties, ${key}) = ${value})`);
  }
  return out;
}

const and = (parts: string[]): string => (parts.length === 0 ? "1" : parts.join(" AND "));
const USER = "if(user_id != '', user_id, anonymous_id)";
// The same outcome the network rollup stores, so the alert and the network view agree.
const OUTCOME = "if(net_outcome != '', toString(net_outcome), multiIf(net_status >= 500, 'server_error', net_status >= 400, 'client_error', net_status > 0, 'ok', 'failed'))";

/** Two numbers per read, `a` and `b`; what they mean depends on the metric (see `measure`). */
function aggregates(sql: Sql, read: Read, source: Source): [string, string] {
  const m = read.metric;
  if (source === "minutely") {
    const parts = [sql.range("minute", read), ...filterSql(sql, read.filter, true)];
    if (m.kind === "crashes") parts.push("type = 'crash'");
    if (m.kind === "events" && m.type !== undefined) parts.push(`type = ${sql.param("String", m.type)}`);
    if (m.kind === "events" && m.name !== undefined) parts.push(`event = ${sql.param("String", m.name)}`);
    const a = `toFloat64(sumIf(events, ${and(parts)}))`;
    return [a, a];
  }
  if (source === "health") {
    const parts = [sql.range("hour", read)];
    if (read.filter.release !== undefined) parts.push(`app_version = ${sql.param("String", read.filter.release)}`);
    const cond = and(parts);
    // As the releases page counts them: Sentry's session aggregates add to our sessions.
    if (m.kind === "crash_free_sessions") {
      return [`toFloat64(uniqMergeIf(sessions, ${cond}) + sumIf(agg_sessions, ${cond}))`, `toFloat64(uniqMergeIf(crashed_sessions, ${cond}) + sumIf(agg_crashed, ${cond}))`];
    }
    return [`toFloat64(uniqMergeIf(users, ${cond}))`, `toFloat64(uniqMergeIf(crashed_users, ${cond}))`];
  }
  if (source === "pipeline" || source === "lag") {
    const parts = [sql.range("minute", read)];
    if (source === "lag") return [`toFloat64(countIf(${and(parts)}))`, `quantilesTDigestMergeIf(0.5, 0.95)(lag, ${and(parts)})[2]`];
    if (m.kind === "pipeline") parts.push(`stage = ${sql.param("String", m.counter)}`);
    const a = `toFloat64(sumIf(n, ${and(parts)}))`;
    return [a, a];
  }
  const parts = [sql.range("timestamp", read), ...filterSql(sql, read.filter, false)];
  const where = (...more: string[]): string => and([...parts, ...more]);
  switch (m.kind) {
    case "events": {
      const more: string[] = [];
      if (m.type !== undefined) more.push(`type = ${sql.param("String", m.type)}`);
      if (m.name !== undefined) more.push(`event = ${sql.param("String", m.name)}`);
      const a = `toFloat64(countIf(${where(...more)}))`;
      return [a, a];
    }
    case "crashes": {
      const a = `toFloat64(countIf(${where("type = 'crash'")}))`;
      return [a, a];
    }
    case "users": {
      // uniq, as the users view counts them: exact for small counts, bounded memory for a day of a busy app.
      const a = `toFloat64(uniqIf(${USER}, ${where()}))`;
      return [a, a];
    }
    case "network_error_rate":
    case "network_latency": {
      const more = ["type = 'network'"];
      if (m.endpoint !== undefined) {
        more.push(`net_method = ${sql.param("String", m.endpoint.method)}`, `net_host = ${sql.param("String", m.endpoint.host)}`);
        more.push(`if(net_template != '', net_template, net_path) = ${sql.param("String", m.endpoint.template)}`);
      }
      const count = `toFloat64(countIf(${where(...more)}))`;
      if (m.kind === "network_error_rate") return [count, `toFloat64(countIf(${where(...more, `${OUTCOME} != 'ok'`)}))`];
      return [count, `quantilesExactIf(0.5, 0.95, 0.99)(duration_ms, ${where(...more)})[${sql.param("UInt8", QUANTILE_INDEX[m.percentile])}]`];
    }
    case "perf": {
      const more = ["type = 'perf'", `perf_metric = ${sql.param("String", m.name)}`];
      return [`toFloat64(countIf(${where(...more)}))`, `quantilesExactIf(0.5, 0.95, 0.99)(perf_value, ${where(...more)})[${sql.param("UInt8", QUANTILE_INDEX[m.percentile])}]`];
    }
    default:
      throw new Error(`metric ${m.kind} is not read from events`);
  }
}

/** The measurement a read's two numbers make. */
export function measure(metric: AlertMetric, a: number, b: number): Measurement {
  switch (metric.kind) {
    case "crash_free_users":
    case "crash_free_sessions":
      return { value: a > 0 ? 100 * Math.max(0, 1 - b / a) : null, samples: a };
    case "network_error_rate":
      return { value: a > 0 ? (100 * b) / a : null, samples: a };
    case "network_latency":
    case "perf":
      return { value: a > 0 && Number.isFinite(b) ? b : null, samples: a };
    case "pipeline":
      if (metric.counter === "lag_p95") return { value: a > 0 && Number.isFinite(b) ? b : null, samples: a };
      return { value: a, samples: a };
    default:
      return { value: a, samples: a };
  }
}

const TABLES: Record<"minutely" | "raw" | "pipeline" | "lag" | "health", { table: string; time: string }> = {
  health: { table: "release_health_hourly", time: "hour" },
  minutely: { table: "events_minutely", time: "minute" },
  raw: { table: "events", time: "timestamp" },
  pipeline: { table: "pipeline_minutely", time: "minute" },
  lag: { table: "pipeline_lag_minutely", time: "minute" },
};

/** The one event type a raw read looks at, if it has one: when every read of a query has one, the table's key skips the other types. */
function typeOf(m: AlertMetric): string | null {
  switch (m.kind) {
    case "events":
      return m.type ?? null;
    case "crashes":
      return "crash";
    case "network_error_rate":
    case "network_latency":
      return "network";
    case "perf":
      return "perf";
    default:
      return null;
  }
}

const num = (v: unknown): number => (typeof v === "number" ? v : v === null || v === undefined ? Number.NaN : Number(v));

async function readTable(client: ClickHouseClient, appId: string, source: keyof typeof TABLES, reads: Read[]): Promise<Measurement[]> {
  const sql = new Sql();
  const { table, time } = TABLES[source];
  const columns = reads.flatMap((r, i) => {
    const [a, b] = aggregates(sql, r, source);
    return [`${a} AS a${i}`, `${b} AS b${i}`];
  });
  const spans = new Map(reads.map((r) => [`${r.from}:${r.to}`, r]));
  const where = [`app_id = ${sql.param("String", appId)}`, `(${[...spans.values()].map((r) => sql.range(time, r)).join(" OR ")})`];
  const types = reads.map((r) => typeOf(r.metric));
  if (source === "raw" && types.every((t) => t !== null)) where.push(`type IN ${sql.param("Array(String)", [...new Set(types)])}`);
  const rs = await client.query({
    query: `SELECT ${columns.join(", ")} FROM ${table} WHERE ${where.join(" AND ")}`,
    query_params: sql.params,
    format: "JSONEachRow",
  });
  const [row] = await rs.json<Record<string, unknown>>();
  return reads.map((r, i) => measure(r.metric, num(row?.[`a${i}`] ?? 0), num(row?.[`b${i}`])));
}

async function readNewIssues(client: ClickHouseClient, appId: string, r: Read): Promise<Measurement> {
  const sql = new Sql();
  const app = sql.param("String", appId);
  const inWindow = sql.range("timestamp", r);
  const filters = filterSql(sql, r.filter, false);
  const from = sql.param("Int64", r.from);
  const to = sql.param("Int64", r.to);
  // An issue is new when its first crash ever falls in the window; only issues seen in the window can be.
  const rs = await client.query({
    query: `SELECT count() AS n FROM (
              SELECT fingerprint, min(first_seen) AS first FROM crash_issues_hourly
              WHERE app_id = ${app} AND fingerprint IN (
                SELECT DISTINCT crash_fingerprint FROM events WHERE ${and([`app_id = ${app}`, "type = 'crash'", inWindow, ...filters])})
              GROUP BY fingerprint
              HAVING first >= fromUnixTimestamp64Milli(${from}, 'UTC') AND first < fromUnixTimestamp64Milli(${to}, 'UTC'))`,
    query_params: sql.params,
    format: "JSONEachRow",
  });
  const [row] = await rs.json<{ n: number | string }>();
  const n = num(row?.n ?? 0);
  return { value: n, samples: n };
}

async function readRegressions(db: D1Database, appId: string, r: Read): Promise<Measurement> {
  const row = await db
    .prepare("SELECT COUNT(DISTINCT fingerprint) AS n FROM crash_issue_history WHERE app_id = ? AND status = 'regressed' AND at >= ? AND at < ?")
    .bind(appId, r.from, r.to)
    .first<{ n: number }>();
  const n = row?.n ?? 0;
  return { value: n, samples: n };
}

/** Measures every rule of one app at minute `now`: one query per source, not per rule. */
export async function measureRules(deps: { db: D1Database; client: ClickHouseClient }, appId: string, refs: readonly RuleRef[], now: number): Promise<Measurement[]> {
  const reads = refs.map((ref) => windowsOf(ref, now).map((w) => ({ ...w, metric: ref.rule.metric, filter: ref.rule.filter })));
  const bySource = new Map<Source, Array<{ rule: number; slot: number; read: Read }>>();
  reads.forEach((rs, rule) =>
    rs.forEach((read, slot) => {
      const source = sourceOf(read.metric, read.filter);
      const list = bySource.get(source) ?? [];
      list.push({ rule, slot, read });
      bySource.set(source, list);
    }),
  );
  const results = reads.map((rs) => rs.map((): Measurement => ({ value: null, samples: 0 })));
  await Promise.all(
    [...bySource.entries()].map(async ([source, items]) => {
      let got: Measurement[];
      if (source === "new_issue") got = await Promise.all(items.map((it) => readNewIssues(deps.client, appId, it.read)));
      else if (source === "regressed_issue") got = await Promise.all(items.map((it) => readRegressions(deps.db, appId, it.read)));
      else got = await readTable(deps.client, appId, source, items.map((it) => it.read));
      items.forEach((it, i) => {
        const m = got[i];
        const slots = results[it.rule];
        if (m !== undefined && slots !== undefined) slots[it.slot] = m;
      });
    }),
  );
  return results.map((slots) => {
    const [current, baseline] = slots;
    const m: Measurement = current ?? { value: null, samples: 0 };
    return baseline === undefined ? m : { ...m, baseline: baseline.value };
  });
}
